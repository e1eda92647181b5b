"""Where a toy student's reasoning chain goes wrong, and where the teacher disagrees with it.

    python bench/toy_chain_probe.py RUN [RUN ...] [--kl] [--teacher toy-teacher]

RUN: a run folder of bench/toy_ablation.py (its eval-toy-text/samples.jsonl and its final
model, from run.json), or MODEL=EVAL_DIR for any other pair (toy-student=results/runs/
base-student/eval-toy-text). For each run it prints, over its greedy answers to the toy-text
test items (vold_train/toy/chains.py):

  carries    each later step's left operand against the previous step's result: exact,
             near (within 2: recomputed, not copied), one of the problem's quantities, other
  sums       steps whose own arithmetic is right
  boxed=last answers whose boxed value is their last step's result

With --kl, the teacher's exact reverse KL(student || teacher) at each completion token of the
same answers (nats per token), split by the role of the token: restated quantity, step operand,
carry, step result, boxed answer, other (format and words). A role's share is its part of the
summed KL: what on-policy distillation's signal is made of.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from vold_bench.errors import VoldError
from vold_train.toy import chains, resolve_model
from vold_train.toy import preconditions as pc


def _pair(run: str) -> tuple[str, Path]:
    if "=" in run:
        model, evals = run.split("=", 1)
        return resolve_model(model), Path(evals)
    info = Path(run) / "run.json"
    if not info.exists():
        raise VoldError(f"{info}: not a run folder (give MODEL=EVAL_DIR instead)")
    return json.loads(info.read_text())["final_model"], Path(run) / "eval-toy-text"


def chain_line(samples: dict[str, dict]) -> str:
    pairs = [(s["response"], list(pc.test_problem(i).values.values())) for i, s in samples.items()]
    c = chains.chain_counts(pairs)
    pct = lambda k, of: 100.0 * c[k] / max(c[of], 1)  # noqa: E731
    acc = 100.0 * sum(s["correct"] for s in samples.values()) / len(samples)
    carries = ", ".join(f"{k} {pct('carry_' + k, 'carries'):.0f}" for k in ("exact", "near", "quantity", "other"))
    return (f"acc {acc:.1f}  carries (n={c['carries']}) %: {carries}  "
            f"sums right {pct('sum_ok', 'steps'):.0f}% of {c['steps']} steps  "
            f"boxed=last {pct('boxed_is_last', 'boxed_seen'):.0f}%")


def kl_lines(model: str, teacher: str, samples: dict[str, dict]) -> list[str]:
    total, count = defaultdict(float), defaultdict(int)
    for response, offsets, kl in pc.per_token_teacher_kl(model, teacher, samples):
        for role, v in zip(chains.token_roles(response, offsets), kl):
            total[role] += v
            count[role] += 1
    whole = sum(total.values())
    n = sum(count.values())
    out = [f"  exact teacher KL {whole / n:.3f} nats/token over {n} tokens"]
    for role in sorted(total, key=total.get, reverse=True):
        out.append(f"    {role:9s} {count[role]:6d} tokens  mean {total[role] / count[role]:7.3f}  "
                   f"share {100.0 * total[role] / whole:5.1f}%")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--kl", action="store_true", help="the teacher's exact KL per token, by role")
    ap.add_argument("--teacher", default="toy-teacher")
    args = ap.parse_args()
    for run in args.runs:
        model, evals = _pair(run)
        samples = pc.answers(evals)
        print(f"{run}: {chain_line(samples)}")
        if args.kl:
            print("\n".join(kl_lines(model, resolve_model(args.teacher), samples)))


if __name__ == "__main__":
    main()
