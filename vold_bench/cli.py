"""The `vold` command. Parses arguments and calls library functions; no logic lives here.

Imports of the heavy modules happen inside each command so `vold --help` stays instant.
"""
from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="vold: reasoning transfer from text-only LLMs to VLMs (VOLD).")
toy_app = typer.Typer(no_args_is_help=True, help="The embedded toy world.")
app.add_typer(toy_app, name="toy")


def _fail(msg: str) -> None:
    typer.secho(f"error: {msg}", fg="red", err=True)
    raise typer.Exit(2)


# ---------------------------------------------------------------- vold eval / vold score


@app.command("eval")
def eval_cmd(
    bench: str = typer.Option("toy", "--bench", "--tasks", help="Benchmark(s), comma-separated (see `vold list`)."),
    model: str = typer.Option("toy-student", help="Hub id, local path, or toy-student / toy-teacher."),
    model_args: str | None = typer.Option(None, help="lm-eval style: pretrained=X,base_url=U,num_concurrent=N."),
    gen_kwargs: str | None = typer.Option(None, help="lm-eval style: max_new_tokens=N,temperature=T,top_p=P."),
    split: str | None = typer.Option(None, help="Split or setting; the task's default if omitted."),
    data: str | None = typer.Option(None, help="Local folder in the upstream schema, or a hub id."),
    backend: str = typer.Option("hf", help="hf | vllm | openai"),
    limit: float | None = typer.Option(None, help="Evaluate only the first N items, or a fraction (0.1)."),
    out: Path | None = typer.Option(None, "--out", "--output-path",
                                       help="Output folder (default results/<model>/<bench>-<split>/); "
                                            "with several tasks, one subfolder per task."),
    prompt: str = typer.Option("default", help="Prompt variant: default | official | ..."),
    max_new_tokens: int = typer.Option(1024),
    temperature: float = typer.Option(0.0),
    top_p: float = typer.Option(1.0),
    seed: int = typer.Option(0),
    batch_size: int = typer.Option(8),
    base_url: str | None = typer.Option(None, help="openai backend: server URL."),
    concurrency: int = typer.Option(8, help="openai backend: requests in flight."),
    api_key: str | None = typer.Option(None, help="openai backend: API key (default $OPENAI_API_KEY)."),
    extra_body: str | None = typer.Option(None, help='openai backend: JSON merged into each request, '
                                             'e.g. \'{"chat_template_kwargs": {"enable_thinking": false}}\'.'),
    tensor_parallel_size: int = typer.Option(1, help="vllm backend."),
    judge: str | None = typer.Option(None, help="OpenAI-compatible URL of an optional LLM judge."),
    judge_model: str | None = typer.Option(None),
    compat: bool = typer.Option(False, help="Reproduce the official scorer (MMMU-Pro, MathVision)."),
):
    """Evaluate a model on a benchmark; re-running continues where a run stopped."""
    from vold_bench.errors import VoldError
    from vold_bench.harness import EvalOptions, run_tasks

    opts = EvalOptions(**{k: v for k, v in locals().items() if k in EvalOptions.__dataclass_fields__})
    try:
        run_tasks(opts, model_args=model_args, gen_kwargs=gen_kwargs)
    except VoldError as e:
        _fail(str(e))


@app.command("score")
def score_cmd(
    bench: str = typer.Option(..., help="Benchmark name (see tasks/)."),
    responses: Path = typer.Option(..., help="Responses: vold JSONL (id, response), lmms-eval samples "
                                   "(doc_id, filtered_resps) or VLMEvalKit .tsv/.xlsx (index, prediction)."),
    split: str | None = typer.Option(None),
    data: str | None = typer.Option(None),
    out: Path | None = typer.Option(None),
    format: str | None = typer.Option(None, "--format", help="vold | lmms | vlmeval (default: from the file)."),
    on_duplicate: str = typer.Option("error", help="Two responses for one id: error | first | last."),
    model: str | None = typer.Option(None, help="Model name for results.json (default: the file's stem)."),
    compat: bool = typer.Option(False, help="Reproduce the official scorer (MMMU-Pro, MathVision)."),
):
    """Score saved responses without a model; says how much of the split they cover."""
    from vold_bench.errors import VoldError
    from vold_bench.rescore import score_responses

    try:
        score_responses(bench=bench, responses=responses, split=split, data=data, out=out, compat=compat,
                        fmt=format, on_duplicate=on_duplicate, model=model)
    except VoldError as e:
        _fail(str(e))


@app.command("list")
def list_cmd(what: str | None = typer.Argument(None, help="benchmarks | recipes | toy_models (default: all).")):
    """Benchmarks (splits, prompt variants), training recipes and toy models; * marks a default split."""
    from vold_bench.errors import VoldError

    try:
        print_catalogue(what)
    except VoldError as e:
        _fail(str(e))


@app.command("lmms-tasks")
def lmms_tasks_cmd(
    out: Path = typer.Option(..., help="Folder to write the YAMLs, utils.py (and data/) into."),
    data_root: Path | None = typer.Option(None, help="Local benchmark copies (ROOT/<bench>/); "
                                             "without it the YAMLs load the hub datasets."),
):
    """lmms-eval task YAMLs for our benchmarks: `lmms-eval --include_path OUT --tasks vold_<bench>`."""
    from vold_bench.errors import VoldError
    from vold_bench.lmms_tasks import write_lmms_tasks

    try:
        written = write_lmms_tasks(out, data_root)
    except VoldError as e:
        _fail(str(e))
    typer.echo(f"wrote {len(written)} files to {out}")


# ---------------------------------------------------------------- vold compare


@app.command("compare")
def compare_cmd(
    dirs: list[Path] = typer.Argument(None, help="Folders to scan for results.json (default results/)."),
    baseline: str | None = typer.Option(None, help="Run name to compute deltas against."),
    ablation: bool = typer.Option(False, help="Lay out training variants as the paper's Table 3."),
    paper: bool = typer.Option(True, help="Show the VOLD paper's published rows."),
    out: Path = typer.Option(Path("results"), help="Where LEADERBOARD.md / .csv / .tex and plots go."),
    plot: bool = typer.Option(False, help="Write PNG plots."),
):
    """Leaderboard of runs beside the paper's numbers, with paired significance."""
    from vold_bench.compare import run_compare
    from vold_bench.errors import VoldError

    try:
        run_compare(dirs=dirs or [Path("results")], baseline=baseline, ablation=ablation,
                    paper=paper, out=out, plot=plot)
    except VoldError as e:
        _fail(str(e))


# ---------------------------------------------------------------- vold toy


@toy_app.command("build")
def toy_build_cmd(
    force: bool = typer.Option(False, help="Rebuild even if the models exist."),
    out: Path | None = typer.Option(None, help="Where to put the toy models (default: the package's)."),
    vteacher: bool = typer.Option(False, "--vteacher", help="Build toy-vteacher (VA-OPD's image-seeing "
                                  "teacher) instead of the teacher and student."),
    only: str | None = typer.Option(None, help="Build one model: student or teacher."),
    set_: list[str] = typer.Option([], "--set", help="Override a BuildConfig key (a candidate world): "
                                   "--set student_drill_style=chains. Needs --out."),
):
    """Build the toy tokenizer, teacher and student (minutes on 2 cores)."""
    from vold_bench.errors import VoldError
    from vold_train.toy import models_dir
    from vold_train.toy.build import build, build_config
    from vold_train.toy.vteacher import build_vteacher

    if vteacher:
        typer.echo(f"[toy build] toy-vteacher in {build_vteacher((out or models_dir()) / 'vteacher', force=force)}")
        return
    try:
        if set_ and out is None:
            raise VoldError("toy build --set: give --out, the shipped models are built with the defaults")
        if only not in (None, "student", "teacher"):
            raise VoldError(f"toy build --only: student or teacher, got {only!r}")
        cfg = build_config(set_)
    except VoldError as e:
        _fail(str(e))
    build(out=out, force=force, cfg=cfg, parts=(only,) if only else ("teacher", "student"))


# ---------------------------------------------------------------- vold train / vold traces


@app.command("train")
def train_cmd(
    recipe: str = typer.Option("vold", help="Recipe name under recipes/ or a YAML path."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: --set key=value."),
    out: Path | None = typer.Option(None, help="Run folder (default results/runs/<recipe>-s<seed>)."),
):
    """Cold-start SFT then GRPO + on-policy distillation, or one of the ablations."""
    from vold_bench.errors import VoldError
    from vold_train.run import train_recipe

    try:
        train_recipe(recipe=recipe, overrides=set_, out=out)
    except VoldError as e:
        _fail(str(e))


@app.command("traces")
def traces_cmd(
    recipe: str = typer.Option("vold", help="Recipe whose traces section to use."),
    set_: list[str] = typer.Option([], "--set", help="Override a config key: --set key=value."),
):
    """The teacher writes reasoning traces for text prompts (resumable JSONL)."""
    from vold_bench.errors import VoldError
    from vold_train.traces import traces_recipe

    try:
        traces_recipe(recipe=recipe, overrides=set_)
    except VoldError as e:
        _fail(str(e))


# ---------------------------------------------------------------- vold demo


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("results/demo"), help="Where the demo's runs, tables and plots go."),
    seed: int = typer.Option(0),
):
    """Toy-world demo: train vold / grpo-only / no-mask / no-cold-start, evaluate, compare."""
    from vold_bench.demo import DemoConfig, run_demo
    from vold_bench.errors import VoldError

    try:
        run_demo(DemoConfig(out=out, seed=seed))
    except VoldError as e:
        _fail(str(e))


if __name__ == "__main__":
    app()


# ---------------------------------------------------------------- vold list: what there is to run
# Benchmarks, training recipes and toy models, read from the same folders `vold eval` and
# `vold train` read. It names both packages' contents, so it lives here in the CLI layer.


def catalogue() -> dict[str, list[dict]]:
    from vold_bench.errors import VoldError
    from vold_bench.tasks import get_task, list_tasks
    from vold_train.config import RECIPES_DIR
    from vold_train.toy import EXTRA_NAMES, TOY_NAMES, build_command, models_dir

    benches = []
    for name in list_tasks():
        try:
            t = get_task(name)
        except VoldError as e:   # a broken task file is listed with its error, not hidden
            benches.append({"name": name, "error": str(e)})
            continue
        benches.append({"name": t.name, "splits": t.split_names(), "default_split": t.default_split,
                        "prompts": list(t.prompts), "scorer": t.scorer, "source": t.hub_id})
    recipes = sorted(str(p.relative_to(RECIPES_DIR).with_suffix("")) for p in RECIPES_DIR.rglob("*.yaml")
                     if p.parent.name != "accelerate")
    toys = [{"name": n, "path": str(models_dir() / d), "built": (models_dir() / d / "config.json").exists(),
             "build": build_command(n)} for n, d in {**TOY_NAMES, **EXTRA_NAMES}.items()]
    return {"benchmarks": benches, "recipes": [{"name": r} for r in recipes], "toy_models": toys}


def print_catalogue(what: str | None = None) -> None:
    from rich.console import Console

    from vold_bench.errors import VoldError
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
