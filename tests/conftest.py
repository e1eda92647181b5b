import os
import sys
import types
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


def _boxed_shim():
    """Stand-in for vold_bench.scoring while that module is not merged in this branch: the
    harness tests check plumbing (resume, counting, files), not grading. Grades the last
    \\boxed{...} by string equality with the gold; the real scorer replaces it on merge."""
    import re

    from vold_bench.schema import Score

    mod = types.ModuleType("vold_bench.scoring")

    def score(response, item, scorer="default", compat=False):
        if not response.strip():
            return Score(None, item.gold, False, "empty")
        m = re.findall(r"\\boxed\{([^{}]*)\}", response)
        if not m:
            return Score(None, item.gold, False, "no_answer")
        return Score(m[-1].strip(), item.gold, m[-1].strip() == item.gold, "ok", "boxed")

    mod.score = score
    mod.reward = lambda response, item: float(score(response, item).correct)
    mod.scorer_version = lambda scorer: f"{scorer}-shim"
    mod.SCORERS = {k: score for k in ("default", "mathvista", "mathvision", "logicvista",
                                      "mmmu_pro", "geo3k", "toy")}
    return mod


try:
    import vold_bench.scoring  # noqa: F401
except ImportError:
    sys.modules["vold_bench.scoring"] = _boxed_shim()
