"""A built wheel (not an editable install) runs from any folder: tasks/ and recipes/ travel
inside it as package data. The fresh venv reuses the running env's packages (torch etc.) via a
.pth file, so the test needs no network and installs only vold itself."""
import json
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)
    assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r


@pytest.mark.slow
def test_wheel_installs_and_evaluates_from_another_folder(tmp_path):
    t0 = time.perf_counter()
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
          "-w", str(tmp_path / "dist"), str(REPO)])
    wheel = next((tmp_path / "dist").glob("vold-*.whl"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # after the venv's own site-packages on sys.path, so the wheel's vold wins over any
    # editable vold of the running env
    (Path(site) / "_host_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
          "--ignore-installed", "--no-index", str(wheel)])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run([str(venv / "bin" / "vold"), "eval", "--bench", "toy", "--model", "toy-student",
              "--limit", "5", "--max-new-tokens", "48"], cwd=elsewhere)
    res = json.loads((elsewhere / "results" / "toy-student" / "toy-test" / "results.json").read_text())
    assert res["n"] == 5 and res["n_errors"] == 0 and res["git_sha"] == "unknown"
    r = _run([str(py), "-c", "import vold_bench, vold_train.config as c; print(vold_bench.__file__); "
              "print(c.load_recipe('paper/vold').name)"], cwd=elsewhere)
    assert r.stdout.splitlines()[0].startswith(site)
    r = _run([str(venv / "bin" / "vold"), "list"], cwd=elsewhere)
    assert "mathvision" in r.stdout and "paper/vold" in r.stdout
    print(f"\nwheel {wheel.name}: built, installed and evaluated in {time.perf_counter() - t0:.1f}s")
