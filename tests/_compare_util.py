"""Synthetic result folders for the compare tests (and for looking at the plots)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

VARIANTS = {
    "vold": {"sft": True, "rl": True, "kd": True, "kd_mask": True, "trace_source": "teacher"},
    "grpo-only": {"sft": False, "rl": True, "kd": False, "kd_mask": False, "trace_source": None},
    "no-mask": {"sft": True, "rl": True, "kd": True, "kd_mask": False, "trace_source": "teacher"},
    "no-cold-start": {"sft": False, "rl": True, "kd": True, "kd_mask": True, "trace_source": None},
    "grpo-only-low-lr": {"sft": True, "rl": True, "kd": False, "kd_mask": False, "trace_source": "teacher"},
}


def make_result(folder: Path, bench: str, split: str, model: str, correct, ids=None,
                **over) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    ids = ids or [f"{bench}-{i}" for i in range(len(correct))]
    n = len(correct)
    res = {
        "bench": bench, "split": split, "model": model, "backend": "hf",
        "prompt_variant": "default", "scorer": bench, "scorer_version": "1",
        "n": n, "n_errors": 0, "accuracy": 100.0 * sum(map(bool, correct)) / max(n, 1),
        "parse_rate": 100.0, "breakdown": {},
        "generation": {"max_new_tokens": 256, "temperature": 0.0, "top_p": 1.0, "seed": 0},
        "dataset": {"source": "local", "revision": "test"}, "git_sha": "0" * 40,
        "packages": {}, "wall_s": 1.0, "items_per_s": 1.0, "gen_tokens_per_s": 1.0,
        "created": over.pop("created", "2026-01-01T00:00:00"),
    }
    gen_over = {k: over.pop(k) for k in list(over) if k in res["generation"]}
    res["generation"].update(gen_over)
    res.update(over)
    (folder / "results.json").write_text(json.dumps(res))
    with (folder / "samples.jsonl").open("w") as f:
        for i, c in zip(ids, correct):
            f.write(json.dumps({"id": i, "prompt": "p", "response": "r", "extracted": "x",
                                "gold": "x", "correct": bool(c), "parse_status": "ok",
                                "gen_tokens": 3, "meta": {}, "error": None}) + "\n")
    return folder / "results.json"


def make_run(folder: Path, recipe: str, seed: int = 0, steps: int = 30, slope: float = 0.01):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "final").mkdir(exist_ok=True)
    (folder / "final" / "config.json").write_text("{}")
    (folder / "run.json").write_text(json.dumps({
        "recipe": recipe, "variant": VARIANTS[recipe], "seed": seed,
        "final_model": str(folder / "final")}))
    rng = np.random.default_rng([seed, sum(map(ord, recipe))])
    with (folder / "metrics.jsonl").open("w") as f:
        for s in range(steps):
            kd = VARIANTS[recipe]["kd"]
            f.write(json.dumps({
                "step": s, "reward": float(min(1, 0.2 + slope * s + rng.normal(0, 0.05))),
                "kd_loss": 0.0, "teacher_rkl": float(2.0 * math.exp(-s / ((10 if kd else 60)
                                                                      * (1 + len(recipe) / 10)))
                                                     + rng.normal(0, 0.03)),
                "masked_frac": float(0.3 + 0.4 * s / steps) if VARIANTS[recipe]["kd_mask"] else 0.0,
                "entropy": 1.0, "resp_len": 50, "step_s": 1.0, "tokens_per_s": 100.0}) + "\n")
    return folder / "final"


def toy_world(root: Path, n: int = 200) -> dict[str, float]:
    """Four trained variants evaluated on toy/test (+ a hub model on mathvision/testmini)."""
    rng = np.random.default_rng(0)
    accs = {"grpo-only": 0.40, "vold": 0.62, "no-mask": 0.55, "no-cold-start": 0.42}
    base = rng.random(n)
    for k, (recipe, acc) in enumerate(accs.items()):
        final = make_run(root / "runs" / f"{recipe}-s0", recipe, seed=k,
                         slope=0.02 if recipe == "vold" else 0.01)
        # correlated items (shared difficulty) like real paired runs
        noise = rng.random(n) < 0.15
        correct = [(b < acc) != flip for b, flip in zip(base, noise)]
        make_result(root / "evals" / recipe / "toy-test", "toy", "test", str(final), correct)
    make_result(root / "evals" / "hub" / "mathvision-testmini", "mathvision", "testmini",
                "Qwen/Qwen2.5-VL-3B-Instruct", list(rng.random(304) < 0.2))
    return accs
