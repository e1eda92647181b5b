"""`vold score`: grade saved responses from any tool (ours, lmms-eval, VLMEvalKit) with our scorer.

What a re-score says about its input matters as much as the accuracy: how many lines were read,
how many named no item of the split (unknown ids), how many named the same item twice, and how
many of the split's items were answered. A file that answers part of the split is scored over
the items it answers, and both the screen and results.json say so, because "100% (n=1)" next
to full runs in a leaderboard is a trap. Nothing matching at all is an error, not an n=0 run.
"""
from __future__ import annotations

import time
from pathlib import Path

from vold_bench.data import is_error, load_items
from vold_bench.errors import VoldError
from vold_bench.harness import _dataset_info, _error_sample, _print_summary, _sample, model_dirname
from vold_bench.metrics import environment, ordered, summarize, write_json, write_samples
from vold_bench.responses import read_rows
from vold_bench.scoring import score, scorer_version
from vold_bench.tasks import get_task

DUPLICATE_POLICIES = ("error", "first", "last")


def match_rows(rows, item_ids: list[str], on_duplicate: str = "error"):
    """(id -> response, unknown keys, duplicate ids). Positional rows (lmms-eval doc_id) name the
    split's k-th item; their order is the split's order in the hub dataset and in our local copies."""
    if on_duplicate not in DUPLICATE_POLICIES:
        raise VoldError(f"--on-duplicate {on_duplicate}: valid: first, last")
    known = set(item_ids)
    got, unknown, dups, first_where = {}, [], [], {}
    for r in rows:
        rid = r.key
        if r.positional:
            k = int(rid)
            rid = item_ids[k] if 0 <= k < len(item_ids) else None
        if rid is None or rid not in known:
            unknown.append(r.key)
            continue
        if rid in got:
            dups.append(rid)
            if on_duplicate == "error":
                raise VoldError(f"{r.where}: duplicate id {rid!r} (first at {first_where[rid]}); "
                                f"pass --on-duplicate first|last to keep one")
            if on_duplicate == "first":
                continue
        first_where.setdefault(rid, r.where)
        got[rid] = r.response
    return got, unknown, dups


def score_responses(bench: str, responses: Path, split: str | None = None, data: str | None = None,
                    out: Path | None = None, compat: bool = False, fmt: str | None = None,
                    on_duplicate: str = "error", model: str | None = None) -> dict:
    task = get_task(bench)
    split = task.resolve_split(split)
    if split in task.composite:
        raise VoldError(f"vold score: pick one setting of {split!r} ({', '.join(task.composite[split])})")
    responses = Path(responses)
    if not responses.is_file():
        raise VoldError(f"{responses}: no such file")
    fmt, rows, n_lines = read_rows(responses, fmt)
    items = load_items(task, split, data)
    by_id = {it.id: it for it in items}
    got, unknown, dups = match_rows(rows, [it.id for it in items], on_duplicate)
    if not got:
        raise VoldError(f"{responses}: none of its {n_lines} responses ({fmt} format) matches an item "
                        f"of {task.name}-{split} (its keys start {', '.join(unknown[:3])}; item ids "
                        f"start {', '.join(it.id for it in items[:3])}); wrong --bench/--split/--format?")
    out = Path(out) if out else Path("results") / "scored" / model_dirname(responses.stem) / f"{task.name}-{split}"
    t0 = time.perf_counter()
    samples = []
    for k, it in enumerate(items):   # dataset order, like `vold eval`
        if it.id not in got:
            continue
        if is_error(it):
            s = _error_sample(it, task, it.meta["load_error"])
        else:
            s = _sample(it, "", got[it.id], score(got[it.id], it, task.scorer, compat=compat), 0, task)
        # a partial file's samples skip items: the export needs each one's place in the split
        s["meta"]["split_position"] = k
        samples.append(s)
    wall = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    write_samples(out / "samples.jsonl", samples)
    res = summarize(samples, task)
    coverage = {"answered": len(got), "split_size": len(by_id),
                "fraction": round(len(got) / len(by_id), 4) if by_id else 0.0,
                "partial": len(got) < len(by_id)}
    res.update(bench=task.name, split=split, model=model or responses.stem, backend="responses",
               prompt_variant=None, scorer=task.scorer, scorer_version=scorer_version(task.scorer),
               generation={"compat": compat}, dataset=_dataset_info(task, split, data),
               wall_s=round(wall, 3), items_per_s=round(len(samples) / wall, 2) if wall else 0.0,
               gen_tokens_per_s=0.0, **environment())
    res["input"] = {"file": str(responses.resolve()), "format": fmt, "lines_read": n_lines,
                    "unknown_ids": len(unknown), "unknown_examples": unknown[:5],
                    "duplicate_ids": len(dups), "on_duplicate": on_duplicate}
    res["coverage"] = coverage
    res["split_size"] = len(by_id)
    # kept for readers of older results.json
    res["unmatched_ids"] = len(unknown)
    res["items_without_response"] = len(by_id) - len(got)
    res = ordered(res)
    write_json(out / "results.json", res)
    _print_input_report(res)
    _print_summary(res, out)
    return res


def _print_input_report(res: dict) -> None:
    from rich.console import Console
    c = Console(stderr=True)
    i, cov = res["input"], res["coverage"]
    c.print(f"read {i['lines_read']} lines ({i['format']} format): {cov['answered']} matched, "
            f"{i['unknown_ids']} unknown ids"
            + (f" (e.g. {', '.join(map(str, i['unknown_examples']))})" if i["unknown_ids"] else "")
            + f", {i['duplicate_ids']} duplicates"
            + (f" (kept the {i['on_duplicate']})" if i["duplicate_ids"] else ""))
    if cov["partial"]:
        c.print(f"[bold yellow]PARTIAL: {cov['answered']} of {cov['split_size']} items answered "
                f"({100 * cov['fraction']:.1f}%); the accuracy below is over the answered items only "
                f"and is not comparable with a full run[/]")
