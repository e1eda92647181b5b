"""How a Board (compare.py) is shown: rich tables, LEADERBOARD.md, CSV and LaTeX (booktabs).

Every format shows the same cells: accuracy, delta against the baseline in brackets, and a
footnote number where the protocol differs. Published rows are always labelled as such.
"""
from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from vold_bench.board import Board, Row

VARIANT_KEYS = (("sft", "SFT"), ("rl", "RL"), ("kd", "Distill"), ("kd_mask", "KD mask"))


def _fmt(x: float | None, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:+.1f}" if signed else f"{x:.1f}"


def _fmt_p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-4 else "<1e-4"


def cell_text(board: Board, row: Row, col: str, marks: bool = True) -> str:
    cell = row.cells.get(col)
    if cell is None:
        return "-"
    text = _fmt(cell.acc)
    if cell.std is not None:
        text += f"±{cell.std:.1f}"
    delta = board.deltas.get((row.name, col))
    if delta is not None:
        text += f" ({_fmt(delta, signed=True)})"
    flag = board.flags.get((row.name, col))
    if marks and flag:
        text += f" [{flag}]"
    return text


def avg_text(board: Board, row: Row) -> str:
    avg = board.average(row)
    if avg is None:
        return "-"
    text = _fmt(avg)
    base = board.row(board.baseline) if board.baseline else None
    if base is not None and base is not row and board.average(base) is not None:
        text += f" ({_fmt(avg - board.average(base), signed=True)})"
    return text


def _kind(row: Row) -> str:
    return {"published": "published", "mean": "seed mean"}.get(row.kind, "run")


def _marks(variant: dict | None) -> list[str]:
    v = variant or {}
    return ["✓" if v.get(k) else "✗" for k, _ in VARIANT_KEYS] + [str(v.get("trace_source") or "-")]


def ablation_rows(board: Board) -> list[Row]:
    averaged = {r.recipe for r in board.rows if r.kind == "mean"}    # show those as one row
    rows = [r for r in board.rows if r.variant and (r.kind != "published" or r.table == "ablation")
            and not (r.kind == "run" and r.recipe in averaged)]
    return sorted(rows, key=lambda r: (r.kind != "published",
                                       tuple(bool((r.variant or {}).get(k)) for k, _ in VARIANT_KEYS)))


def sig_rows(board: Board) -> list[list[str]]:
    out = []
    for name, col, t in board.sig:
        out.append([name, col, str(t.n), _fmt(t.acc_a), _fmt(t.acc_b), _fmt(t.diff, True),
                    f"[{_fmt(t.ci_low, True)}, {_fmt(t.ci_high, True)}]", _fmt_p(t.p_value),
                    f"{t.only_b} / {t.only_a}"])
    return out


# "wins/losses": items only the run got right / items only the baseline got right.
SIG_HEADER = ["run", "bench/split", "n", "base %", "run %", "diff pp", "95% CI", "McNemar p",
              "wins/losses"]


def published_rows(board: Board) -> list[list[str]]:
    out = []
    for r in board.rows:
        if r.kind != "published":
            continue
        src = board.sources.get(r.source or "", {})
        for col, cell in r.cells.items():
            # the value exactly as published (Table 3 has two decimals)
            value = f"{cell.acc:.1f}" if round(cell.acc, 1) == cell.acc else f"{cell.acc:.2f}"
            out.append([r.name, col, value, src.get("cite", r.source or "?"),
                        cell.check or "unchecked", cell.note or ""])
    return out


# ---------------------------------------------------------------------- terminal


def print_board(board: Board, console: Console, ablation: bool = False) -> None:
    title = "Leaderboard (accuracy %, delta vs " + (board.baseline or "no baseline") + ")"
    t = Table(title=title, title_justify="left")
    t.add_column("run")
    t.add_column("kind", style="dim")
    for c in board.columns:
        t.add_column(c, justify="right")
    t.add_column("avg", justify="right", style="bold")
    for r in board.rows:
        style = "italic dim" if r.kind == "published" else ("bold" if r.name == board.baseline else None)
        t.add_row(r.name, _kind(r), *[cell_text(board, r, c) for c in board.columns],
                  avg_text(board, r), style=style)
    console.print(t)
    if board.avg_cols and len(board.avg_cols) >= 2:
        console.print(f"avg over the columns every run has: {', '.join(board.avg_cols)}", style="dim")
    for i, f in enumerate(board.footnotes, 1):
        console.print(f"[{i}] {f}", style="yellow", highlight=False, soft_wrap=True)
    for note in board.notes:
        console.print(note, style="yellow", highlight=False, soft_wrap=True)
    if board.sig:
        s = Table(title=f"Paired significance vs {board.baseline} (same item ids)", title_justify="left")
        for h in SIG_HEADER:
            s.add_column(h, justify="left" if h in ("run", "bench/split") else "right")
        for cells in sig_rows(board):
            s.add_row(*cells)
        console.print(s)
    if ablation:
        rows = ablation_rows(board)
        a = Table(title="Ablation (VOLD Table 3 layout)", title_justify="left")
        a.add_column("variant")
        for _, h in VARIANT_KEYS:
            a.add_column(h, justify="center")
        a.add_column("traces")
        for c in board.columns:
            a.add_column(c, justify="right")
        a.add_column("avg", justify="right")
        for r in rows:
            a.add_row(r.name, *_marks(r.variant), *[cell_text(board, r, c) for c in board.columns],
                      avg_text(board, r), style="italic dim" if r.kind == "published" else None)
        console.print(a)
        if not rows:
            console.print("no run has a run.json variant; nothing to lay out", style="yellow")


# ---------------------------------------------------------------------- files


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown(board: Board, ablation: bool = False) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# Leaderboard\n\nMade by `vold compare` on {now}. Accuracy in %; "
             f"(delta) against baseline **{board.baseline or 'none'}**; [k] = footnote k. "
             "Published rows are the papers' numbers, not re-run."]
    header = ["run", "kind", *board.columns, "avg"]
    body = [[r.name, _kind(r), *[cell_text(board, r, c) for c in board.columns], avg_text(board, r)]
            for r in board.rows]
    parts.append(_md_table(header, body))
    if len(board.avg_cols) >= 2:
        parts.append(f"avg = mean over the columns every run has: {', '.join(board.avg_cols)}.")
    if board.footnotes:
        parts.append("\n".join(f"{i}. {f}" for i, f in enumerate(board.footnotes, 1)))
    if board.sig:
        parts.append(f"## Paired significance vs {board.baseline}\n\nOn the item ids both runs "
                     "scored: paired bootstrap 95% CI of the difference (10,000 resamples, "
                     "seed 0) and the exact McNemar test; wins/losses = items only the run / "
                     "only the baseline got right.")
        parts.append(_md_table(SIG_HEADER, sig_rows(board)))
    if board.notes:
        parts.append("\n".join(f"- {n}" for n in board.notes))
    if ablation:
        rows = ablation_rows(board)
        parts.append("## Ablation (VOLD Table 3 layout)")
        parts.append(_md_table(["variant", *[h for _, h in VARIANT_KEYS], "traces", *board.columns, "avg"],
                               [[r.name, *_marks(r.variant), *[cell_text(board, r, c) for c in board.columns],
                                 avg_text(board, r)] for r in rows]))
    pub = published_rows(board)
    if pub:
        parts.append("## Published numbers shown above\n\nEach with its source and whether it "
                     "was checked against the paper (see vold_bench/vold_paper.yaml).")
        parts.append(_md_table(["row", "column", "value", "source", "check", "note"], pub))
    if board.problems:
        parts.append("## Skipped\n\n" + "\n".join(f"- {p}" for p in board.problems))
    return "\n\n".join(parts) + "\n"


def write_csv(board: Board, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["run", "kind", *board.columns, "avg", *[f"n:{c}" for c in board.columns]])
        for r in board.rows:
            avg = board.average(r)
            w.writerow([r.name, _kind(r),
                        *[f"{r.cells[c].acc:.2f}" if c in r.cells else "" for c in board.columns],
                        "" if avg is None else f"{avg:.2f}",
                        *[r.cells[c].n if c in r.cells and r.cells[c].n is not None else ""
                          for c in board.columns]])


def write_sig_csv(board: Board, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["run", "baseline", "column", "n", "acc_baseline", "acc_run", "diff",
                    "ci_low", "ci_high", "p_mcnemar", "only_run", "only_baseline"])
        for name, col, t in board.sig:
            w.writerow([name, board.baseline, col, t.n, f"{t.acc_a:.3f}", f"{t.acc_b:.3f}",
                        f"{t.diff:.3f}", f"{t.ci_low:.3f}", f"{t.ci_high:.3f}",
                        f"{t.p_value:.6g}", t.only_b, t.only_a])


def _tex(s: str) -> str:
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"),
                 ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                 ("^", r"\^{}")):
        s = s.replace(a, b)
    return s.replace("\\textbackslash\\{\\}", r"\textbackslash{}")


def latex(board: Board, ablation: bool = False) -> str:
    """booktabs table; the best run value per column in bold; published rows in italics."""
    rows = ablation_rows(board) if ablation else board.rows
    lead = ["Variant", "SFT", "RL", "Distill."] if ablation else ["Model"]
    best = {c: max((r.cells[c].acc for r in rows if r.kind == "run" and c in r.cells), default=None)
            for c in board.columns}
    spec = "l" + "c" * (len(lead) - 1) + "r" * (len(board.columns) + 1)
    lines = [r"\begin{tabular}{" + spec + "}", r"\toprule",
             " & ".join([*lead, *[_tex(c) for c in board.columns], "Avg."]) + r" \\", r"\midrule"]
    for r in rows:
        cells = []
        for c in board.columns:
            cell = r.cells.get(c)
            if cell is None:
                cells.append("--")
                continue
            v = f"{cell.acc:.1f}"
            if cell.std is not None:
                v += r"{\scriptsize$\pm$" + f"{cell.std:.1f}" + "}"
            if r.kind == "run" and best[c] is not None and cell.acc == best[c]:
                v = r"\textbf{" + v + "}"
            if board.flags.get((r.name, c)):
                v += r"$^{" + str(board.flags[(r.name, c)]) + "}$"
            cells.append(v)
        avg = board.average(r)
        name = _tex(r.name)
        if r.kind == "published":
            name = r"\textit{" + name + "}"
        head = [name]
        if ablation:
            head += [r"\checkmark" if (r.variant or {}).get(k) else "--" for k in ("sft", "rl", "kd")]
        lines.append(" & ".join([*head, *cells, "--" if avg is None else f"{avg:.1f}"]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_all(board: Board, out: Path, ablation: bool = False) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "LEADERBOARD.md", out / "leaderboard.csv", out / "leaderboard.tex"]
    written[0].write_text(markdown(board, ablation), encoding="utf-8")
    write_csv(board, written[1])
    written[2].write_text(latex(board), encoding="utf-8")
    if board.sig:
        written.append(out / "significance.csv")
        write_sig_csv(board, written[-1])
    if ablation:
        written.append(out / "ablation.tex")
        written[-1].write_text(latex(board, ablation=True), encoding="utf-8")
    return written
