"""`vold train`: run the stages a recipe names into one run folder, resumably.

Run folder (default results/runs/<recipe>-s<seed>/):
  config.yaml     the resolved recipe (after --set overrides)
  metrics.jsonl   one JSON object per step, with its "stage"
  traces.jsonl    the teacher's traces (recipes with a traces stage)
  sft/, rl/       ckpt-<step>/ (model + optimizer/scheduler/step/RNG) and final/
  run.json        recipe, variant, seed, final_model (written when the last stage ends)
Re-running the same command continues: finished stages are skipped, a stage resumes from its
last checkpoint. A folder holding a run with a different config is refused, not mixed.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import yaml

from vold_bench.errors import VoldError
from vold_train import dist, sharding
from vold_train.config import STAGE_CLASSES, Recipe, load_recipe, save_config, saved_keys, variant


def _check_same_run(run_dir: Path, r: Recipe) -> None:
    cfg_path = run_dir / "config.yaml"
    if not cfg_path.exists():
        return
    # read in today's keys: a field added since that run, at its default, changes nothing
    old = saved_keys(yaml.safe_load(cfg_path.read_text()) or {})
    new = saved_keys(r.to_dict())
    # a section of a stage the run does not have changes nothing it made (an sft-only run
    # folder stays reusable when the RL defaults move)
    unused = {sec for sec in STAGE_CLASSES if sec not in r.stages and sec not in (old.get("stages") or [])}
    diff = [k for k in new if old.get(k) != new[k] and k.split(".")[0] not in unused]
    if diff:
        raise VoldError(f"{run_dir} holds a run with a different config ({', '.join(diff[:5])} "
                        f"differ); pass another --out or delete the folder")


def preflight(r: Recipe) -> dict | None:
    """With a GPU plan (rl.plan.gpus > 0), refuse models that cannot fit before loading them."""
    if "rl" not in r.stages or r.rl.plan.gpus <= 0:
        return None
    from vold_train.common import model_path
    from vold_train.sizing import Plan, format_report
    from vold_train.sizing import preflight as size_check

    c, e = r.rl, r.rl.engine
    # Under a multi-process launch the strategy in force is the one to check, whatever
    # rl.plan.strategy says (it is for planning from a single process).
    launched = {"fsdp2": "fsdp", "zero3": "zero3", "ddp": "ddp"}.get(sharding.strategy())
    plan = Plan(gpus=c.plan.gpus, gpu_mem_gb=c.plan.gpu_mem_gb, strategy=launched or c.plan.strategy,
                micro_batch=e.micro_batch, seq_len=c.plan.prompt_tokens + c.sampling.max_new_tokens,
                grad_ckpt=e.gradient_checkpointing, bf16=e.bf16, logprob_chunk=e.logprob_chunk,
                teacher_engine=e.teacher, rollout_engine=e.rollout, vllm_mem_fraction=e.vllm_gpu_memory_utilization)
    student = r.sft.model if c.model == "sft" else c.model
    rep = size_check(model_path(student), model_path(c.teacher), plan)
    if dist.is_main():
        print(format_report(rep))
    return rep


def _traces_path(run_dir: Path, r: Recipe) -> Path:
    return Path(r.traces.out) if r.traces.out else run_dir / "traces.jsonl"


def _done_stages(run_dir: Path, r: Recipe) -> set[str]:
    """The stages whose output is already in run_dir (a re-run skips them)."""
    tpath = _traces_path(run_dir, r)
    done = {"traces"} if tpath.exists() and tpath.stat().st_size else set()
    return done | {st for st in ("sft", "rl") if (run_dir / st / "final" / "config.json").exists()}


def _kept_timings(run_dir: Path, timings: dict, done_before: set[str]) -> dict:
    """A re-run keeps the time the earlier run recorded for each stage it skipped, so run.json
    still says what the run took; when it skipped every stage, it keeps the earlier wall_s too."""
    try:
        old = json.loads((run_dir / "run.json").read_text()).get("timings", {})
    except (OSError, json.JSONDecodeError):
        return timings
    stages = {k.removesuffix("_s") for k in timings} - {"wall"}
    kept = {f"{st}_s": old[f"{st}_s"] for st in stages & done_before if f"{st}_s" in old}
    if stages <= done_before and "wall_s" in old:
        kept["wall_s"] = old["wall_s"]
    return {**timings, **kept}


def train_recipe(recipe: str = "vold", overrides: list[str] | None = None,
                 out: Path | str | None = None, reward_fn=None) -> Path:
    from vold_train import rl, sft
    from vold_train.traces import write_traces

    r = load_recipe(recipe, overrides)
    run_dir = Path(out) if out else Path("results/runs") / f"{r.name}-s{r.seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    _check_same_run(run_dir, r)
    dist.barrier()  # every rank has read the old config before rank 0 writes the new one
    if dist.is_main():
        save_config(r, run_dir / "config.yaml")
    preflight(r)  # before any weight loads
    if r.threads > 0:
        import torch

        torch.set_num_threads(r.threads)

    t0 = time.perf_counter()
    timings = {}
    done_before = _done_stages(run_dir, r)
    model = r.sft.model
    if "traces" in r.stages:
        t = time.perf_counter()
        tpath = _traces_path(run_dir, r)
        counts = write_traces(r.traces, tpath) if dist.is_main() else {}  # one writer; others wait
        dist.barrier()
        if not tpath.exists() or not tpath.read_text().strip():
            raise VoldError(f"{tpath}: the teacher {r.traces.teacher!r} produced no usable trace "
                            f"({counts}); raise traces.max_new_tokens or relax the filters")
        timings["traces_s"] = time.perf_counter() - t
        print(f"traces: {counts}")
    if "sft" in r.stages:
        t = time.perf_counter()
        model = sft.train(r.sft, run_dir)
        timings["sft_s"] = time.perf_counter() - t
    if "rl" in r.stages:
        t = time.perf_counter()
        model = rl.train(r.rl, run_dir, model if r.rl.model == "sft" else r.rl.model, reward_fn)
        timings["rl_s"] = time.perf_counter() - t
    timings["wall_s"] = time.perf_counter() - t0
    timings = _kept_timings(run_dir, timings, done_before)

    info = {"recipe": r.name, "variant": variant(r), "seed": r.seed, "final_model": str(model),
            "stages": r.stages, "timings": timings, "sharding": sharding.strategy(), "world_size": dist.world()}
    if dist.is_main():
        (run_dir / "run.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"run {run_dir}: final model {model} ({timings['wall_s']:.0f} s this invocation)")
    return run_dir


def share_cold_start(recipe: str, overrides: list[str], out: Path, source: Path) -> bool:
    """Seed a new run folder `out` with the finished cold start (traces + SFT) of `source`
    when both recipes' traces and sft sections are equal, so train_recipe skips those stages.
    The ablations differ only after SFT: sharing keeps their comparison about the RL stage
    and saves a traces + SFT pass per variant. Returns whether it copied anything."""
    import shutil

    if out.exists() or not (source / "sft" / "final" / "config.json").exists():
        return False
    mine = load_recipe(recipe, overrides)
    ref = yaml.safe_load((source / "config.yaml").read_text()) or {}
    if "sft" not in mine.stages or any(mine.to_dict()[sec] != ref.get(sec) for sec in ("traces", "sft")):
        return False
    (out / "sft").mkdir(parents=True)
    shutil.copytree(source / "sft" / "final", out / "sft" / "final")
    for name in ("traces.jsonl", "traces.rejected.jsonl"):
        if (source / name).exists():
            shutil.copy(source / name, out / name)
    lines = [ln for ln in (source / "metrics.jsonl").read_text().splitlines() if '"stage": "sft"' in ln]
    (out / "metrics.jsonl").write_text("".join(ln + "\n" for ln in lines))
    return True

