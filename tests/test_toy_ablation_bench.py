"""bench/toy_ablation.py reuses the evaluations it finds under --root: only when they are of the
model it would evaluate (a copied run folder's own model counts as the same)."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_ablation as ab  # noqa: E402

from vold_bench.errors import VoldError  # noqa: E402


def _done(out: Path, model: str, accuracy: float = 0.5) -> Path:
    out.mkdir(parents=True)
    (out / "run_key.json").write_text(json.dumps({"model": model}))
    (out / "results.json").write_text(json.dumps({"accuracy": accuracy}))
    return out


def test_a_copied_runs_own_model_is_the_same_model(tmp_path):
    out = _done(tmp_path / "new-root" / "sft-only-s5" / "eval-toy", "old-root/sft-only-s5/sft/final")
    here = str(tmp_path / "new-root" / "sft-only-s5" / "sft" / "final")
    assert ab._same_model("old-root/sft-only-s5/sft/final", here, out)
    assert ab.evaluate(here, out, None) == 0.5  # reused, nothing re-run
    # another run's model, or the same path under another run name, is not
    assert not ab._same_model("old-root/sft-only-s6/sft/final", here, out)
    assert not ab._same_model("old-root/sft-only-s5/rl/final", here, out)
    assert not ab._same_model(None, here, out)


def test_a_reused_evaluation_of_another_model_is_a_one_line_error(tmp_path):
    out = _done(tmp_path / "root" / "base-student" / "eval-toy", "/pkg/toy/models/student")
    assert ab.evaluate("/pkg/toy/models/student", out, None) == 0.5
    with pytest.raises(VoldError, match=r"base-student/eval-toy: holds an evaluation of /pkg/toy/models/student, "
                                        r"not an evaluation of results/cand/student"):
        ab.evaluate("results/cand/student", out, None)
    # results without the harness's record of the model are not reused either
    (out / "run_key.json").unlink()
    with pytest.raises(VoldError, match=r"holds results with no record of their model \(run_key.json\)"):
        ab.evaluate("/pkg/toy/models/student", out, None)


def test_a_base_student_override_reaches_the_variant_without_a_cold_start():
    """--set sft.model=X swaps the ablation's base student: no-cold-start's RL starts from X too,
    the cold-started variants keep RL on their SFT model, and stage keys skip variants without
    that stage."""
    from vold_train.config import load_recipe

    ov = ["sft.model=results/cand/student", "sft.steps=300", "rl.sampling.temperature=0.7"]
    assert ab.variant_overrides("no-cold-start", ov, load_recipe) == ["rl.sampling.temperature=0.7",
                                                                       "rl.model=results/cand/student"]
    assert load_recipe("no-cold-start", ab.variant_overrides("no-cold-start", ov, load_recipe)).rl.model \
        == "results/cand/student"
    assert ab.variant_overrides("vold", ov, load_recipe) == ov
    assert ab.variant_overrides("sft-only", ov, load_recipe) == ov[:2]  # no RL stage: no rl.* key
    assert ab.variant_overrides("no-cold-start", ["rl.steps=10"], load_recipe) == ["rl.steps=10"]
    mine = ov + ["rl.model=elsewhere"]
    assert ab.variant_overrides("no-cold-start", mine, load_recipe)[-1] == "rl.model=elsewhere"


def test_positive_only_advantages_keep_the_positive_half():
    import torch
    import toy_positive_only as po

    from vold_train.losses import grpo_advantages

    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    full, _ = grpo_advantages(r, 4)
    adv, st = po.positive_only(r, 4)
    assert st["adv_positive_only"] == 1.0
    # the right rollouts keep GRPO's advantage, the wrong ones lose their push down
    assert (full[:4][r[:4] == 0] < 0).all() and (adv[:4][r[:4] == 0] == 0).all()
    assert torch.equal(adv[:4][r[:4] == 1], full[:4][r[:4] == 1]) and (adv[:4][r[:4] == 1] > 0).all()
    assert torch.equal(adv[4:], torch.zeros(4))  # an all-wrong group stays without signal
