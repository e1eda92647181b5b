import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOLD_SHARED", REPO.parent / "shared"))
PUB = SHARED / "benchmarks" / "published"
pytestmark = pytest.mark.skipif(not PUB.is_dir(), reason=f"no published outputs at {PUB}")


def _script():
    spec = importlib.util.spec_from_file_location("published_leaderboard",
                                                  REPO / "bench" / "published_leaderboard.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def test_readers_reproduce_the_authors_summaries():
    m = _script()
    sets = m.read_sets(list(m.JUDGES), SHARED)
    by = {(p.bench, p.split): [] for p in sets}
    for p in sets:
        by[(p.bench, p.split)].append(p)
        stated = m.official_summary(PUB, p)
        if p.bench in ("mathvision", "mathvista"):
            assert (sum(c for _, _, c in p.records), len(p.records)) == stated, p.model
    assert len(by[("mathvision", "test")]) == 7 and len(by[("mathvista", "testmini")]) == 8
    assert all(len(p.records) == 448 for p in by[("logicvista", "test")])
    assert [p.model for p in by[("mmmu-pro", "vision")]] == ["gpt-4o"]
    assert ("mmmu-pro", "standard10") in by


def test_official_leaderboard_with_significance(tmp_path):
    from vold_bench.compare import build_board, scan

    m = _script()
    sets = {p.model: p for p in m.read_sets(["mathvision"], SHARED)}
    for name in ("LLaVA-v1.5-7B", "Qwen-VL-Max"):
        p = sets[name]
        m.write_official(p, tmp_path / name / "mathvision-test")
    board = build_board(scan([tmp_path])[0], baseline="LLaVA-v1.5-7B", paper=False)
    (row, col, t), = board.sig
    assert (row, col, t.n) == ("Qwen-VL-Max", "mathvision/test", 3040)
    assert t.diff == pytest.approx(100 * (474 - 259) / 3040)
    assert t.p_value < 1e-6 and t.ci_low > 0
