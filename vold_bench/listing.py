"""`vold list`: what there is to run. Benchmarks with their splits and prompt variants, training
recipes, toy models; read from the same folders `vold eval` and `vold train` read."""
from __future__ import annotations

from vold_bench.errors import VoldError
from vold_bench.tasks import get_task, list_tasks


def catalogue() -> dict[str, list[dict]]:
    benches = []
    for name in list_tasks():
        try:
            t = get_task(name)
        except VoldError as e:   # a broken task file is listed with its error, not hidden
            benches.append({"name": name, "error": str(e)})
            continue
        benches.append({"name": t.name, "splits": t.split_names(), "default_split": t.default_split,
                        "prompts": list(t.prompts), "scorer": t.scorer, "source": t.hub_id})
    from vold_train.config import RECIPES_DIR
    recipes = sorted(str(p.relative_to(RECIPES_DIR).with_suffix("")) for p in RECIPES_DIR.rglob("*.yaml")
                     if p.parent.name != "accelerate")
    from vold_train.toy import EXTRA_NAMES, TOY_NAMES, build_command, models_dir
    toys = [{"name": n, "path": str(models_dir() / d), "built": (models_dir() / d / "config.json").exists(),
             "build": build_command(n)} for n, d in {**TOY_NAMES, **EXTRA_NAMES}.items()]
    return {"benchmarks": benches, "recipes": [{"name": r} for r in recipes], "toy_models": toys}


def print_catalogue(what: str | None = None) -> None:
    from rich.console import Console
    c = Console()
    cat = catalogue()
    if what and what not in cat:
        raise VoldError(f"vold list {what}: valid: {', '.join(cat)}")
    if what in (None, "benchmarks"):
        c.print("[bold]benchmarks[/] (vold eval --tasks NAME --split SPLIT --prompt VARIANT)")
        for b in cat["benchmarks"]:
            if "error" in b:
                c.print(f"  {b['name']:<12} [red]{b['error']}[/]")
                continue
            splits = ", ".join(s + ("*" if s == b["default_split"] else "") for s in b["splits"])
            c.print(f"  {b['name']:<12} splits: {splits}   prompts: {', '.join(b['prompts'])}   "
                    f"scorer: {b['scorer']}   ({b['source']})", soft_wrap=True)
    if what in (None, "recipes"):
        c.print("[bold]recipes[/] (vold train --recipe NAME)")
        c.print("  " + ", ".join(r["name"] for r in cat["recipes"]), soft_wrap=True)
    if what in (None, "toy_models"):
        c.print("[bold]toy models[/] (vold eval --model NAME)")
        for t in cat["toy_models"]:
            c.print(f"  {t['name']:<13} {'built' if t['built'] else 'not built: ' + t['build']}  {t['path']}",
                    soft_wrap=True)
