"""The leaderboard as data: a Board of Rows (runs, seed means, published numbers), each with
one Cell per benchmark column. compare.py builds it; report.py and plots.py render it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vold_bench.stats import Paired


@dataclass
class Cell:
    acc: float
    n: int | None = None
    protocol: dict[str, Any] = field(default_factory=dict)
    correct: dict[str, bool] | None = None   # item id -> correct, from samples.jsonl
    path: Path | None = None                 # results.json, or None for published
    created: str = ""
    check: str | None = None                 # published only: verification status
    note: str = ""
    std: float | None = None                 # mean-of-seeds rows: std over the seeds


@dataclass
class Row:
    name: str
    kind: str                                # "run" | "mean" (of seeds) | "published"
    cells: dict[str, Cell] = field(default_factory=dict)
    variant: dict[str, Any] | None = None    # run.json variant, or the paper's for Table 3
    run_dir: Path | None = None
    model: str = ""
    source: str | None = None                # published: key into sources
    table: str = "main"                      # published: "main" | "ablation"
    recipe: str | None = None                # from run.json
    seed: int | None = None


@dataclass
class Board:
    columns: list[str]
    rows: list[Row]
    baseline: str | None = None
    avg_cols: list[str] = field(default_factory=list)
    flags: dict[tuple[str, str], int] = field(default_factory=dict)   # (row, col) -> footnote no.
    footnotes: list[str] = field(default_factory=list)
    deltas: dict[tuple[str, str], float] = field(default_factory=dict)
    sig: list[tuple[str, str, Paired]] = field(default_factory=list)  # (row, col, test)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sources: dict[str, dict] = field(default_factory=dict)
    run_dirs: list[Path] = field(default_factory=list)

    def row(self, name: str) -> Row:
        return next(r for r in self.rows if r.name == name)

    def average(self, row: Row) -> float | None:
        if len(self.avg_cols) < 2 or not all(c in row.cells for c in self.avg_cols):
            return None
        return sum(row.cells[c].acc for c in self.avg_cols) / len(self.avg_cols)
