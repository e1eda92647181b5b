"""Every VOLD variant x seeds on the toy world: train, evaluate on the image-form test split,
plot learning curves. Prints the table it also writes to docs/toy_ablation.md.

    python bench/toy_ablation.py [--seeds 0 1 2 3 4] [--variants vold grpo-only ...]
                                 [--set rl.steps=20 ...] [--eval-limit 300] [--jobs 2]

Runs land in results/runs/<variant>-s<seed> (re-running resumes or reuses them); the
evaluations in <run>/eval-toy and <run>/eval-toy-text via the harness (`vold eval`). Seeds run
side by side (--jobs processes of one thread). Curves: mean over seeds (thick, trailing 5-step
average) and each seed (thin) of the RL reward, the exact teacher reverse KL and the k2
statistic per step, written to docs/toy_curves.png.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from vold_bench.errors import VoldError

VARIANTS = ["vold", "grpo-only", "no-mask", "no-cold-start", "mismatched-cold-start", "sft-only", "opd-only"]
# the paired columns compare each variant with REF; a second table with LOW_REF (GRPO at a lower
# lr, stop 18's second reference) when --variants names it
REF, LOW_REF = "grpo-only", "grpo-only-low-lr"


def lr_label(recipe: str) -> str:
    """A recipe's RL lr as the docs write it: 5e-5, not 5e-05."""
    from vold_train.config import load_recipe

    return f"{load_recipe(recipe).rl.lr:.0e}".replace("e-0", "e-")


def evaluate(model: str, out: Path, limit: int | None, bench: str = "toy", temperature: float = 0.0,
             seed: int = 0, split: str | None = None) -> float:
    """The ablation's evaluation (greedy unless `temperature` > 0, then sampled with `seed`; the
    test split unless `split` names another), reused when `out` has it."""
    from vold_bench.harness import EvalOptions, run_eval

    res_path = out / "results.json"
    if res_path.exists():
        key = out / "run_key.json"
        done = json.loads(key.read_text()).get("model") if key.exists() else None
        if not _same_model(done, model, out):
            what = f"an evaluation of {done}" if done else "results with no record of their model (run_key.json)"
            raise VoldError(f"{out}: holds {what}, not an evaluation of {model}; use another --root or remove it")
        return json.loads(res_path.read_text())["accuracy"]
    res = run_eval(EvalOptions(bench=bench, model=model, out=out, limit=limit, max_new_tokens=96,
                               temperature=temperature, seed=seed, batch_size=32, split=split))
    return res["accuracy"]


def _same_model(done: str | None, model: str, out: Path) -> bool:
    """Whether the evaluation in `out` is of `model`. A run's own model (<run>/sft/final) counts
    as the same after the run folder was copied to another root (reusing cold starts)."""
    if done == model:
        return True
    run = out.parent
    try:
        rel = Path(model).resolve().relative_to(run.resolve())
    except ValueError:
        return False
    return done is not None and Path(done).parts[-len(rel.parts) - 1:] == (run.name, *rel.parts)


def early_late(dirs: list[Path], key: str, fmt: str, w: int = 5) -> str:
    """Seed mean of `key` over the first and the last `w` RL steps ("" without RL). The RL
    problems are the toy train stream (rl.pool = 0), 42-46% of them asked before in the
    run, in cells the cold start already solves (docs/toy-world.md, "Stop 27")."""
    firsts, lasts = [], []
    for d in dirs:
        recs = [json.loads(ln) for ln in (d / "metrics.jsonl").read_text().splitlines()]
        recs = [r[key] for r in recs if r.get("stage") == "rl" and r.get(key) is not None]
        if len(recs) >= 2 * w:
            firsts.append(statistics.mean(recs[:w]))
            lasts.append(statistics.mean(recs[-w:]))
    if not firsts:
        return ""
    return f"{statistics.mean(firsts):{fmt}} -> {statistics.mean(lasts):{fmt}}"


CURVE_KEYS = [("reward", "RL reward (train rollouts)", False),
              ("teacher_rkl", "teacher reverse KL per token (exact, shared vocab)", True),
              ("teacher_k2", "k2 statistic 0.5(logp - teacher logp)^2 per token (not a KL)", True)]


def curves(runs: dict[str, list[Path]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(CURVE_KEYS), figsize=(17, 4.5))
    for i, (name, dirs) in enumerate(runs.items()):
        per_seed = []
        for d in dirs:
            recs = [json.loads(ln) for ln in (d / "metrics.jsonl").read_text().splitlines()]
            per_seed.append([r for r in recs if r.get("stage") == "rl"])
        if not any(per_seed):
            continue
        color = f"C{i}"
        for ax, (k, title, log) in zip(axes, CURVE_KEYS):
            series = [[r.get(k) for r in recs] for recs in per_seed]
            if any(v is None for sr in series for v in sr):
                continue
            for recs, sr in zip(per_seed, series):
                ax.plot([r["step"] for r in recs], sr, color=color, alpha=0.25, lw=1)
            n = min(map(len, series))
            mean = [statistics.mean(sr[j] for sr in series) for j in range(n)]
            smooth = [statistics.mean(mean[max(0, j - 4):j + 1]) for j in range(n)]  # trailing 5-step mean
            ax.plot(range(1, n + 1), smooth, color=color, lw=2.2, label=name)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("RL step")
            if log:
                ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"toy world, {len(next(iter(runs.values())))} seeds per variant (thin: each seed; "
                 "thick: seed mean, trailing 5-step average)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def run_seed(seed: int, variants: list[str], overrides: list[str], root: str, limit) -> None:
    """Every variant at one seed, in order (the first cold-started one trains the shared
    traces + SFT); each run and its two evaluations resume or are reused on a re-run."""
    import torch

    from vold_train.config import load_recipe
    from vold_train.run import share_cold_start, train_recipe

    torch.set_num_threads(1)
    first = None
    for v in variants:
        out = Path(root) / f"{v}-s{seed}"
        ov = [f"seed={seed}", *variant_overrides(v, overrides, load_recipe)]
        if first is not None:  # same traces + SFT as the first variant at this seed: reuse them
            share_cold_start(v, ov, out, first)
        run = train_recipe(v, ov, out=out)
        if first is None and "sft" in load_recipe(v).stages:
            first = run
        model = json.loads((run / "run.json").read_text())["final_model"]
        evaluate(model, run / "eval-toy", limit)
        evaluate(model, run / "eval-toy-text", limit, "toy-text")
        print(f"[ablation] {v} seed {seed} done", flush=True)


def table(root: Path, variants: list[str], seeds: list[int], base: dict) -> str:
    from vold_train.toy import preconditions as pc

    # every variant's answers, read once: {variant: {bench: [per seed]}}
    per = {v: {b: [pc.answers(root / f"{v}-s{s}" / f"eval-{b}") for s in seeds] for b in ("toy", "toy-text")}
           for v in variants}

    def vs(ref: str, v: str) -> list[str]:  # paired diff against `ref`, image then text
        ts = [pc.paired(per[ref][b], per[v][b]) for b in ("toy", "toy-text")]
        return [f"{t.diff:+.1f} [{t.ci_low:+.1f}, {t.ci_high:+.1f}], p {t.p_value:.2g}" for t in ts]

    lines = ["| variant | image % (mean ± sd) | per seed | text % | reading % (L1/L2/L3) "
             "| image vs grpo-only: diff [95% CI], McNemar p | text vs grpo-only | RL reward, first -> last 5 steps "
             "| teacher rKL/token (exact) | k2/token (not a KL) |",
             "|---|---|---|---|---|---|---|---|---|---|",
             f"| base {base.get('name', 'toy-student')} | {base['toy']:.1f} | - | {base['toy-text']:.1f} "
             f"| {base['reading']} | | | | | |"]
    for v in variants:
        img, txt = per[v]["toy"], per[v]["toy-text"]
        accs = [100.0 * sum(x["correct"] for x in r.values()) / len(r) for r in img]
        texts = [100.0 * sum(x["correct"] for x in r.values()) / len(r) for r in txt]
        rd = [pc.reading(r) for r in img]
        rd = "/".join(f"{statistics.mean(d[lv] for d in rd):.0f}" for lv in (1, 2, 3))
        cmp = vs(REF, v) if REF in variants and v != REF else ["", ""]
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        dirs = [root / f"{v}-s{s}" for s in seeds]
        lines.append(f"| {v} | {statistics.mean(accs):.1f} ± {sd:.1f} | {', '.join(f'{x:.1f}' for x in accs)} "
                     f"| {statistics.mean(texts):.1f} ± {statistics.stdev(texts) if len(texts) > 1 else 0:.1f} "
                     f"| {rd} | {cmp[0]} | {cmp[1]} | {early_late(dirs, 'reward', '.3f')} "
                     f"| {early_late(dirs, 'teacher_rkl', '.3f')} | {early_late(dirs, 'teacher_k2', '.2f')} |")
    if LOW_REF in variants:
        lines += ["", f"Against {LOW_REF} (GRPO alone at lr {lr_label(LOW_REF)}), the same pairing:",
                  "", "| variant | image: diff [95% CI], McNemar p | text: diff [95% CI], McNemar p |",
                  "|---|---|---|"]
        lines += [f"| {v} | " + " | ".join(vs(LOW_REF, v)) + " |" for v in variants if v != LOW_REF]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", nargs="+", default=VARIANTS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--set", nargs="*", default=[], dest="overrides")
    ap.add_argument("--eval-limit", type=int, default=None)
    ap.add_argument("--root", default="results/runs")
    ap.add_argument("--docs", default="docs")
    ap.add_argument("--tag", default="", help="suffix of the output file names")
    ap.add_argument("--jobs", type=int, default=2, help="seeds trained side by side (one thread each)")
    a = ap.parse_args()
    import multiprocessing as mp

    import torch

    from vold_train.config import load_recipe
    from vold_train.toy import preconditions as pc
    from vold_train.toy import resolve_model

    torch.set_num_threads(1)
    root = Path(a.root)
    # the base row is the student the cold start trains: the shipped one, or an `sft.model` override
    name = load_recipe("sft-only", variant_overrides("sft-only", a.overrides, load_recipe)).sft.model
    base = {b: evaluate(resolve_model(name), root / "base-student" / f"eval-{b}", a.eval_limit, b)
            for b in ("toy", "toy-text")}
    base["name"] = name
    base_reading = pc.reading(pc.answers(root / "base-student" / "eval-toy"))
    base["reading"] = "/".join(f"{x:.0f}" for x in base_reading.values())
    print(f"base {name}: image {base['toy']:.1f}%, text {base['toy-text']:.1f}%, reading {base['reading']}")
    args = [(s, a.variants, a.overrides, a.root, a.eval_limit) for s in a.seeds]
    if a.jobs > 1:
        with mp.get_context("spawn").Pool(a.jobs) as pool:
            pool.starmap(run_seed, args, chunksize=1)
    else:
        for x in args:
            run_seed(*x)
    tab = table(root, a.variants, a.seeds, base)
    print(tab)
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    (docs / f"toy_ablation{a.tag}.md").write_text(
        f"Toy-world ablation, seeds {a.seeds}, overrides {a.overrides or 'none'}, eval limit "
        f"{a.eval_limit or 'all'} (greedy, 96 new tokens). Paired columns: this variant minus "
        f"grpo-only, items paired within a seed and pooled over seeds (bootstrap CI, exact McNemar).\n\n{tab}\n")
    runs = {v: [root / f"{v}-s{s}" for s in a.seeds] for v in a.variants}
    with_rl = {v: d for v, d in runs.items() if any((x / "rl").exists() for x in d)}
    if with_rl:  # e.g. --variants sft-only has no RL curves to draw
        curves(with_rl, docs / f"toy_curves{a.tag}.png")


def _key(override: str) -> str:
    return override.split("=", 1)[0]


def _applies(variant: str, override: str, load_recipe) -> bool:
    """Budget overrides name stage keys; skip those for stages a variant does not run."""
    key = _key(override)
    stage = key.split(".", 1)[0] if "." in key else None
    return stage is None or stage in load_recipe(variant).stages


def variant_overrides(variant: str, overrides: list[str], load_recipe) -> list[str]:
    """The overrides that apply to `variant`. `sft.model=X` names the base student of the
    whole ablation: a variant without a cold start (no-cold-start) starts its RL from that
    student too, so for it the override becomes `rl.model=X` when its RL starts from the
    default base student (an explicit `rl.model=` among the overrides is kept as given)."""
    out = [o for o in overrides if _applies(variant, o, load_recipe)]
    base = [o.split("=", 1)[1] for o in overrides if _key(o) == "sft.model"]
    r = load_recipe(variant)
    from_base = "sft" not in r.stages and "rl" in r.stages and r.rl.model == load_recipe("sft-only").sft.model
    if base and from_base and "rl.model" not in map(_key, out):
        out.append(f"rl.model={base[-1]}")
    return out

if __name__ == "__main__":
    try:
        main()
    except VoldError as e:  # one line naming the folder or key, not a traceback
        raise SystemExit(f"error: {e}") from None
