"""What the toy RL stream asks, and where RL gains: on the problems a run asked again, or on
new ones, cell by cell (diagnosis; stop 27's section of docs/toy-world.md).

    python bench/toy_stream.py [--seeds 9 10 11 12] [--root R] [--variants grpo-only opd-only]
                               [--n 1200] [--temperature 0.0]

1. Each seed's RL stream as the shipped protocol draws it (rl.steps x rl.prompts_per_step of
   the vold recipe, rl.pool = 0): per (skill, level) cell, its prompts, distinct questions, and
   the share that repeat an earlier prompt of the run (`prompt_revisit_frac` in a run's
   metrics). The toy world's quantities are single digits, so a cell holds few problems: rect
   has 64 width-height pairs per level and the test set takes about half of them.
2. With --root (a `bench/toy_ablation.py` root holding sft-only and the variants at these
   seeds): each variant against its cold start (sft-only, same seed) on the toy-text test set,
   per cell, items paired within a seed and pooled over seeds.
3. With --root: the same models on --n problems of the world's train stream (stream seed 0,
   the harness's `train` split; evaluated into <run>/eval-toy-text-train-n<N>-t<T>), split by
   whether that seed's RL stream asked the same question. A gain on the problems a run asked
   again can be memorisation; a gain on the others cannot.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from toy_ablation import evaluate
from toy_sharpening import final_model

from vold_bench.toy import world
from vold_train.curation import Stream
from vold_train.toy import preconditions as pc

REF = "sft-only"


def stream(seed: int) -> list[world.Problem]:
    from vold_train.config import load_recipe

    rl = load_recipe("vold").rl
    return world.problems("train", n=rl.steps * rl.prompts_per_step, seed=seed)


def cell(p: world.Problem) -> tuple[str, int]:
    return p.skill, p.level


def composition_lines(seeds: list[int]) -> list[str]:
    """Per seed and cell: prompts, distinct questions, and the share asked before in the run,
    flagged as the run flags them (curation.Stream, from the question's text)."""
    out = []
    for s in seeds:
        probs = stream(s)
        revisit = Stream([world.to_item(p, "text") for p in probs]).revisit
        per: dict[tuple[str, int], list[int]] = {}  # cell: [prompts, asked before]
        for p, again in zip(probs, revisit):
            c = per.setdefault(cell(p), [0, 0])
            c[0] += 1
            c[1] += again
        again = sum(revisit)
        cells = "; ".join(f"{k[0]} L{k[1]} {n} prompts, {n - a} distinct, {100 * a / n:.0f}% again"
                          for k, (n, a) in sorted(per.items()))
        out.append(f"seed {s}: {len(probs)} prompts, {100 * again / len(probs):.1f}% asked before in the run. {cells}")
    return out


def paired_line(name: str, ref: dict[str, bool], run: dict[str, bool]) -> str:
    """`run` against `ref` on the same keys (seed:item): n, ref accuracy, diff [CI], McNemar p."""
    from vold_bench.stats import paired_test

    t = paired_test(ref, run)
    return (f"{name}: n {len(ref)}, cold start {100 * sum(ref.values()) / len(ref):.1f}, "
            f"{t.diff:+.1f} [{t.ci_low:+.1f}, {t.ci_high:+.1f}], McNemar p {t.p_value:.2g}")


def split_lines(runs: dict[str, list[dict]], seeds: list[int], group) -> list[str]:
    """For each variant, its paired difference from the cold start within each group of items;
    `group(seed, item id)` names an item's group (None: left out)."""
    out = []
    for v in (v for v in runs if v != REF):
        keys: dict[str, list[tuple[int, str]]] = {}
        for k, s in enumerate(seeds):
            for i in runs[REF][k]:
                g = group(s, i)
                if g is not None:
                    keys.setdefault(g, []).append((k, i))
        for g in sorted(keys):
            ref = {f"{k}:{i}": bool(runs[REF][k][i]["correct"]) for k, i in keys[g]}
            run = {f"{k}:{i}": bool(runs[v][k][i]["correct"]) for k, i in keys[g]}
            out.append(paired_line(f"  {v}, {g}", ref, run))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[9, 10, 11, 12])
    ap.add_argument("--root", type=Path)
    ap.add_argument("--variants", nargs="+", default=["grpo-only", "opd-only"])
    ap.add_argument("--n", type=int, default=1200)
    ap.add_argument("--temperature", type=float, default=0.0)
    a = ap.parse_args()

    print("1. the RL stream of each seed (the vold recipe's steps x prompts, rl.pool = 0)")
    print("\n".join(composition_lines(a.seeds)))
    if a.root is None:
        return
    variants = [REF, *a.variants]
    dirs = {v: [a.root / f"{v}-s{s}" for s in a.seeds] for v in variants}

    tag = "greedy" if a.temperature == 0 else f"sampled at T {a.temperature:g}"
    test = {v: [pc.answers(d / "eval-toy-text") if a.temperature == 0 else _eval(d, None, a) for d in ds]
            for v, ds in dirs.items()}
    print(f"2. toy-text test, {tag}, per cell, each variant minus its cold start (seeds {a.seeds})")
    print("\n".join(split_lines(test, a.seeds, lambda s, i: "{} L{}".format(*cell(pc.test_problem(i))))))

    train = {v: [_eval(d, "train", a) for d in ds] for v, ds in dirs.items()}
    by_uid = {p.uid: p for p in world.problems("train", n=a.n, seed=0)}
    asked = {s: {p.key() for p in stream(s)} for s in a.seeds}

    def group(s: int, i: str, per_cell: bool = False) -> str:
        p = by_uid[i.removeprefix("toy-")]  # the harness's id is "toy-" + the problem's uid
        where = "asked in the run" if p.key() in asked[s] else "new to the run"
        return f"{p.skill} L{p.level}, {where}" if per_cell else where

    print(f"3. {a.n} train-stream problems (stream seed 0), {tag}, each variant minus its cold start")
    print("\n".join(split_lines(train, a.seeds, group)))
    print("\n".join(split_lines(train, a.seeds, lambda s, i: group(s, i, True))))


def _eval(run: Path, split: str | None, a) -> dict[str, dict]:
    """One run's toy-text answers on `split` (None: test) at --temperature, evaluated here unless there."""
    out = run / (f"eval-toy-text-{split or 'test'}-n{a.n if split else 'all'}-t{a.temperature:g}")
    evaluate(final_model(run), out, a.n if split else None, "toy-text", a.temperature, split=split)
    return pc.answers(out)


if __name__ == "__main__":
    main()
