"""PNGs for `vold compare --plot`: the leaderboard as grouped bars with bootstrap CI whiskers,
and training curves (reward, teacher KL, masked fraction) from runs' metrics.jsonl."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from vold_bench.compare import Board  # noqa: E402
from vold_bench.stats import bootstrap_ci  # noqa: E402

CURVES = (("reward", "training reward"), ("teacher_kl", "teacher KL (per token)"),
          ("masked_frac", "masked fraction (reward-1, no KD)"))


def _palette(n: int) -> list:
    """Distinct colours for up to 60 rows (tab10, then the tab20 family), cycling after."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    cols = [plt.get_cmap(m)(i) for m in ("tab20", "tab20b", "tab20c") for i in range(20)]
    return [cols[i % len(cols)] for i in range(n)]


def leaderboard_png(board: Board, path: Path) -> Path | None:
    rows = board.rows
    cols = board.columns
    if not rows or not cols:
        return None
    # Each column gets only the bars of the rows that have it, so sparse boards (runs on
    # some benchmarks, published rows on others) do not leave holes.
    groups = [[r for r in rows if c in r.cells] for c in cols]
    centers, x = [], 0.0
    for g in groups:
        slot = max(len(g), 2.0)         # room for the two-line tick label under a lone bar
        centers.append(x + (slot - 1) / 2)
        x += slot + 1.0
    color_of = {r.name: c for r, c in zip(rows, _palette(len(rows)))}
    fig, ax = plt.subplots(figsize=(min(22.0, max(6.5, 2.0 + 0.42 * x)), 4.4))
    seen = set()
    top = 0.0
    for j, (c, g) in enumerate(zip(cols, groups)):
        for k, r in enumerate(g):
            cell = r.cells[c]
            xpos = centers[j] - (len(g) - 1) / 2 + k
            published = r.kind == "published"
            label = None if r.name in seen else r.name + (" (published)" if published else "")
            seen.add(r.name)
            ax.bar(xpos, cell.acc, 0.85, label=label, color=color_of[r.name],
                   alpha=0.45 if published else 0.9, hatch="//" if published else None,
                   edgecolor="grey" if published else "white", linewidth=0.5)
            high = cell.acc
            if cell.correct:
                # The whisker is the CI of this run's own accuracy over its items; the
                # paired test (LEADERBOARD.md) is the right tool for differences.
                _, lo, high = bootstrap_ci(list(cell.correct.values()))
                ax.errorbar([xpos], [cell.acc], yerr=[[cell.acc - lo], [high - cell.acc]],
                            fmt="none", ecolor="black", elinewidth=1, capsize=3)
            ax.text(xpos, high + 0.8, f"{cell.acc:.1f}", ha="center", va="bottom", fontsize=7,
                    color="#333")
            top = max(top, high)
    ax.set_xticks(centers)
    ax.set_xticklabels([c.replace("/", "\n", 1) for c in cols], fontsize=9)
    ax.set_xlim(-0.8, x - 1.2)
    ax.set_ylim(0, min(100, top * 1.12 + 4))
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Leaderboard (whiskers: 95% bootstrap CI over items; hatched = published)",
                 fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    order = {r.name: i for i, r in enumerate(rows)}
    pairs = sorted(zip(handles, labels), key=lambda hl: order[hl[1].removesuffix(" (published)")])
    ax.legend(*zip(*pairs), fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def read_metrics(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            continue                      # a torn last line from a killed run
        if isinstance(rec, dict) and "step" in rec:
            out.append(rec)
    return out


def _ema(ys: list[float], alpha: float) -> list[float]:
    out, acc = [], None
    for y in ys:
        acc = y if acc is None else alpha * y + (1 - alpha) * acc
        out.append(acc)
    return out


def run_label(run_dir: Path) -> str:
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        label = str(info.get("recipe") or run_dir.name)
        return f"{label}-s{info['seed']}" if "seed" in info else label
    except (OSError, json.JSONDecodeError):
        return run_dir.name


def curves_png(run_dirs: list[Path], path: Path) -> Path | None:
    runs = [(run_label(d), read_metrics(d)) for d in run_dirs]
    runs = [(name, m) for name, m in runs if m]
    if not runs:
        return None
    fig, axes = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.4))
    colors = plt.get_cmap("tab10")
    for k, (key, title) in enumerate(CURVES):
        ax = axes[k]
        for i, (name, recs) in enumerate(sorted(runs)):
            pts = [(r["step"], r[key]) for r in recs if isinstance(r.get(key), (int, float))]
            if not pts:
                continue
            xs, ys = zip(*pts)
            color = colors(i % 10)
            if len(xs) > 8:
                # raw values faint, a smoothed line on top: RL metrics are noisy per step
                ax.plot(xs, ys, color=color, alpha=0.25, linewidth=0.8)
                ax.plot(xs, _ema(list(ys), 2 / (1 + max(4, len(xs) // 10))), color=color,
                        linewidth=1.8, label=name)
            else:
                ax.plot(xs, ys, color=color, linewidth=1.8, marker="o", markersize=3, label=name)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def write_plots(board: Board, out: Path) -> list[Path]:
    written = [leaderboard_png(board, out / "leaderboard.png"),
               curves_png(board.run_dirs, out / "training_curves.png")]
    return [p for p in written if p is not None]
