"""PNGs for `vold compare --plot`: the leaderboard as grouped bars with bootstrap CI whiskers,
and training curves (reward, teacher KL, masked fraction) from runs' metrics.jsonl."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from vold_bench.board import Board  # noqa: E402
from vold_bench.stats import bootstrap_ci  # noqa: E402

CURVES = (("reward", "training reward"), ("teacher_rkl", "teacher reverse KL per token (exact)"),
          ("masked_frac", "masked fraction (reward-1, no KD)"))


def _palette(n: int) -> list:
    """Distinct colours for up to 60 rows (tab10, then the tab20 family), cycling after."""
    if n <= 10:
        return [plt.get_cmap("tab10")(i) for i in range(n)]
    cols = [plt.get_cmap(m)(i) for m in ("tab20", "tab20b", "tab20c") for i in range(20)]
    return [cols[i % len(cols)] for i in range(n)]


def _bar(ax, xpos: float, cell, label: str | None, color, published: bool, crowded: bool) -> float:
    """One cell's bar, its whisker and its value; returns the top of the whisker."""
    ax.bar(xpos, cell.acc, 0.85, label=label, color=color,
           alpha=0.45 if published else 0.9, hatch="//" if published else None,
           edgecolor="grey" if published else "white", linewidth=0.5)
    high = cell.acc
    if cell.std is not None:
        high = cell.acc + cell.std
        ax.errorbar([xpos], [cell.acc], yerr=[[min(cell.std, cell.acc)], [cell.std]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=3)
    elif cell.correct:
        # The whisker is the CI of this run's own accuracy over its items; the
        # paired test (LEADERBOARD.md) is the right tool for differences.
        _, lo, high = bootstrap_ci(list(cell.correct.values()))
        ax.errorbar([xpos], [cell.acc], yerr=[[cell.acc - lo], [high - cell.acc]],
                    fmt="none", ecolor="black", elinewidth=1, capsize=3)
    ax.text(xpos, high + 0.8, f"{cell.acc:.1f}", ha="center", va="bottom",
            fontsize=6 if crowded else 7, rotation=90 if crowded else 0, color="#333")
    return high


def leaderboard_png(board: Board, path: Path) -> Path | None:
    # With several seeds per recipe, draw the seed means (whisker: +-1 std over seeds) instead
    # of every seed; runs without seeds keep their bootstrap CI over items.
    averaged = {r.recipe for r in board.rows if r.kind == "mean"}
    rows = [r for r in board.rows if not (r.kind == "run" and r.recipe in averaged)]
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
    n_bars = sum(len(g) for g in groups)
    legend_cols = 1 if len(rows) <= 16 else 2
    height = max(4.4, 0.2 * len(rows) / legend_cols + 1.2)    # the legend must fit beside
    fig, ax = plt.subplots(figsize=(min(24.0, max(6.5, 2.0 + 0.42 * x + 2.5 * legend_cols)), height))
    seen = set()
    top = 0.0
    for j, (c, g) in enumerate(zip(cols, groups)):
        for k, r in enumerate(g):
            cell = r.cells[c]
            xpos = centers[j] - (len(g) - 1) / 2 + k
            published = r.kind == "published"
            label = None if r.name in seen else r.name + (" (published)" if published else "")
            seen.add(r.name)
            high = _bar(ax, xpos, cell, label, color_of[r.name], published, crowded=n_bars > 30)
            top = max(top, high)
    ax.set_xticks(centers)
    ax.set_xticklabels([c.replace("/", "\n", 1) for c in cols], fontsize=9)
    ax.set_xlim(-0.8, x - 1.2)
    ax.set_ylim(0, min(100, top * 1.12 + (9 if n_bars > 30 else 4)))
    ax.set_ylabel("accuracy (%)")
    title = "whiskers: 95% bootstrap CI over items"
    title += "; seed means: ±1 std over seeds" if averaged else ""
    title += "; hatched: published, not re-run"
    ax.set_title("Leaderboard\n" + textwrap.fill(title, width=int(fig.get_figwidth() * 9)),
                 fontsize=9, loc="left")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    handles, labels = ax.get_legend_handles_labels()
    order = {r.name: i for i, r in enumerate(rows)}
    pairs = sorted(zip(handles, labels), key=lambda hl: order[hl[1].removesuffix(" (published)")])
    ax.legend(*zip(*pairs), fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              ncol=legend_cols)
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
    # The trainer tags each line with its stage; the curves are about RL (SFT steps would
    # restart the step axis), so keep the RL lines when there are any.
    rl = [r for r in out if r.get("stage") == "rl"]
    return rl or out


def _ema(ys: list[float], alpha: float) -> list[float]:
    out, acc = [], None
    for y in ys:
        acc = y if acc is None else alpha * y + (1 - alpha) * acc
        out.append(acc)
    return out


def _run_json(run_dir: Path) -> dict:
    """The trainer's run.json, or {} where there is none (a folder of results only)."""
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return info if isinstance(info, dict) else {}


def curve_records(run_dir: Path, info: dict | None = None) -> list[dict]:
    """A run's metrics lines as the curves read them. A run without a distillation term
    (run.json variant kd false: grpo-only, sft-only) masks nothing, so its `masked_frac`
    (which the trainer still logs, as the share of reward-1 rollouts) is left out; without a
    run.json, what was logged is drawn. `info`: that run.json when the caller has read it."""
    info = _run_json(run_dir) if info is None else info
    recs = read_metrics(run_dir)
    variant = info.get("variant")
    if isinstance(variant, dict) and variant.get("kd") is False:
        recs = [{k: v for k, v in r.items() if k != "masked_frac"} for r in recs]
    return recs


def _series(recs: list[dict], key: str) -> dict[int, float]:
    return {int(r["step"]): float(r[key]) for r in recs
            if isinstance(r.get(key), (int, float)) and isinstance(r.get("step"), (int, float))}


def curves_png(run_dirs: list[Path], path: Path) -> Path | None:
    """One line per recipe: a single run smoothed over its faint raw values, several seeds
    as their mean with a min-max band (curves are aligned on the steps all seeds logged)."""
    groups: dict[str, list[list[dict]]] = {}
    for d in run_dirs:
        info = _run_json(d)
        recs = curve_records(d, info)
        if recs:
            groups.setdefault(str(info.get("recipe") or d.name), []).append(recs)
    if not groups:
        return None
    fig, axes = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.4))
    colors = dict(zip(sorted(groups), _palette(len(groups))))
    # dashes too, so recipes whose curves coincide (e.g. masked fraction 0) stay visible
    dashes = {g: ("-", "--", "-.", ":")[i % 4] for i, g in enumerate(sorted(groups))}
    for ax, (key, title) in zip(axes, CURVES):
        for recipe in sorted(groups):
            runs = [_series(recs, key) for recs in groups[recipe]]
            runs = [r for r in runs if r]
            if not runs:
                continue
            steps = sorted(set.intersection(*(set(r) for r in runs)))
            if not steps:
                continue
            alpha = 2 / (1 + max(4, len(steps) // 10))
            smooth = [_ema([r[s] for s in steps], alpha) if len(steps) > 8 else [r[s] for s in steps]
                      for r in runs]
            mean = [sum(v) / len(v) for v in zip(*smooth)]
            c = colors[recipe]
            label = recipe if len(runs) == 1 else f"{recipe} ({len(runs)} seeds)"
            if len(runs) == 1 and len(steps) > 8:
                # raw values faint under the smoothed line: RL metrics are noisy per step
                ax.plot(steps, [runs[0][s] for s in steps], color=c, alpha=0.25, linewidth=0.8)
            elif len(runs) > 1:
                ax.fill_between(steps, [min(v) for v in zip(*smooth)], [max(v) for v in zip(*smooth)],
                                color=c, alpha=0.15, linewidth=0)
            ax.plot(steps, mean, color=c, linewidth=1.8, label=label, linestyle=dashes[recipe],
                    marker="o" if len(steps) <= 8 else None, markersize=3)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
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
