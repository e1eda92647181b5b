"""`vold eval`: items -> prompts -> backend -> scorer -> results.json.

Resume: each sample is appended to samples.jsonl and flushed as it finishes. A rerun of the
same command reads the file back (a torn last line from a kill is dropped), skips the ids it
holds and generates only the rest. At the end samples.jsonl is rewritten in dataset order and
results.json is computed from it alone, so an interrupted-then-resumed run ends with the same
files as an uninterrupted one (timings aside). That holds for greedy decoding; with
temperature > 0 the items left after a crash draw other random numbers than they would have.

A broken record or image becomes an error sample (parse_status "error", counted in n and in
n_errors, scored wrong); the run goes on.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from vold_bench.conventions import apply_conventions, check_limit, limit_count, split_tasks
from vold_bench.data import is_error, load_items, split_size
from vold_bench.errors import VoldError, json_object
from vold_bench.metrics import (
    environment,
    one_writer,
    ordered,
    recover_samples,
    summarize,
    write_json,
    write_samples,
)
from vold_bench.prompts import build_request, prompt_text
from vold_bench.schema import GenConfig, Item, Score
from vold_bench.scoring import score, scorer_version
from vold_bench.tasks import TaskSpec, get_task


@dataclass
class EvalOptions:
    bench: str = "toy"
    model: str = "toy-student"
    split: str | None = None
    data: str | None = None
    backend: str = "hf"
    limit: float | None = None   # a count, or a fraction of the split in (0, 1)
    out: Path | None = None
    prompt: str = "default"
    max_new_tokens: int = 1024
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    batch_size: int = 8
    base_url: str | None = None
    concurrency: int = 8
    api_key: str | None = None
    extra_body: str | dict | None = None   # JSON object merged into each openai request
    tensor_parallel_size: int = 1
    judge: str | None = None
    judge_model: str | None = None
    compat: bool = False


# Settings that change what a sample is; a resumed run must match them exactly.
RUN_KEYS = ("bench", "split", "model", "backend", "prompt", "max_new_tokens", "temperature",
            "top_p", "seed", "data", "compat", "judge_model", "extra_body")


def model_dirname(model: str) -> str:
    """'Qwen/Qwen2.5-VL-3B-Instruct' -> 'Qwen2.5-VL-3B-Instruct'; a local path -> its folder name."""
    return re.sub(r"[^\w.+-]", "_", Path(model.rstrip("/")).name) or "model"


def default_out(model: str, bench: str, split: str) -> Path:
    return Path("results") / model_dirname(model) / f"{bench}-{split}"


def _sample(item: Item, prompt: str, response: str, sc: Score, gen_tokens: int,
            task: TaskSpec, extra: dict | None = None, error: str | None = None) -> dict:
    meta = {f: item.meta.get(f) for f in task.breakdown}
    meta.update(extra or {})
    if sc.detail:
        meta["rule"] = sc.detail
    return {"id": item.id, "prompt": prompt, "response": response, "extracted": sc.extracted,
            "gold": sc.gold, "correct": bool(sc.correct), "parse_status": sc.parse_status,
            "gen_tokens": gen_tokens, "meta": meta, "error": error}


def _error_sample(item: Item, task: TaskSpec, msg: str, prompt: str = "") -> dict:
    sc = Score(extracted=None, gold=item.gold, correct=False, parse_status="error")
    return _sample(item, prompt, "", sc, 0, task, error=msg)


def _check_run_file(out: Path, opts: EvalOptions, split: str) -> None:
    """Refuse to resume into a folder that holds a different run (mixing would be silent)."""
    want = {k: getattr(opts, k) for k in RUN_KEYS} | {"split": split}
    path = out / "run_key.json"
    if path.exists():
        try:
            have = json.loads(path.read_text())
        except json.JSONDecodeError:
            have = None
        # .get on both sides: a key added since the folder was written reads as its default
        diff = [k for k in RUN_KEYS if have is not None and have.get(k) != want.get(k)]
        if diff:
            raise VoldError(f"{out}: holds a run with different settings ({', '.join(diff)}); "
                            f"pass another --out or delete the folder")
    write_json(path, want)


def _eval_split(task: TaskSpec, split: str, opts: EvalOptions, out: Path) -> dict:
    """One split into `out`, with one writer at a time: a second run into the same folder (two
    lanes of an ablation evaluating the same base model, say) waits, then resumes from what the
    first wrote and asks for nothing it already has."""
    out.mkdir(parents=True, exist_ok=True)
    with one_writer(out):
        return _eval_split_alone(task, split, opts, out)


def _eval_split_alone(task: TaskSpec, split: str, opts: EvalOptions, out: Path) -> dict:
    items, size = _load_limited(task, split, opts)
    _check_run_file(out, opts, split)
    samples_path = out / "samples.jsonl"
    done = recover_samples(samples_path)   # drops a torn last line
    ids = {it.id for it in items}
    todo = [it for it in items if it.id not in done]
    template = task.template(opts.prompt, split)
    cfg = GenConfig(max_new_tokens=opts.max_new_tokens, temperature=opts.temperature,
                    top_p=opts.top_p, seed=opts.seed, batch_size=opts.batch_size)
    judge = _make_judge(opts, task, out)
    progress_path = out / "progress.json"
    prog = _read_progress(progress_path)

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    columns = (TextColumn(f"{task.name}-{split}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=False) as bar, open(samples_path, "a", encoding="utf-8") as f:
        job = bar.add_task("eval", total=len(items), completed=len(items) - len(todo))
        # hf batches exactly what it is given. vLLM and servers schedule their own continuous
        # batches and need many requests in hand to be fast: 256 in hand keeps them busy.
        # Samples are written one by one as they finish either way (emit), fsynced per chunk.
        chunk = max(1, opts.batch_size) if opts.backend == "hf" else max(opts.batch_size, 256)
        state = {"backend": None, "t_start": time.perf_counter()}

        def emit(sample: dict) -> None:
            # One line per finished item, flushed at once: a killed or failed run keeps every
            # answer it got, and a rerun asks only for the rest.
            f.write(json.dumps(sample, ensure_ascii=False) + "\n")
            f.flush()
            done[sample["id"]] = sample
            bar.update(job, advance=1)

        for b in range(0, len(todo), chunk):
            _run_chunk(todo[b: b + chunk], task, template, cfg, opts, state, prog, emit,
                       lambda it, req, res: _score_one(it, req, res, task, opts, judge))
            os.fsync(f.fileno())
            prog["wall_s"] += time.perf_counter() - state["t_start"]
            state["t_start"] = time.perf_counter()
            write_json(progress_path, prog)

    samples = [done[it.id] for it in items]
    stray = len(set(done) - ids)
    if stray:   # e.g. a rerun with a smaller --limit: keep the file, report only this item set
        print(f"note: {samples_path} holds {stray} samples outside this item set; not counted")
    write_samples(samples_path, samples + [s for k, s in done.items() if k not in ids])
    results = _results_json(samples, task, split, opts, cfg, size, prog, judge)
    write_json(out / "results.json", results)
    return results


def _read_progress(path: Path) -> dict:
    # timings summed over every session of a resumed run
    prog = json.loads(path.read_text()) if path.exists() else {}
    return {k: prog.get(k, 0) for k in ("wall_s", "gen_s", "gen_items", "gen_tokens")}


def _results_json(samples: list[dict], task: TaskSpec, split: str, opts: EvalOptions, cfg: GenConfig,
                  size: int | None, prog: dict, judge) -> dict:
    """results.json of a finished split: metrics from the samples alone, then what produced them."""
    results = summarize(samples, task)
    results.update(
        bench=task.name, split=split, model=opts.model, backend=opts.backend,
        prompt_variant=opts.prompt, scorer=task.scorer, scorer_version=scorer_version(task.scorer),
        generation=asdict(cfg) | ({"compat": True} if opts.compat else {})
        | ({"extra_body": parse_extra_body(opts.extra_body)} if opts.extra_body else {}),
        dataset=_dataset_info(task, split, opts.data), limit=_limit_as_given(opts.limit), split_size=size,
        wall_s=round(prog["wall_s"], 3),
        items_per_s=round(prog["gen_items"] / prog["wall_s"], 4) if prog["wall_s"] else 0.0,
        gen_tokens_per_s=round(prog["gen_tokens"] / prog["gen_s"], 2) if prog["gen_s"] else 0.0,
        **environment())
    if judge is not None:
        results["judge"] = _judge_block(samples, judge)
    return ordered(results)


def _run_chunk(batch, task, template, cfg, opts, state, prog, emit, score_one) -> None:
    reqs, by_id = [], {}
    for it in batch:
        if is_error(it):
            emit(_error_sample(it, task, it.meta["load_error"]))
            continue
        try:
            req = build_request(it, template)
        except VoldError as e:   # missing / corrupt image: this item only
            emit(_error_sample(it, task, str(e)))
            continue
        reqs.append(req)
        by_id[req.id] = it
    if not reqs:
        return
    if state["backend"] is None:
        state["backend"] = _make_backend(opts)
    t0 = time.perf_counter()
    for req, res in _results(state["backend"], reqs, cfg):
        it = by_id[req.id]
        if isinstance(res, Exception):   # the server refused this item (e.g. too long): its error
            emit(_error_sample(it, task, str(res), prompt_text(req)))
            continue
        prog["gen_items"] += 1
        prog["gen_tokens"] += res.gen_tokens
        emit(score_one(it, req, res))
    prog["gen_s"] += time.perf_counter() - t0


def _results(backend, reqs, cfg):
    """(request, GenResult | VoldError) as answers arrive where the backend streams (a server
    answers out of order), else all at once in request order (hf and vLLM batch offline)."""
    if hasattr(backend, "generate_stream"):
        yield from backend.generate_stream(reqs, cfg)
    else:
        yield from zip(reqs, backend.generate(reqs, cfg))


def _limit_as_given(limit: float | None) -> float | int | None:
    return int(limit) if limit is not None and limit >= 1 else limit


def _load_limited(task: TaskSpec, split: str, opts: EvalOptions) -> tuple[list[Item], int | None]:
    """(items, size of the whole split)."""
    if opts.limit is None:
        items = load_items(task, split, opts.data, None)
        return items, len(items)
    if opts.limit < 1:   # a fraction needs the split's size first
        items = load_items(task, split, opts.data, None)
        return items[:limit_count(opts.limit, len(items))], len(items)
    items = load_items(task, split, opts.data, int(opts.limit))
    return items, (len(items) if len(items) < opts.limit else split_size(task, split, opts.data))


def _score_one(item, req, res, task, opts, judge) -> dict:
    prompt = prompt_text(req)
    try:
        sc = score(res.text, item, task.scorer, compat=opts.compat)
    except VoldError as e:
        return _error_sample(item, task, f"record {item.id}: {e}", prompt) | {"response": res.text}
    extra = {"finish_reason": res.finish_reason}
    if judge is not None:
        j = judge.judge(item, res.text, sc)
        if j is not None:
            extra["judge"] = {"extracted": j.extracted, "correct": bool(j.correct),
                              "parse_status": j.parse_status}
    return _sample(item, prompt, res.text, sc, res.gen_tokens, task, extra)


def parse_extra_body(value: str | dict | None) -> dict | None:
    if value is None or isinstance(value, dict):
        return value
    return json_object(value, "--extra-body")


def _make_backend(opts: EvalOptions):
    from vold_bench.backends import make_backend
    extra = {"openai": {"base_url": opts.base_url, "concurrency": opts.concurrency, "api_key": opts.api_key,
                        "extra_body": parse_extra_body(opts.extra_body)},
             "vllm": {"tensor_parallel_size": opts.tensor_parallel_size}}.get(opts.backend, {})
    backend = make_backend(opts.backend, opts.model, **extra)
    if hasattr(backend, "check_server"):   # a down server or a wrong model name: say so now
        backend.check_server()
    return backend


def _make_judge(opts: EvalOptions, task: TaskSpec, out: Path):
    if not opts.judge:
        return None
    from vold_bench.judge import Judge
    return Judge(opts.judge, opts.judge_model, out, scorer=task.scorer)


def _judge_block(samples: list[dict], judge) -> dict:
    consulted = [s for s in samples if "judge" in (s.get("meta") or {})]
    final = [s["meta"]["judge"]["correct"] if "judge" in (s.get("meta") or {}) else s["correct"]
             for s in samples]
    n = len(samples)
    return {"model": judge.model, "n_consulted": len(consulted),
            "n_flipped_to_correct": sum(s["meta"]["judge"]["correct"] and not s["correct"] for s in consulted),
            "accuracy_with_judge": round(100.0 * sum(final) / n, 4) if n else 0.0}


def _hub_commit(hub_id: str, revision: str) -> str | None:
    """The commit a branch name like "main" pointed at when the data was read, so a result
    stays traceable even where the task file could not pin a sha; None when the hub is not
    reachable (the load itself would have failed first, so this is rare)."""
    try:
        from huggingface_hub import HfApi
        return HfApi().dataset_info(hub_id, revision=revision, timeout=10).sha
    except Exception:
        return None


def _dataset_info(task: TaskSpec, split: str, data: str | None) -> dict:
    from vold_bench.data import local_file, resolve_source
    if task.loader == "toy":   # generated in-process: the world reports its own version
        from vold_bench.toy.world import WORLD_VERSION
        return {"source": task.hub_id, "revision": WORLD_VERSION, "split": split}
    kind, src = resolve_source(task, data)
    spec = task.splits[split]
    if kind == "hub":
        return {"source": f"hf:{src}", "revision": task.revision,
                "resolved_sha": _hub_commit(src, task.revision), "config": spec.hub_config,
                "split": spec.hub_split}
    path = local_file(task, split, Path(src))
    import hashlib
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {"source": str(path.resolve()), "revision": f"sha256:{digest[:16]}", "split": split}


def _composite(task: TaskSpec, split: str, parts: dict[str, dict], dirs: dict[str, Path], out: Path) -> dict:
    """MMMU-Pro `overall`: the mean of its settings' accuracies, as the paper reports it."""
    first = next(iter(parts.values()))
    res = {k: first[k] for k in first if k not in ("split", "n", "n_errors", "accuracy",
                                                      "parse_rate", "breakdown", "dataset")}
    n = sum(p["n"] for p in parts.values())
    res.update(split=split, n=n, n_errors=sum(p["n_errors"] for p in parts.values()),
               accuracy=round(sum(p["accuracy"] for p in parts.values()) / len(parts), 4),
               parse_rate=round(sum(p["parse_rate"] * p["n"] for p in parts.values()) / n, 4) if n else 0.0,
               breakdown={"split": {s: {"n": p["n"], "accuracy": p["accuracy"]} for s, p in parts.items()}},
               dataset={s: p["dataset"] for s, p in parts.items()},
               wall_s=round(sum(p["wall_s"] for p in parts.values()), 3))
    res = ordered(res)
    write_json(out / "results.json", res)
    # One samples file for the composite too (ids prefixed by setting), for paired tests.
    merged = []
    for part in parts:
        merged += [s | {"id": f"{part}/{s['id']}"} for s in recover_samples(dirs[part] / "samples.jsonl").values()]
    write_samples(out / "samples.jsonl", merged)
    return res


def run_tasks(opts: EvalOptions, model_args: str | None = None, gen_kwargs: str | None = None) -> list[dict]:
    """`vold eval`: one or several benchmarks (`--tasks a,b`); with several, --out is a parent
    folder holding <bench>-<split>/ per benchmark, as lm-eval's --output_path is."""
    opts = apply_conventions(opts, model_args, gen_kwargs)
    check_limit(opts.limit)
    names = split_tasks(opts.bench)
    if len(names) == 1:
        return [run_eval(replace(opts, bench=names[0]))]
    results = []
    for name in names:
        task = get_task(name)
        out = Path(opts.out) / f"{task.name}-{task.resolve_split(opts.split)}" if opts.out else None
        results.append(run_eval(replace(opts, bench=name, out=out, data=_task_data(task, opts.data))))
    return results


def _task_data(task: TaskSpec, data: str | None) -> str | None:
    """With several tasks, --data may be a root holding one folder per benchmark
    (../shared/benchmarks/mathvision, .../logicvista)."""
    if data is None:
        return None
    sub = Path(data) / task.name.replace("-", "_")
    return str(sub) if sub.is_dir() else data


def run_eval(opts: EvalOptions) -> dict:
    task = get_task(opts.bench)
    split = task.resolve_split(opts.split)
    task.template(opts.prompt, next(iter(task.composite.get(split, [split]))))  # fail fast
    parse_extra_body(opts.extra_body)
    out = Path(opts.out) if opts.out else default_out(opts.model, task.name, split)
    if split not in task.composite:
        res = _eval_split(task, split, opts, out)
    else:
        parts, dirs = {}, {}
        for part in task.composite[split]:
            dirs[part] = out / part if opts.out else default_out(opts.model, task.name, part)
            parts[part] = _eval_split(task, part, opts, dirs[part])
        out.mkdir(parents=True, exist_ok=True)
        with one_writer(out):  # the composite's own files: one writer, as each part's
            res = _composite(task, split, parts, dirs, out)
    _print_summary(res, out)
    return res


def _print_summary(res: dict, out: Path) -> None:
    from rich.console import Console
    c = Console(stderr=True)
    c.print(f"[bold]{res['bench']}-{res['split']}[/] {res['model']}: accuracy {res['accuracy']:.2f}% "
            f"(n={res['n']}, errors={res['n_errors']}, parse rate {res['parse_rate']:.1f}%) -> {out}")
