"""The demo's orchestration with the trainer and harness replaced by fakes that write the
same files (run.json, metrics.jsonl, results.json, samples.jsonl) the real ones do. The fakes
are autospecs of the real functions, so a call the real signature would refuse fails here too,
and the demo's EvalOptions are the harness's own."""
import json
from pathlib import Path
from unittest.mock import create_autospec

import numpy as np
import pytest
from rich.console import Console

import vold_bench.harness as harness
import vold_train.run as run
import vold_train.toy as toy
from _compare_util import make_result, make_run
from vold_bench.demo import DemoConfig, run_demo

ACC = {"toy-student": 0.2, "vold": 0.7, "grpo-only": 0.45, "no-mask": 0.6, "no-cold-start": 0.47}


@pytest.fixture()
def fakes(monkeypatch):
    calls = {"train": [], "eval": [], "resolve": [], "share": []}

    def share_cold_start(recipe, overrides, out, source):
        calls["share"].append((recipe, Path(out).name, Path(source).name))
        return False

    def train_recipe(recipe="vold", overrides=None, out=None, reward_fn=None):
        calls["train"].append((recipe, list(overrides)))
        make_run(Path(out), recipe)

    def run_eval(opts):
        assert isinstance(opts, harness.EvalOptions)
        # the demo's eval settings reach the harness (none dropped on the way)
        cfg = DemoConfig()
        assert (opts.max_new_tokens, opts.batch_size, opts.temperature) == (
            cfg.eval_max_new_tokens, cfg.eval_batch_size, 0.0)
        calls["eval"].append(opts.model)
        if opts.model == "toy-student":
            acc = ACC["toy-student"]
        else:
            acc = ACC[json.loads((Path(opts.model).parent / "run.json").read_text())["recipe"]]
        rng = np.random.default_rng(0)
        make_result(Path(opts.out), opts.bench, opts.split, opts.model, list(rng.random(100) < acc))

    def resolve_model(name):
        calls["resolve"].append(name)
        return f"/models/{name}"

    for module, fake in ((run, share_cold_start), (run, train_recipe), (harness, run_eval),
                         (toy, resolve_model)):
        real = getattr(module, fake.__name__)
        monkeypatch.setattr(module, fake.__name__, create_autospec(real, side_effect=fake))
    return calls


def test_demo_trains_evaluates_compares_and_resumes(fakes, tmp_path):
    out = tmp_path / "demo"
    console = Console(record=True, width=160)
    board = run_demo(DemoConfig(out=out), console=console)
    assert [r for r, _ in fakes["train"]] == ["vold", "grpo-only", "no-mask", "no-cold-start"]
    assert fakes["resolve"] == ["toy-teacher", "toy-student"]
    # every variant after the first is offered the first one's cold start
    assert fakes["share"] == [(v, f"{v}-s0", "vold-s0") for v in ("grpo-only", "no-mask", "no-cold-start")]
    assert len(fakes["eval"]) == 5
    names = {r.name for r in board.rows if r.kind == "run"}
    assert names == {"toy-student", "vold", "grpo-only", "no-mask", "no-cold-start"}
    assert board.baseline == "grpo-only" and len(board.sig) == 4
    for f in ("LEADERBOARD.md", "ablation.tex", "leaderboard.png", "training_curves.png",
              "demo_timing.json"):
        assert (out / f).exists(), f
    text = console.export_text()
    assert "[11/11] compare --ablation" in text and "Ablation (VOLD Table 3 layout)" in text
    # a second run resumes: nothing is trained or evaluated again
    run_demo(DemoConfig(out=out), console=Console(record=True, width=160))
    assert len(fakes["train"]) == 4 and len(fakes["eval"]) == 5
    timing = json.loads((out / "demo_timing.json").read_text())
    assert sum(s["status"] == "skipped" for s in timing["stages"]) == 9
