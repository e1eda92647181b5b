import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def shared_root() -> Path:
    return Path(os.environ.get("VOLD_SHARED") or REPO.parent / "shared")


@pytest.fixture(scope="session")
def bench_dir():
    d = shared_root() / "benchmarks"
    if not d.is_dir():
        pytest.skip(f"shared benchmark data not found at {d} (set VOLD_SHARED)")
    return d


@pytest.fixture(scope="session")
def tiny_pair(tmp_path_factory):
    """Random-init tiny Qwen2.5-VL student and Qwen3 teacher sharing one tokenizer."""
    from vold_train.toy.models import make_tiny_pair
    return make_tiny_pair(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session", autouse=True)
def _cpu_tests_stay_on_cpu():
    # On a GPU machine the CPU tests stay CPU tests: their inputs and expected numbers are CPU
    # ones, and their subprocesses inherit this. Session scope, so that it is set before any
    # module fixture trains; tests marked gpu delete it (monkeypatch.delenv) to get the GPU.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOLD_DEVICE", "cpu")
        yield
