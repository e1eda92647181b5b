"""Diagnosis only: GRPO with its negative advantages clamped at 0 (stop 26, docs/toy-world.md).

    python bench/toy_positive_only.py SEED ROOT [--set KEY=VALUE ...]

Runs sft-only and grpo-only at SEED under ROOT as bench/toy_ablation.py does (a copied
sft-only-sSEED folder is reused as the cold start), with `losses.grpo_advantages` patched in
this process so that only rollouts better than their group's mean are pushed up. It asks
whether the wrong rollouts' push down is what cancels GRPO's gain on the toy student; it is
not an objective to train with, so it is not a config key. Each RL step's metrics line carries
`adv_positive_only: 1.0`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vold_train import losses  # noqa: E402

_grpo_advantages = losses.grpo_advantages


def positive_only(rewards, group_size: int, eps: float = 1e-6):
    adv, stats = _grpo_advantages(rewards, group_size, eps)
    return adv.clamp(min=0), {**stats, "adv_positive_only": 1.0}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("seed", type=int)
    ap.add_argument("root")
    ap.add_argument("--set", nargs="*", default=[], dest="overrides")
    a = ap.parse_args()
    import toy_ablation

    losses.grpo_advantages = positive_only
    toy_ablation.run_seed(a.seed, ["sft-only", "grpo-only"], a.overrides, a.root, None)


if __name__ == "__main__":
    main()
