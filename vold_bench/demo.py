"""The README's one-command demo on the embedded toy world (`make demo` -> `vold demo`).

Checks that the toy teacher/student are there (they ship; `vold toy build` rebuilds them),
trains the variants of the paper's ablation (vold, grpo-only, no-mask, no-cold-start),
evaluates the untouched student and each trained one on the toy image benchmark, then prints
`vold compare --ablation` and writes its files and plots. Every stage is skipped when its
output already exists, so an interrupted demo resumes. Budget: 30 minutes on 2 CPU cores; the
training budgets themselves live in the recipes.

Progress: each stage prints a numbered header with elapsed time against the budget, and the
trainer and harness show their own progress bars inside it (rich allows one live display at a
time, so the demo does not wrap theirs in another).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from vold_bench.errors import VoldError

VARIANTS = ("vold", "grpo-only", "no-mask", "no-cold-start")
BASELINE = "grpo-only"        # the paper's Table 3 compares against GRPO without distillation


@dataclass
class DemoConfig:
    out: Path = Path("results/demo")
    variants: tuple[str, ...] = VARIANTS
    seed: int = 0
    bench: str = "toy"
    split: str = "test"
    eval_limit: int | None = None        # None = the whole toy test split
    eval_max_new_tokens: int = 96        # toy answers are short traces (as bench/toy_ablation.py)
    eval_batch_size: int = 32
    budget_s: float = 30 * 60
    overrides: list[str] = field(default_factory=list)   # --set key=value for every recipe


class _Stages:
    """Numbered stage headers with elapsed time and what is left of the budget."""

    def __init__(self, total: int, budget_s: float, console: Console):
        self.total, self.budget_s, self.console = total, budget_s, console
        self.t0 = time.time()
        self.k = 0
        self.log: list[tuple[str, float, str]] = []

    def run(self, title: str, fn, skip: bool = False):
        self.k += 1
        elapsed = time.time() - self.t0
        self.console.rule(f"[{self.k}/{self.total}] {title}  ·  {elapsed / 60:.1f} of "
                          f"{self.budget_s / 60:.0f} min used")
        t = time.time()
        if skip:
            self.console.print("already done, skipped", style="dim")
            self.log.append((title, 0.0, "skipped"))
            return None
        result = fn()
        dt = time.time() - t
        self.log.append((title, dt, "done"))
        self.console.print(f"done in {dt / 60:.1f} min", style="green")
        if time.time() - self.t0 > self.budget_s:
            self.console.print(f"over the {self.budget_s / 60:.0f}-minute budget", style="yellow")
        return result


def _final_model(run_dir: Path) -> str:
    try:
        info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        return str(info["final_model"])
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise VoldError(f"{run_dir / 'run.json'}: no final_model ({e})") from None


def _overrides(cfg: DemoConfig) -> list[str]:
    # The recipes carry their own seed (0); only a different one is passed on.
    return ([f"seed={cfg.seed}"] if cfg.seed else []) + list(cfg.overrides)


def _eval(cfg: DemoConfig, model: str, out: Path) -> None:
    from vold_bench.harness import EvalOptions, run_eval

    opts = {"bench": cfg.bench, "model": model, "split": cfg.split, "out": out,
            "limit": cfg.eval_limit, "max_new_tokens": cfg.eval_max_new_tokens,
            "batch_size": cfg.eval_batch_size, "temperature": 0.0, "seed": cfg.seed}
    run_eval(EvalOptions(**{k: v for k, v in opts.items() if k in EvalOptions.__dataclass_fields__}))


def run_demo(cfg: DemoConfig | None = None, console: Console | None = None):
    from vold_bench.compare import make_console, run_compare
    from vold_train.run import share_cold_start, train_recipe
    from vold_train.toy import resolve_model

    cfg = cfg or DemoConfig()
    console = console or make_console()
    out = Path(cfg.out)
    stages = _Stages(total=3 + 2 * len(cfg.variants), budget_s=cfg.budget_s, console=console)

    stages.run("toy world: teacher and student", lambda: (resolve_model("toy-teacher"),
                                                          resolve_model("toy-student")))
    base_out = out / "evals" / "toy-student" / f"{cfg.bench}-{cfg.split}"
    stages.run("evaluate the untrained student", lambda: _eval(cfg, "toy-student", base_out),
               skip=(base_out / "results.json").exists())
    first = out / "runs" / f"{cfg.variants[0]}-s{cfg.seed}"
    for v in cfg.variants:
        run_dir = out / "runs" / f"{v}-s{cfg.seed}"
        if run_dir != first:  # variants with the first one's traces + SFT reuse its cold start
            share_cold_start(v, _overrides(cfg), run_dir, first)
        stages.run(f"train {v}",
                   lambda v=v, run_dir=run_dir: train_recipe(
                       recipe=v, overrides=_overrides(cfg), out=run_dir),
                   skip=(run_dir / "run.json").exists())
        ev = out / "evals" / v / f"{cfg.bench}-{cfg.split}"
        stages.run(f"evaluate {v} on {cfg.bench}/{cfg.split}",
                   lambda run_dir=run_dir, ev=ev: _eval(cfg, _final_model(run_dir), ev),
                   skip=(ev / "results.json").exists())
    baseline = BASELINE if BASELINE in cfg.variants else None
    board = stages.run("compare --ablation", lambda: run_compare(
        [out], baseline=baseline, ablation=True, paper=True, out=out, plot=True, console=console))
    total = time.time() - stages.t0
    console.print(f"demo finished in {total / 60:.1f} min "
                  f"({'within' if total <= cfg.budget_s else 'over'} the "
                  f"{cfg.budget_s / 60:.0f}-minute budget); table and plots in {out}")
    (out / "demo_timing.json").write_text(json.dumps(
        {"total_s": round(total, 1), "stages": [{"stage": t, "seconds": round(s, 1), "status": st}
                                                for t, s, st in stages.log]}, indent=1))
    return board
