"""Does the RL stage teach the toy student, or only sharpen it? Greedy and sampled toy-text
accuracy of each RL variant, paired against its own cold start.

    python bench/toy_sharpening.py [--root results/runs] [--seeds 0 1 2 3 4]
                                   [--variants grpo-only opd-only vold] [--temperature 1.0]
                                   [--per-item K]

Reads the runs `python bench/toy_ablation.py` left under --root and evaluates each on toy-text
once more, one sampled answer per item at --temperature (the RL rollouts' temperature), into
<run>/eval-toy-text-t<T> (reused on a re-run). The cold start is sft-only at the same seed.
RL that only sharpens the cold start's answer distribution raises the sampled accuracy (which
is what its training reward measures) and leaves the greedy one where it was; RL that teaches
raises both. It also prints each variant's training reward and pass@G (groups with a right
rollout), first and last 20 RL steps: a reward climbing to a flat pass@G is sharpening.
Items are paired within a seed and pooled over seeds (bootstrap CI, exact McNemar);
"gained" and "lost" count the items the variant answers right and its cold start wrong, and the
reverse: many of both and a small difference is an update that moves answers without direction.

--per-item K: the cold start's room to sharpen, item by item. Each seed's sft-only answers K
sampled answers per item (sampling seeds 0..K-1; seed 0 is the folder above, the others
<run>/eval-toy-text-t<T>-s<j>), and per level it prints the mean share of samples that are
right on the items its greedy answer gets wrong, and on those it gets right. RL that sharpens
moves items whose right answer is already sampled often; an item sampled right 1 time in 8
needs the answer's probability to rise several-fold before greedy decoding picks it. Then, per
class of the greedy answers' first wrong step (bench/toy_chain_probe.py names them), how many
samples get past that step and how many of those are right: the rollouts GRPO credits there.
"""
from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from toy_ablation import evaluate
from toy_grpo_sanity import block_means

from vold_train.toy import chains
from vold_train.toy import preconditions as pc

REF = "sft-only"


def final_model(run: Path) -> str:
    """The run's last stage's model: rl/final, else sft/final (sft-only)."""
    for stage in ("rl", "sft"):
        if (run / stage / "final" / "config.json").exists():
            return str(run / stage / "final")
    raise SystemExit(f"{run}: no finished model (rl/final or sft/final); run bench/toy_ablation.py first")


def answers(root: Path, variant: str, seeds: list[int], temperature: float) -> list[dict]:
    """Each seed's toy-text answers: the ablation's greedy ones, or sampled ones (evaluated here)."""
    runs = [root / f"{variant}-s{s}" for s in seeds]
    if temperature == 0:
        return [pc.answers(r / "eval-toy-text") for r in runs]
    return [sampled_runs(r, 1, temperature)[0] for r in runs]


def sampled_runs(run: Path, k: int, temperature: float) -> list[dict]:
    """k sampled answer sets of one run (sampling seeds 0..k-1), evaluated here unless there."""
    subs = [run / (f"eval-toy-text-t{temperature:g}" + (f"-s{j}" if j else "")) for j in range(k)]
    for j, sub in enumerate(subs):
        evaluate(final_model(run), sub, None, "toy-text", temperature, seed=j)
    return [pc.answers(sub) for sub in subs]


def per_item_lines(greedy: dict[str, dict], samples: list[dict[str, dict]]) -> list[str]:
    """Per level: the mean share of right samples on the items greedy gets wrong / right."""
    out = []
    for level in sorted({pc.test_problem(i).level for i in greedy}):
        parts = []
        for right in (False, True):
            ids = [i for i, g in greedy.items() if g["correct"] == right and pc.test_problem(i).level == level]
            part = f"greedy {'right' if right else 'wrong'} {len(ids)} items"
            if ids:
                share = statistics.mean(statistics.mean(s[i]["correct"] for s in samples) for i in ids)
                part += f", sampled right {100 * share:.0f}%"
            parts.append(part)
        out.append(f"L{level}: " + "; ".join(parts))
    return out


def per_slip_lines(greedy: dict[str, dict], samples: list[dict[str, dict]], least: int = 5) -> list[str]:
    """Per class of the greedy answers' first wrong step (skill, level, class; `least` items or
    more, largest first): how many samples get past that step (their own first wrong step lies
    later, chains.past_slip) and how many of those are right. GRPO can credit the right number
    at a slip only through samples that get past it and are rewarded."""
    by_class: dict[tuple[str, int, str], list[str]] = {}
    for i, g in greedy.items():
        if g["correct"]:
            continue
        p = pc.test_problem(i)
        slip = chains.first_wrong_step(g["response"], p)
        if slip != "right":  # wrong only in how it is scored: no slip in the chain
            by_class.setdefault((p.skill, p.level, slip), []).append(i)
    out = []
    for (skill, level, slip), ids in sorted(by_class.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(ids) < least:
            continue
        past = [[chains.past_slip(chains.first_wrong_step(s[i]["response"], pc.test_problem(i)), slip)
                 for s in samples] for i in ids]
        n, n_past = len(ids) * len(samples), sum(map(sum, past))
        right = sum(s[i]["correct"] for i, row in zip(ids, past) for s, ok in zip(samples, row) if ok)
        out.append(f"{skill} L{level} {slip}: {len(ids)} items; samples past it {n_past}/{n} "
                   f"({100 * n_past / n:.1f}%), {right} of them right; "
                   f"items past it in at least 1 of {len(samples)}: {sum(map(any, past))}")
    return out


def training_line(root: Path, variant: str, seeds: list[int], block: int = 20) -> str | None:
    """The RL runs' training reward (a sampled accuracy) and pass@G (the share of groups with a
    right rollout), first and last `block` steps, seed mean. A reward that climbs to a flat
    pass@G is sharpening: probability moves onto answers the student already samples."""
    parts = []
    for key, label in (("reward", "reward"), ("pass_at_g", "pass@G")):
        ends = [(b[0], b[-1]) for s in seeds
                if (m := root / f"{variant}-s{s}" / "metrics.jsonl").exists() and (b := block_means(m, block, key))]
        if len(ends) == len(seeds):
            first, last = (statistics.mean(e[j] for e in ends) for j in (0, 1))
            parts.append(f"{label} {first:.3f} -> {last:.3f}")
    return f"{variant}: " + ", ".join(parts) if parts else None


def row(name: str, ref: list[dict], mine: list[dict]) -> str:
    acc = statistics.mean(100 * sum(a["correct"] for a in run.values()) / len(run) for run in mine)
    if mine is ref:
        return f"{name}: {acc:.1f}"
    t = pc.paired(ref, mine)
    return (f"{name}: {acc:.1f}, minus {REF} {t.diff:+.1f} [{t.ci_low:+.1f}, {t.ci_high:+.1f}], "
            f"McNemar p {t.p_value:.2g}; {t.only_b} of {t.n} items gained, {t.only_a} lost")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="results/runs")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--variants", nargs="+", default=["grpo-only", "opd-only", "vold"])
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--per-item", type=int, default=0, metavar="K",
                    help="also K sampled answers per item of each cold start, by level")
    args = ap.parse_args()
    if args.temperature <= 0:
        raise SystemExit("--temperature: must be > 0 (the greedy answers are the ablation's own)")
    import torch

    torch.set_num_threads(1)
    root = Path(args.root)
    for label, temp in (("greedy", 0.0), (f"sampled at temperature {args.temperature:g}", args.temperature)):
        print(f"toy-text accuracy %, {label}, seeds {args.seeds} (seed mean; paired diff pooled over seeds)")
        ref = answers(root, REF, args.seeds, temp)
        print("  " + row(REF, ref, ref))
        for v in args.variants:
            print("  " + row(v, ref, answers(root, v, args.seeds, temp)))
    print("training, first -> last 20 RL steps (seed mean)")
    for line in filter(None, (training_line(root, v, args.seeds) for v in args.variants)):
        print("  " + line)
    for s in (args.seeds if args.per_item > 0 else []):
        run = root / f"{REF}-s{s}"
        print(f"{REF} seed {s}: {args.per_item} samples per item at temperature {args.temperature:g}")
        greedy = pc.answers(run / "eval-toy-text")
        samples = sampled_runs(run, args.per_item, args.temperature)
        for line in per_item_lines(greedy, samples) + per_slip_lines(greedy, samples):
            print("  " + line)


if __name__ == "__main__":
    main()
