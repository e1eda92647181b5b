"""Our tasks inside lmms-eval: `lmms-eval --include_path tasks/lmms --tasks vold_<bench>`.

lmms-eval loads the hub dataset itself and calls per-document hooks; here those hooks turn a
hub row into our `Item` (the same `records.py` converters the harness uses), render OUR prompt
template and grade with OUR scorer, so a number from lmms-eval and one from `vold eval` differ
only by the generation engine.

Task names: `vold_<bench>` is the task's default split; `vold_<bench>_<split>` every split;
a composite default (MMMU-Pro `overall`) becomes an lmms-eval group averaging its splits.
The YAMLs under tasks/lmms/ are generated from tasks/*.yaml (`python -m vold_bench.lmms_bridge`)
and a test checks they are in sync. lmms-eval itself is optional (`pip install -e ".[lmms]"`);
nothing here imports it.

The YAMLs set `reasoning_tags: none`: lmms-eval would otherwise strip <think>...</think>
before process_results, and our scorer (which handles reasoning blocks itself, and scores an
unclosed one as truncated) must see what `vold eval` sees. `max_new_tokens` is `vold eval`'s
default, so the two tools generate the same length. Each sample carries `vold_score` (0/1) and
the YAML names it as `score_key`, which is what lmms-eval's `--baseline` pairs runs on.

`vold lmms-tasks` (vold_bench/lmms_tasks.py) writes these YAMLs elsewhere, reading either the
hub datasets or the local benchmark copies (then the hooks look items up by id in
`load_items`, so prompts and images are exactly `vold eval`'s).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from vold_bench.records import (
    geo3k_item,
    geo3k_mc_item,
    logicvista_item,
    mathvision_item,
    mathvista_item,
    mmmu_pro_item,
)
from vold_bench.schema import Item
from vold_bench.tasks import TaskSpec, get_task, list_tasks

DEFAULT_MAX_NEW_TOKENS = 1024   # vold eval's --max-new-tokens default (EvalOptions); a test checks


def _logicvista(rec: dict, split: str) -> Item:
    key = str(rec.get("id") or rec.get("question_id") or "")
    item = logicvista_item(key, rec, None)
    item.images = [rec["image"]] if rec.get("image") is not None else []
    return item


# Hub row -> Item, per loader hook (the hub branch of vold_bench/data.py's loaders).
CONVERT = {
    "mathvista": lambda rec, split: mathvista_item(rec, None),
    "mathvision": lambda rec, split: mathvision_item(rec, None),
    "logicvista": _logicvista,
    "mmmu_pro": lambda rec, split: mmmu_pro_item(rec, split),
    "geo3k": lambda rec, split: geo3k_item(rec, None),
    "geo3k_mc": lambda rec, split: geo3k_mc_item(rec, None),
}
PROMPT_VARIANT = "default"


def lmms_name(task: str, split: str | None = None) -> str:
    return "vold_" + task.replace("-", "_") + (f"_{split}" if split else "")


def bridged_tasks() -> list[TaskSpec]:
    return [t for t in map(get_task, list_tasks()) if t.loader in CONVERT]


def to_item(task: TaskSpec, split: str, doc: dict) -> Item:
    return CONVERT[task.loader](doc, split)


def process_results(task: TaskSpec, split: str, doc: dict, results: list[str],
                    item: Item | None = None) -> dict[str, Any]:
    from vold_bench.scoring import score

    item = item or to_item(task, split, doc)
    s = score(results[0] if results else "", item, task.scorer)
    # Percentages, like our results.json; "mean" aggregation then gives accuracy in [0, 100].
    # vold_score is the 0/1 per-sample score lmms-eval's --baseline comparison reads.
    return {"vold_accuracy": 100.0 * s.correct, "vold_parse_rate": 100.0 * (s.parse_status == "ok"),
            SCORE_KEY: float(bool(s.correct))}


SCORE_KEY = "vold_score"


def make_hooks(task_name: str, split: str, item_of=None) -> dict[str, Any]:
    """The per-document functions lmms-eval calls for one (task, split). `item_of(doc)` gives
    the Item of a document; by default the document is a hub row converted by records.py."""
    from vold_bench.prompts import open_image, render

    task = get_task(task_name)
    name = lmms_name(task_name, split)
    item_of = item_of or (lambda doc: to_item(task, split, doc))

    def text(doc, kw=None):
        variant = (kw or {}).get("prompt_variant", PROMPT_VARIANT)
        return render(task.template(variant, split), item_of(doc))

    def visual(doc):
        item = item_of(doc)
        return [open_image(im, item.id) for im in item.images]

    return {
        f"{name}_doc_to_visual": visual,
        f"{name}_doc_to_text": text,
        f"{name}_doc_to_target": lambda doc: item_of(doc).gold,
        f"{name}_process_results": lambda doc, results: process_results(task, split, doc, results, item_of(doc)),
    }


def _local_item_of(task: TaskSpec, split: str, folder: Path):
    """Documents written by `vold lmms-tasks --data-root` hold only the item id; the Item comes
    from vold's own loader, read once per (task, split) on first use."""
    cache: dict[str, Item] = {}

    def item_of(doc: dict) -> Item:
        if not cache:
            from vold_bench.data import load_items
            cache.update((it.id, it) for it in load_items(task, split, str(folder)))
        return cache[str(doc["id"])]
    return item_of


def all_hooks(data_root: str | Path | None = None) -> dict[str, Any]:
    hooks = {}
    for t in bridged_tasks():
        for split in t.splits:
            if data_root is None:
                hooks.update(make_hooks(t.name, split))
            elif (folder := local_folder(t, split, Path(data_root))) is not None:
                hooks.update(make_hooks(t.name, split, _local_item_of(t, split, folder)))
    return hooks


def local_folder(task: TaskSpec, split: str, data_root: Path) -> Path | None:
    """<data_root>/<bench with _ for -> when it holds the split's upstream file, else None."""
    folder = data_root / task.name.replace("-", "_")
    spec = task.splits[split]
    return folder if spec.local_file and (folder / spec.local_file).is_file() else None


# ---------------------------------------------------------------- YAML generation


class _Function(str):
    """Renders as lmms-eval's `!function utils.<name>` tag."""


yaml.SafeDumper.add_representer(_Function, lambda d, v: d.represent_scalar("!function", str(v)))


def task_yaml(task: TaskSpec, split: str, name: str, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
              local_docs: Path | None = None) -> dict:
    spec = task.splits[split]
    hook = lmms_name(task.name, split)
    doc = {
        "task": name,
        "dataset_path": task.hub_id,
        "dataset_kwargs": {"revision": task.revision},
        "test_split": spec.hub_split,
        "output_type": "generate_until",
        "doc_to_visual": _Function(f"utils.{hook}_doc_to_visual"),
        "doc_to_text": _Function(f"utils.{hook}_doc_to_text"),
        "doc_to_target": _Function(f"utils.{hook}_doc_to_target"),
        "process_results": _Function(f"utils.{hook}_process_results"),
        # Greedy and as long as `vold eval`'s defaults, so both tools generate the same text.
        "generation_kwargs": {"max_new_tokens": max_new_tokens, "temperature": 0, "do_sample": False},
        "reasoning_tags": "none",
        "score_key": SCORE_KEY,
        "metric_list": [{"metric": "vold_accuracy", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "vold_parse_rate", "aggregation": "mean", "higher_is_better": True},
                        {"metric": SCORE_KEY, "aggregation": "mean", "higher_is_better": True}],
        "lmms_eval_specific_kwargs": {"default": {"prompt_variant": PROMPT_VARIANT}},
        "metadata": {"version": 1.0, "vold_task": task.name, "vold_split": split,
                     "scorer": task.scorer},
    }
    if local_docs is not None:   # `vold lmms-tasks --data-root`: a jsonl of item ids
        doc.update(dataset_path="json", dataset_kwargs={"data_files": {"test": str(local_docs)}},
                   test_split="test")
    elif spec.hub_config not in (None, "default"):
        doc["dataset_name"] = spec.hub_config
    return doc


def generate_yamls(local_docs=None) -> dict[str, str]:
    """file name -> YAML text for every bridged task, split, default alias and composite group.
    `local_docs(task, split)` -> the jsonl of a split's documents, or None to leave it out."""
    files = {}

    def dump(fname: str, doc: dict, head: str):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        files[fname] = head + re.sub(r"!function '([\w.]+)'", r"!function \1", text)

    head = "# Generated by `python -m vold_bench.lmms_bridge` from tasks/{}.yaml; do not edit.\n"
    for t in bridged_tasks():
        docs = {sp: local_docs(t, sp) if local_docs else None for sp in t.splits}
        if local_docs and not any(docs.values()):
            continue
        for split in t.splits:
            if local_docs is None or docs[split]:
                dump(f"{lmms_name(t.name, split)}.yaml",
                     task_yaml(t, split, lmms_name(t.name, split), local_docs=docs[split]), head.format(t.name))
        if t.default_split in t.splits and (local_docs is None or docs[t.default_split]):
            dump(f"{lmms_name(t.name)}.yaml",
                 task_yaml(t, t.default_split, lmms_name(t.name), local_docs=docs[t.default_split]),
                 head.format(t.name))
        elif t.default_split in t.composite and all(docs[s] or local_docs is None
                                                    for s in t.composite[t.default_split]):
            group = {"group": lmms_name(t.name),
                     "task": [lmms_name(t.name, s) for s in t.composite[t.default_split]],
                     "aggregate_metric_list": [{"metric": "vold_accuracy", "aggregation": "mean",
                                                "weight_by_size": False}],
                     "metadata": {"version": 1.0}}
            dump(f"{lmms_name(t.name)}.yaml", group, head.format(t.name))
    return files


def write_yamls(out_dir: str | Path) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fname, text in generate_yamls().items():
        (out / fname).write_text(text)
        written.append(out / fname)
    return written


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent.parent / "tasks" / "lmms")
    for p in write_yamls(target):
        print(p)
