"""Every VOLD variant x seeds on the toy world: train, evaluate on the image-form test split,
plot learning curves. Prints the table it also writes to docs/toy_ablation.md.

    python bench/toy_ablation.py [--seeds 0 1 2] [--variants vold grpo-only ...]
                                 [--set rl.steps=20 ...] [--eval-limit 300]

Runs land in results/runs/<variant>-s<seed> (re-running resumes or reuses them); the
evaluation in <run>/eval-toy via the harness (`vold eval --bench toy`). Curves: mean over
seeds (thick, trailing 5-step average) and each seed (thin) of the RL reward and the teacher KL per step, written to
docs/toy_curves.png.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

VARIANTS = ["vold", "grpo-only", "no-mask", "no-cold-start", "mismatched-cold-start", "sft-only", "opd-only"]


def evaluate(model: str, out: Path, limit: int | None, bench: str = "toy") -> float:
    from vold_bench.harness import EvalOptions, run_eval

    res_path = out / "results.json"
    if res_path.exists():
        return json.loads(res_path.read_text())["accuracy"]
    res = run_eval(EvalOptions(bench=bench, model=model, out=out, limit=limit, max_new_tokens=96,
                               temperature=0.0, batch_size=32))
    return res["accuracy"]


def first_last(dirs: list[Path], key: str, fmt: str) -> str:
    """Seed mean of `key` over the first and the last pass through the RL problem pool
    (rl.pool / rl.prompts_per_step steps: the same problems both times); "" without RL."""
    import yaml

    firsts, lasts = [], []
    for d in dirs:
        recs = [json.loads(ln) for ln in (d / "metrics.jsonl").read_text().splitlines()]
        recs = [r[key] for r in recs if r.get("stage") == "rl" and r.get(key) is not None]
        rl = (yaml.safe_load((d / "config.yaml").read_text()) or {}).get("rl", {})
        w = max(1, rl.get("pool", 0) // rl.get("prompts_per_step", 1)) if rl.get("pool") else 4
        if len(recs) >= 2 * w:
            firsts.append(statistics.mean(recs[:w]))
            lasts.append(statistics.mean(recs[-w:]))
    if not firsts:
        return ""
    return f"{statistics.mean(firsts):{fmt}} -> {statistics.mean(lasts):{fmt}}"


def curves(runs: dict[str, list[Path]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [("reward", "RL reward (train rollouts)"), ("teacher_kl", "teacher KL per token (k2)")]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for i, (name, dirs) in enumerate(runs.items()):
        per_seed = []
        for d in dirs:
            recs = [json.loads(ln) for ln in (d / "metrics.jsonl").read_text().splitlines()]
            per_seed.append([r for r in recs if r.get("stage") == "rl"])
        if not any(per_seed):
            continue
        color = f"C{i}"
        for ax, (k, title) in zip(axes, keys):
            for recs in per_seed:
                ax.plot([r["step"] for r in recs], [r[k] for r in recs], color=color, alpha=0.25, lw=1)
            n = min(len(r) for r in per_seed)
            mean = [statistics.mean(recs[j][k] for recs in per_seed) for j in range(n)]
            smooth = [statistics.mean(mean[max(0, j - 4):j + 1]) for j in range(n)]  # trailing 5-step mean
            ax.plot(range(1, n + 1), smooth, color=color, lw=2.2, label=name)
            ax.set_title(title)
            ax.set_xlabel("RL step")
    axes[1].set_yscale("log")  # a mismatched cold start sits ~10x above the rest
    axes[0].legend(fontsize=8)
    fig.suptitle(f"toy world, {len(next(iter(runs.values())))} seeds per variant (thin: each seed; thick: seed mean, trailing 5-step average)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", nargs="+", default=VARIANTS)
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--set", nargs="*", default=[], dest="overrides")
    ap.add_argument("--eval-limit", type=int, default=None)
    ap.add_argument("--root", default="results/runs")
    ap.add_argument("--docs", default="docs")
    ap.add_argument("--tag", default="", help="suffix of the output file names")
    a = ap.parse_args()
    import torch

    from vold_train.config import load_recipe
    from vold_train.run import share_cold_start, train_recipe
    from vold_train.toy import resolve_model

    torch.set_num_threads(1)
    rows, runs = [], {}
    base = {"toy": evaluate(resolve_model("toy-student"), Path(a.root) / "base-student" / "eval-toy", a.eval_limit),
            "toy-text": evaluate(resolve_model("toy-student"), Path(a.root) / "base-student" / "eval-toy-text",
                                 a.eval_limit, "toy-text")}
    print(f"base toy-student: image {base['toy']:.1f}%, text {base['toy-text']:.1f}%")
    for v in a.variants:
        accs, texts = [], []
        for s in a.seeds:
            out = Path(a.root) / f"{v}-s{s}"
            ov = [f"seed={s}", *[o for o in a.overrides if _applies(v, o, load_recipe)]]
            if v != "vold":  # same traces + SFT as vold at this seed: reuse its cold start
                share_cold_start(v, ov, out, Path(a.root) / f"vold-s{s}")
            run = train_recipe(v, ov, out=out)
            info = json.loads((run / "run.json").read_text())
            accs.append(evaluate(info["final_model"], run / "eval-toy", a.eval_limit))
            texts.append(evaluate(info["final_model"], run / "eval-toy-text", a.eval_limit, "toy-text"))
            runs.setdefault(v, []).append(run)
        rows.append((v, accs, texts))
        print(f"{v}: image {accs} text {texts}")

    lines = ["| variant | toy image acc % (mean ± sd) | per seed | toy-text acc % (mean) "
             "| RL reward, first -> last pass | teacher KL/token, first -> last pass |",
             "|---|---|---|---|---|---|",
             f"| base toy-student | {base['toy']:.1f} | - | {base['toy-text']:.1f} | | |"]
    for v, accs, texts in rows:
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        lines.append(f"| {v} | {statistics.mean(accs):.1f} ± {sd:.1f} | {', '.join(f'{x:.1f}' for x in accs)} "
                     f"| {statistics.mean(texts):.1f} | {first_last(runs[v], 'reward', '.3f')} "
                     f"| {first_last(runs[v], 'teacher_kl', '.2f')} |")
    table = "\n".join(lines)
    print(table)
    docs = Path(a.docs)
    docs.mkdir(parents=True, exist_ok=True)
    (docs / f"toy_ablation{a.tag}.md").write_text(
        f"Toy-world ablation, seeds {a.seeds}, overrides {a.overrides or 'none'}, "
        f"eval limit {a.eval_limit or 'all'} (greedy, 96 new tokens).\n\n{table}\n")
    curves({v: d for v, d in runs.items() if any((x / 'rl').exists() for x in d)}, docs / f"toy_curves{a.tag}.png")


def _applies(variant: str, override: str, load_recipe) -> bool:
    """Budget overrides name stage keys; skip those for stages a variant does not run."""
    key = override.split("=", 1)[0]
    stage = key.split(".", 1)[0] if "." in key else None
    return stage is None or stage in load_recipe(variant).stages


if __name__ == "__main__":
    main()
