"""The on-policy family side by side on the toy world: VOLD, SRPO (external teacher), SRPO
(self-teacher), VA-OPD and VOLD with R-Diverse curation, the same seeds, all starting RL from
ONE shared cold start (SFT on the teacher's traces), then `vold compare` over their results.

    python bench/family_compare.py [--seeds 0 1 2] [--recipes vold srpo ...]
                                   [--set rl.steps=10 ...] [--eval-limit 60] [--root results/family]

Sharing the cold start keeps the comparison about the RL objective alone (and the budget
small): each run is `stages=rl rl.model=<root>/cold-start/sft/final`. Evaluation: the harness
on the image-form and the text-form toy test splits (greedy). Writes <root>/LEADERBOARD.md via vold compare, and
docs/family_curves.png.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

RECIPES = ["vold", "srpo", "srpo-self", "va-opd", "vold-rdiverse"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recipes", nargs="+", default=RECIPES)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--set", nargs="*", default=[], dest="overrides")
    ap.add_argument("--sft-steps", type=int, default=None, help="default: the protocol's (SFTConfig.steps)")
    ap.add_argument("--eval-limit", type=int, default=None)
    ap.add_argument("--root", default="results/family")
    ap.add_argument("--docs", default="docs")
    a = ap.parse_args()
    import torch
    from toy_ablation import curves, evaluate

    from vold_bench.compare import run_compare
    from vold_train.run import train_recipe

    torch.set_num_threads(1)
    root = Path(a.root)
    steps = [f"sft.steps={a.sft_steps}"] if a.sft_steps is not None else []
    cold = train_recipe("sft-only", ["stages=sft", "sft.data=toy:teacher", *steps], out=root / "cold-start")
    sft_model = json.loads((cold / "run.json").read_text())["final_model"]
    print(f"cold start: {sft_model}")
    evaluate(sft_model, cold / "eval-toy", a.eval_limit)
    runs: dict[str, list[Path]] = {}
    evaluate(sft_model, cold / "eval-toy-text", a.eval_limit, "toy-text")
    for s in a.seeds:  # seed-major: a cut-short run still has every recipe at the first seeds
        for r in a.recipes:
            run = train_recipe(r, ["stages=rl", f"rl.model={sft_model}", f"seed={s}", *a.overrides],
                               out=root / f"{r}-s{s}")
            info = json.loads((run / "run.json").read_text())
            acc = evaluate(info["final_model"], run / "eval-toy", a.eval_limit)
            text = evaluate(info["final_model"], run / "eval-toy-text", a.eval_limit, "toy-text")
            print(f"{r} seed {s}: toy image accuracy {acc:.1f}%, text {text:.1f}%", flush=True)
            runs.setdefault(r, []).append(run)
    curves(runs, Path(a.docs) / "family_curves.png")
    # paired significance: each run against vold with the same seed (compare's mean baseline)
    base = f"vold (mean of {len(a.seeds)} seeds)" if "vold" in a.recipes and len(a.seeds) > 1 else None
    run_compare(dirs=[root], baseline=base, ablation=False, paper=False, out=root, plot=False)
    print((root / "LEADERBOARD.md").read_text())


if __name__ == "__main__":
    main()
