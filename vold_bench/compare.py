"""`vold compare`: one leaderboard from many result folders, beside the published numbers.

Reads every results.json under the given folders (samples.jsonl beside it gives the per-item
`correct` used for paired significance), makes one row per run and one column per
bench/split, and writes LEADERBOARD.md, leaderboard.csv, leaderboard.tex (and PNGs with
--plot) into `out`. The Board type lives in board.py, rendering in report.py, pictures in
plots.py, the tests in stats.py.

A run's name is its training recipe when its model (or the results file itself) sits inside a
training run folder with run.json, else the model name. Cells whose protocol (scorer version,
prompt, judge, item count, generation settings) differs from the column's reference are
flagged with a footnote, never silently compared. Published rows never get significance.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from vold_bench.board import Board, Cell, Row
from vold_bench.errors import VoldError
from vold_bench.stats import paired_test

PAPER_FILE = Path(__file__).with_name("vold_paper.yaml")
REQUIRED = ("bench", "split", "model", "accuracy", "n")
# What must match for two cells of a column to be comparable. Split is part of the column.
PROTOCOL_KEYS = ("scorer", "scorer_version", "prompt_variant", "n", "judge", "compat",
                 "max_new_tokens", "temperature", "top_p", "dataset_revision")
GENERIC_NAMES = {"final", "model", "hf", "checkpoint", "student", "last", "best"}


# ---------------------------------------------------------------------- reading result folders


def _norm(bench: str) -> str:
    return bench.lower().replace("_", "-")


def read_correct(path: Path, problems: list[str]) -> dict[str, bool] | None:
    """{id: correct}; a torn or corrupt line is counted and skipped, not fatal."""
    if not path.exists():
        return None
    out: dict[str, bool] = {}
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                out[str(rec["id"])] = bool(rec.get("correct"))
            except (json.JSONDecodeError, KeyError, TypeError):
                bad += 1
    if bad:
        problems.append(f"{path}: {bad} unreadable line(s) skipped")
    return out


def read_result(path: Path) -> dict:
    try:
        res = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise VoldError(f"{path}: not valid JSON ({e.__class__.__name__}: {e})") from None
    if not isinstance(res, dict):
        raise VoldError(f"{path}: expected a JSON object, got {type(res).__name__}")
    missing = [k for k in REQUIRED if k not in res]
    if missing:
        raise VoldError(f"{path}: missing key(s) {', '.join(missing)}")
    try:
        res["accuracy"] = float(res["accuracy"])
    except (TypeError, ValueError):
        raise VoldError(f"{path}: 'accuracy' is not a number: {res['accuracy']!r}") from None
    return res


def protocol_of(res: dict) -> dict[str, Any]:
    gen = res.get("generation") or {}
    merged = {**gen, **{k: v for k, v in res.items() if k != "generation"}}
    judge = merged.get("judge")
    # the harness writes a judge block with per-run counts; only which judge matters here
    merged["judge"] = judge.get("model") if isinstance(judge, dict) else judge
    merged["compat"] = bool(merged.get("compat"))
    merged["dataset_revision"] = (res.get("dataset") or {}).get("revision")
    return {k: merged.get(k) for k in PROTOCOL_KEYS}


def find_run_json(res_path: Path, model: str, root: Path) -> Path | None:
    """run.json of the training run this evaluation belongs to, if any."""
    starts = []
    for m in (Path(model), res_path.parent / model):
        if m.exists():
            starts.append(m.resolve())
    for start in starts:
        for d in [start, *start.parents][:4]:
            if (d / "run.json").is_file():
                return d / "run.json"
    root = root.resolve()
    for d in [res_path.parent.resolve(), *res_path.parent.resolve().parents]:
        if (d / "run.json").is_file():
            return d / "run.json"
        if d == root or root not in d.parents:
            break
    return None


def model_label(model: str) -> str:
    """A row name for a model: a hub id as is; a local folder by its name, with its parent
    when the name alone says nothing ("run-3/final", "run-3/checkpoint-200")."""
    p = Path(model)
    if not p.exists():
        return model                                   # a hub id or a toy name
    parts = p.resolve().parts
    name = parts[-1]
    if (name.lower() in GENERIC_NAMES or name.startswith("checkpoint")) and len(parts) > 1:
        return f"{parts[-2]}/{name}"
    return name


def scan(dirs: list[Path]) -> tuple[list[Row], list[str], list[Path]]:
    """Rows of runs found under `dirs`; problems (one line each); training run folders."""
    problems: list[str] = []
    entries: list[tuple[str, str, Cell, dict | None, Path | None, str]] = []
    run_dirs: set[Path] = set()
    for root in dirs:
        if not root.exists():
            problems.append(f"{root}: no such folder")
            continue
        run_dirs.update(p.parent.resolve() for p in root.rglob("run.json"))
        for path in sorted(root.rglob("results.json")):
            try:
                res = read_result(path)
            except VoldError as e:
                problems.append(str(e))
                continue
            model = str(res["model"])
            run_json = find_run_json(path, model, root)
            run_info = None
            if run_json is not None:
                try:
                    run_info = json.loads(run_json.read_text(encoding="utf-8"))
                    run_dirs.add(run_json.parent.resolve())
                except (OSError, json.JSONDecodeError) as e:
                    problems.append(f"{run_json}: unreadable run.json ({e}); named by model")
            col = f"{_norm(str(res['bench']))}/{res['split']}"
            cell = Cell(acc=res["accuracy"], n=res.get("n"), protocol=protocol_of(res),
                        correct=read_correct(path.parent / "samples.jsonl", problems),
                        path=path, created=str(res.get("created", "")))
            entries.append((model, col, cell, run_info, run_json.parent if run_json else None,
                            model_label(model)))
    return _group(entries, problems), problems, sorted(run_dirs)


def _group(entries, problems: list[str]) -> list[Row]:
    """One row per run; names made unique only as far as needed (recipe, seed, model, prompt)."""
    def base(e):
        info = e[3]
        return str(info.get("recipe")) if info and info.get("recipe") else e[5]

    def with_seed(e):
        info = e[3]
        return f"{base(e)}-s{info.get('seed')}" if info and "seed" in info else base(e)

    def with_model(e):
        return f"{with_seed(e)}:{e[5]}" if e[3] else with_seed(e)

    def with_prompt(e):
        return f"{with_model(e)}@{e[2].protocol.get('prompt_variant')}"

    # A name is good if no two distinct sources (run folder / model) share it.
    names = [base(e) for e in entries]
    for refine in (with_seed, with_model, with_prompt):
        owners: dict[str, set] = {}
        for e, n in zip(entries, names):
            owners.setdefault(n, set()).add((e[4], e[0], e[2].protocol.get("prompt_variant")))
        clash = {n for n, o in owners.items() if len(o) > 1}
        names = [refine(e) if n in clash else n for e, n in zip(entries, names)]

    rows: dict[str, Row] = {}
    for e, name in zip(entries, names):
        model, col, cell, info, run_dir, _ = e
        info = info or {}
        row = rows.setdefault(name, Row(name=name, kind="run", model=model, run_dir=run_dir,
                                        variant=info.get("variant"), recipe=info.get("recipe"),
                                        seed=info.get("seed")))
        old = row.cells.get(col)
        if old is not None:
            keep, drop = (cell, old) if cell.created >= old.created else (old, cell)
            problems.append(f"{drop.path}: same run and column as {keep.path}; kept the newer")
            cell = keep
        row.cells[col] = cell
    return list(rows.values())


# ---------------------------------------------------------------------- published rows


def load_paper(path: Path = PAPER_FILE) -> tuple[list[dict], dict[str, dict], dict[str, str]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return data["rows"], data["sources"], data.get("splits", {})
    except (OSError, yaml.YAMLError, KeyError, TypeError) as e:
        raise VoldError(f"{path}: cannot read the published numbers ({e})") from None


def paper_rows(columns: list[str], path: Path = PAPER_FILE) -> tuple[list[Row], dict, list[str]]:
    """Published rows placed in the run columns of the same benchmark; a split mismatch is
    kept but noted. Rows with no benchmark in common with the runs are left out."""
    raw, sources, splits = load_paper(path)
    rows, notes = [], []
    for r in raw:
        row = Row(name=r["name"], kind="published", variant=r.get("variant"),
                  model=r.get("model", ""), source=r.get("source"), table=r.get("table", "main"))
        for bench, value in r["values"].items():
            bench = _norm(bench)
            cols = [c for c in columns if c.split("/")[0] == bench]
            if not cols:
                continue
            want = splits.get(bench)
            col = next((c for c in cols if c.split("/", 1)[1] == want), cols[0])
            per = (r.get("checks") or {}).get(bench, {})
            cell = Cell(acc=float(value), check=per.get("check", r.get("check")),
                        note=per.get("note", r.get("check_note", "")))
            if want and col.split("/", 1)[1] != want:
                cell.note = (cell.note + "; " if cell.note else "") + f"paper split: {want}"
            row.cells[col] = cell
        if row.cells:
            rows.append(row)
    return rows, sources, notes


# ---------------------------------------------------------------------- the board


def seed_means(runs: list[Row]) -> list[Row]:
    """One extra row per recipe trained with several seeds: the mean over seeds per column
    (only columns every seed has), with the seeds' std. RL results vary a lot by seed; a
    single-seed gap is weaker evidence than the paired test on one seed suggests."""
    groups: dict[str, list[Row]] = {}
    for r in runs:
        if r.kind == "run" and r.recipe and r.seed is not None:
            groups.setdefault(r.recipe, []).append(r)
    out = []
    for recipe, rs in sorted(groups.items()):
        if len({r.seed for r in rs}) < 2:
            continue
        row = Row(name=f"{recipe} (mean of {len(rs)} seeds)", kind="mean", variant=rs[0].variant,
                  recipe=recipe)
        for col in sorted(set.intersection(*(set(r.cells) for r in rs))):
            vals = [r.cells[col].acc for r in rs]
            mu = sum(vals) / len(vals)
            sd = (sum((v - mu) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5
            row.cells[col] = Cell(acc=mu, n=rs[0].cells[col].n, std=sd,
                                  note=f"seeds {sorted(r.seed for r in rs)}")
        out.append(row)
    return out


def _reference(col: str, rows: list[Row], baseline: Row | None) -> dict | None:
    if baseline is not None and baseline.kind == "run" and col in baseline.cells:
        return baseline.cells[col].protocol
    protos = [json.dumps(r.cells[col].protocol, sort_keys=True, default=str)
              for r in rows if r.kind == "run" and col in r.cells]
    if not protos:
        return None
    return json.loads(Counter(protos).most_common(1)[0][0])


def build_board(runs: list[Row], baseline: str | None = None, paper: bool = True,
                problems: list[str] | None = None, n_boot: int = 10_000, seed: int = 0) -> Board:
    columns = sorted({c for r in runs for c in r.cells})
    rows = list(runs) + seed_means(runs)
    sources: dict = {}
    if paper and columns:
        prow, sources, _ = paper_rows(columns)
        rows += prow
    board = Board(columns=columns, rows=rows, baseline=baseline, problems=list(problems or []),
                  sources=sources)
    names = [r.name for r in rows]
    base = None
    if baseline is not None:
        if baseline not in names:
            raise VoldError(f"--baseline {baseline!r} is not a row; rows are: {', '.join(names)}")
        base = board.row(baseline)

    board.avg_cols = [c for c in columns if all(c in r.cells for r in runs)]

    _flag_protocols(board, base)
    if base is not None:
        _against_baseline(board, base, runs, n_boot, seed)
    return board


def _flag_protocols(board: Board, base: Row | None) -> None:
    """Protocol flags: every run cell against its column's reference protocol."""
    rows = board.rows
    for col in board.columns:
        ref = _reference(col, rows, base)
        for r in rows:
            cell = r.cells.get(col)
            if cell is None:
                continue
            if r.kind == "mean":
                continue                      # its seeds' own cells carry any flag
            if r.kind == "published":
                # Published-ness and the check status are shown per row; only a split
                # mismatch needs a mark on the cell itself.
                if "paper split" in cell.note:
                    _flag(board, r.name, col, f"published number; {cell.note.split('; ')[-1]}, "
                                              f"the column is {col}")
                continue
            diff = [f"{k}={cell.protocol.get(k)!r} (reference {ref.get(k)!r})"
                    for k in PROTOCOL_KEYS if ref is not None and cell.protocol.get(k) != ref.get(k)]
            if diff:
                _flag(board, r.name, col, "protocol differs: " + ", ".join(diff))


def _against_baseline(board: Board, base: Row, runs: list[Row], n_boot: int, seed: int) -> None:
    """Deltas to the baseline row, and paired tests of each run against its partner run."""
    rows = board.rows
    for r in rows:
        if r is base:
            continue
        partner = _paired_partner(r, base, runs)
        for col, cell in r.cells.items():
            # A published number was made under the paper's protocol: a delta against
            # our run would be a silent cross-protocol comparison, so none is shown.
            if col in base.cells and (r.kind == "published") == (base.kind == "published"):
                board.deltas[(r.name, col)] = cell.acc - base.cells[col].acc
            bcell = partner.cells.get(col) if partner is not None else None
            if r.kind != "run" or bcell is None:
                continue
            if not (cell.correct and bcell.correct):
                missing = [str(c.path.parent) for c in (cell, bcell) if not c.correct and c.path]
                board.notes.append(f"no paired test for {r.name} on {col}: no per-item "
                                   f"samples.jsonl in {', '.join(missing)}")
                continue
            test = paired_test(bcell.correct, cell.correct, n_boot=n_boot, seed=seed)
            if test is None:
                board.notes.append(f"no paired test for {r.name} on {col}: no item id in "
                                   f"common with {partner.name}")
                continue
            board.sig.append((r.name if partner is base else f"{r.name} vs {partner.name}",
                              col, test))


def _paired_partner(row: Row, base: Row, runs: list[Row]) -> Row | None:
    """Whom a run is tested against: the baseline run itself, or, when the baseline is a
    mean over seeds, the baseline recipe's run with the same seed (same items, same seed)."""
    if row.kind != "run":
        return None
    if base.kind == "run":
        return base
    if base.kind == "mean" and row.recipe != base.recipe:
        return next((r for r in runs if r.recipe == base.recipe and r.seed == row.seed), None)
    return None


def _flag(board: Board, row: str, col: str, text: str) -> None:
    if text not in board.footnotes:
        board.footnotes.append(text)
    board.flags[(row, col)] = board.footnotes.index(text) + 1


# ---------------------------------------------------------------------- entry point


def make_console():
    from rich.console import Console

    console = Console()
    # in logs and pipes rich assumes 80 columns; do not squeeze the tables into that
    return console if console.is_terminal else Console(width=160)


def run_compare(dirs: list[Path], baseline: str | None = None, ablation: bool = False,
                paper: bool = True, out: Path = Path("results"), plot: bool = False,
                console=None) -> Board:
    from vold_bench import report

    console = console or make_console()
    runs, problems, run_dirs = scan([Path(d) for d in dirs])
    for p in problems:
        console.print(f"[yellow]skipped:[/] {p}", highlight=False, soft_wrap=True)
    if not runs:
        raise VoldError(f"no readable results.json under {', '.join(str(d) for d in dirs)}")
    board = build_board(runs, baseline=baseline, paper=paper, problems=problems)
    board.run_dirs = run_dirs
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report.print_board(board, console, ablation=ablation)
    written = report.write_all(board, out, ablation=ablation)
    if plot:
        from vold_bench import plots
        written += plots.write_plots(board, out)
    console.print("wrote " + ", ".join(str(p) for p in written), highlight=False, soft_wrap=True)
    return board
