"""Does the GRPO loop climb a reward that has an easy, general optimum? A check of the loop
itself, apart from whether the toy student can learn its problems.

    python bench/toy_grpo_sanity.py --model MODEL --out DIR [--lr 1e-4] [--steps 60] [--seed 5]

Trains the `grpo-only` recipe's RL stage (toy text problems, G rollouts per prompt) from MODEL
with the reward "the boxed answer is an even number" instead of correctness, then prints the
mean training reward over each block of 10 steps. Any toy student can raise it by shifting
its answers' parity, so a working loop climbs it within tens of steps at the lr the ablation
uses; a loop that scored other tokens than it sampled, or flipped a sign, would not.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def even_answer(response: str, item) -> float:
    from vold_train.toy.check import boxed_int

    b = boxed_int(response)
    return float(b is not None and b % 2 == 0)


def block_means(metrics: Path, block: int = 10, key: str = "reward") -> list[float]:
    """Means of one RL metric over consecutive blocks of `block` steps (rows without it skipped)."""
    recs = [json.loads(ln) for ln in metrics.read_text().splitlines() if ln.strip()]
    vals = [r[key] for r in recs if r.get("stage") == "rl" and key in r]
    return [statistics.mean(vals[i:i + block]) for i in range(0, len(vals), block)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a student: toy-student, or a run's sft/final")
    ap.add_argument("--out", required=True)
    ap.add_argument("--lr", default="1e-4")
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    import torch

    from vold_train.config import load_recipe
    from vold_train.rl import train
    from vold_train.toy import resolve_model

    torch.set_num_threads(1)
    cfg = load_recipe("grpo-only", [f"seed={args.seed}", f"rl.lr={args.lr}", f"rl.steps={args.steps}"]).rl
    out = Path(args.out)
    train(cfg, out, resolve_model(args.model), reward_fn=even_answer)
    means = " ".join(f"{m:.2f}" for m in block_means(out / "metrics.jsonl"))
    print(f"even-answer reward, mean per 10 steps, lr {args.lr}: {means}")


if __name__ == "__main__":
    main()
