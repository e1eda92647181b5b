"""The demo's orchestration with the trainer and harness replaced by fakes that write the
same files (run.json, metrics.jsonl, results.json, samples.jsonl) the real ones do."""
import json
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from _compare_util import make_result, make_run
from vold_bench.demo import DemoConfig, run_demo

ACC = {"toy-student": 0.2, "vold": 0.7, "grpo-only": 0.45, "no-mask": 0.6, "no-cold-start": 0.47}


@pytest.fixture()
def fakes(monkeypatch):
    calls = {"train": [], "eval": [], "resolve": [], "share": []}

    def share_cold_start(recipe, overrides, out, source):
        calls["share"].append((recipe, Path(out).name, Path(source).name))
        return False

    def train_recipe(recipe, overrides, out):
        calls["train"].append((recipe, list(overrides)))
        make_run(Path(out), recipe)

    @dataclass
    class EvalOptions:
        bench: str = "toy"
        model: str = "toy-student"
        split: str | None = None
        out: Path | None = None
        limit: int | None = None
        max_new_tokens: int = 1024
        seed: int = 0

    def run_eval(opts):
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

    monkeypatch.setitem(sys.modules, "vold_train.run", types.SimpleNamespace(train_recipe=train_recipe,
                                                                    share_cold_start=share_cold_start))
    monkeypatch.setitem(sys.modules, "vold_bench.harness",
                        types.SimpleNamespace(EvalOptions=EvalOptions, run_eval=run_eval))
    monkeypatch.setattr("vold_train.toy.resolve_model", resolve_model, raising=False)
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
