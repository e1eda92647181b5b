"""Benchmark records -> Items, from the hub (for users) or a local folder (offline, tests).

`load_items(task, split, data)` picks the task's loader hook from `LOADERS` by name. Each hook
reads records (a hub dataset at the task's pinned revision, or the upstream GitHub files in a
local folder) and converts them with the pure functions of `vold_bench.records`.

A record that cannot be converted does not stop the load: it becomes an Item whose
`meta["load_error"]` says what is wrong (file, record, key), and the harness counts it as an
error sample. Images are NOT opened here: paths are resolved, and a missing or corrupt image
is reported per item when the prompt is built.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from vold_bench import records
from vold_bench.errors import VoldError
from vold_bench.schema import Item
from vold_bench.tasks import TaskSpec, get_task

HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")


def error_item(rid: str, msg: str) -> Item:
    return Item(id=rid, question="", gold="", answer_type="text", meta={"load_error": msg})


def is_error(item: Item) -> bool:
    return "load_error" in item.meta


# ---------------------------------------------------------------- sources


def resolve_source(task: TaskSpec, data: str | None) -> tuple[str, Path | str]:
    """("local", folder) or ("hub", hub_id). No --data means the task's own hub dataset."""
    if data is None:
        return "hub", task.hub_id
    p = Path(data).expanduser()
    if p.exists():
        return "local", p
    if HUB_ID.match(str(data)) and not str(data).startswith("."):
        return "hub", str(data)
    raise VoldError(f"--data {data}: no such folder (and not a hub id like 'owner/name')")


def local_file(task: TaskSpec, split: str, folder: Path) -> Path:
    spec = task.splits[split]
    if folder.is_file():   # a user may point at the split's file itself
        return folder
    if not spec.local_file:
        raise VoldError(f"task {task.name}: split {split!r} has no local_file; use the hub id")
    f = folder / spec.local_file
    if not f.is_file():
        raise VoldError(f"{f}: not found (task {task.name}, split {split}); "
                        f"expected the upstream file {spec.local_file} in {folder}")
    return f


def read_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(position, record) pairs from .json (list or dict keyed by id) or .jsonl. A JSONL line
    that does not parse is yielded as (position, VoldError) so the caller can count it."""
    if path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    yield f"line {n}", json.loads(line)
                except json.JSONDecodeError as e:
                    yield f"line {n}", VoldError(f"{path} line {n}: not valid JSON ({e.msg})")
        return
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise VoldError(f"{path}: not valid JSON ({e})") from None
    if isinstance(obj, dict):
        yield from ((str(k), v) for k, v in obj.items())
    elif isinstance(obj, list):
        yield from ((f"record {i}", v) for i, v in enumerate(obj))
    else:
        raise VoldError(f"{path}: expected a JSON list or object of records")


def hub_records(task: TaskSpec, split: str, hub_id: str, limit: int | None) -> Iterator[tuple[str, dict]]:
    spec = task.splits[split]
    try:
        import datasets
        config = None if spec.hub_config in (None, "default") else spec.hub_config
        ds = datasets.load_dataset(hub_id, config, split=spec.hub_split, revision=task.revision)
    except Exception as e:   # network, auth, unknown config: all user-fixable, say which
        raise VoldError(f"could not load {hub_id} (config {spec.hub_config}, split {spec.hub_split}, "
                        f"revision {task.revision}): {type(e).__name__}: {str(e)[:200]}; "
                        f"offline, pass --data with a local folder") from None
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    for i, rec in enumerate(ds):
        yield f"row {i}", rec


def convert_all(pairs, convert: Callable[[str, Any], Item], where: str, limit: int | None) -> list[Item]:
    """Convert every record; a bad one becomes an error Item (counted by the harness)."""
    items: list[Item] = []
    seen: set[str] = set()
    for pos, rec in pairs:
        if limit is not None and len(items) >= limit:
            break
        rid = f"{where}:{pos}"
        try:
            if isinstance(rec, Exception):
                raise rec
            if not isinstance(rec, dict):
                raise VoldError(f"{where} {pos}: record is not an object")
            item = convert(pos, rec)
            if item.id in seen:
                raise VoldError(f"{where} {pos}: duplicate id {item.id!r}")
            if not item.images:
                # Not fatal here: `vold score` needs no image; generation reports it per item.
                item.meta["image_error"] = f"{where} {pos}: record {item.id} has no image"
        except VoldError as e:
            item = error_item(rid, f"{where} {pos}: {e}" if where not in str(e) else str(e))
        except (KeyError, TypeError, ValueError, IndexError) as e:
            item = error_item(rid, f"{where} {pos}: malformed record ({type(e).__name__}: {e})")
        seen.add(item.id)
        items.append(item)
    return items


def _records(task: TaskSpec, split: str, data: str | None, limit: int | None):
    """(pairs, where, image_root) for either source."""
    kind, src = resolve_source(task, data)
    if kind == "hub":
        return hub_records(task, split, str(src), limit), f"{src}:{split}", None
    path = local_file(task, split, Path(src))
    return read_records(path), str(path), path.parent


# ---------------------------------------------------------------- loader hooks


def load_mathvista(task, split, data, limit):
    pairs, where, root = _records(task, split, data, limit)
    return convert_all(pairs, lambda pos, r: records.mathvista_item(r, root), where, limit)


def load_mathvision(task, split, data, limit):
    pairs, where, root = _records(task, split, data, limit)
    return convert_all(pairs, lambda pos, r: records.mathvision_item(r, root), where, limit)


def load_logicvista(task, split, data, limit):
    pairs, where, root = _records(task, split, data, limit)

    def convert(pos, rec):
        if root is None:   # hub rows: a decoded image and maybe no key of the v1_N kind
            key = str(rec.get("id") or rec.get("question_id") or pos.replace("row ", "v1_"))
            item = records.logicvista_item(key, rec, None)
            item.images = [rec["image"]] if rec.get("image") is not None else []
            return item
        return records.logicvista_item(pos, rec, root / "images")
    return convert_all(pairs, convert, where, limit)


def load_mmmu_pro(task, split, data, limit):
    pairs, where, root = _records(task, split, data, limit)

    def convert(pos, rec):
        item = records.mmmu_pro_item(rec, split)
        if root is not None and not item.images:
            # The GitHub release ships no images; a user may add them as
            # images/<split>/<id>.png (vision) or images/<split>/<id>_<k>.png (standard).
            folder = root / "images" / split
            item.images = sorted((str(p) for p in folder.glob(f"{item.id}*.png")
                                  if re.fullmatch(rf"{re.escape(item.id)}(_\d+)?\.png", p.name)),
                                 key=lambda p: (len(p), p))
        return item
    return convert_all(pairs, convert, where, limit)


def _geo(convert_record):
    def load(task, split, data, limit):
        pairs, where, root = _records(task, split, data, limit)

        def convert(pos, rec):
            idx = int(pos.split()[-1]) if pos.split()[-1].isdigit() else None
            item = convert_record(rec, idx)
            if root is not None:   # local JSONL in the hub schema: images are relative paths
                item.images = [str(root / p) if isinstance(p, str) else p for p in item.images]
            return item
        return convert_all(pairs, convert, where, limit)
    return load


def load_toy(task, split, data, limit):
    # The toy world makes its items procedurally (its own hook picks text or image form);
    # imported here so evaluating real benchmarks never needs vold_train.
    from vold_bench.toy.world import load_task_items
    return load_task_items(task, split, data, limit)


LOADERS: dict[str, Callable[..., list[Item]]] = {
    "mathvista": load_mathvista,
    "mathvision": load_mathvision,
    "logicvista": load_logicvista,
    "mmmu_pro": load_mmmu_pro,
    "geo3k": _geo(records.geo3k_item),
    "geo3k_mc": _geo(records.geo3k_mc_item),
    "toy": load_toy,
}


def split_size(task: TaskSpec, split: str, data: str | None) -> int | None:
    """Records in the whole split, for a --limit run's results.json (an export must report the
    true split size); None when it cannot be told without the network."""
    try:
        if task.loader == "toy":
            return len(load_items(task, split, data))
        kind, src = resolve_source(task, data)
        if kind == "local":
            return sum(1 for _ in read_records(local_file(task, split, Path(src))))
        return sum(1 for _ in hub_records(task, split, str(src), None))   # cached by `datasets` by now
    except Exception:   # a size is provenance, never a reason to fail a finished run
        return None


def load_items(task: TaskSpec | str, split: str | None = None, data: str | None = None,
               limit: int | None = None) -> list[Item]:
    task = get_task(task) if isinstance(task, str) else task
    split = task.resolve_split(split)
    if split in task.composite:
        raise VoldError(f"task {task.name}: {split!r} is the mean of "
                        f"{', '.join(task.composite[split])}; load those splits one by one")
    if task.loader not in LOADERS:
        raise VoldError(f"{task.path}: unknown loader {task.loader!r}; known: {', '.join(LOADERS)}")
    if limit is not None and limit < 1:
        raise VoldError(f"--limit must be >= 1 (got {limit})")
    return LOADERS[task.loader](task, split, data, limit)
