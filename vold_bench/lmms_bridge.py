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

Note: lmms-eval strips <think>...</think> before process_results, so an unclosed reasoning
block reaches our scorer as plain text; `vold eval` sees the raw response and scores such a
response as truncated.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

from vold_bench.records import (geo3k_item, geo3k_mc_item, logicvista_item, mathvision_item,
                                mathvista_item, mmmu_pro_item)
from vold_bench.schema import Item
from vold_bench.tasks import TaskSpec, get_task, list_tasks


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


def doc_to_visual(task: TaskSpec, split: str, doc: dict) -> list:
    from vold_bench.prompts import open_image

    item = to_item(task, split, doc)
    return [open_image(im, item.id) for im in item.images]


def doc_to_text(task: TaskSpec, split: str, doc: dict, lmms_eval_specific_kwargs: dict | None = None) -> str:
    from vold_bench.prompts import render

    variant = (lmms_eval_specific_kwargs or {}).get("prompt_variant", PROMPT_VARIANT)
    return render(task.template(variant, split), to_item(task, split, doc))


def process_results(task: TaskSpec, split: str, doc: dict, results: list[str]) -> dict[str, Any]:
    from vold_bench.scoring import score

    item = to_item(task, split, doc)
    s = score(results[0] if results else "", item, task.scorer)
    # Percentages, like our results.json; "mean" aggregation then gives accuracy in [0, 100].
    return {"vold_accuracy": 100.0 * s.correct, "vold_parse_rate": 100.0 * (s.parse_status == "ok")}


def make_hooks(task_name: str, split: str) -> dict[str, Any]:
    """The per-document functions lmms-eval calls for one (task, split)."""
    task = get_task(task_name)
    name = lmms_name(task_name, split)
    return {
        f"{name}_doc_to_visual": lambda doc: doc_to_visual(task, split, doc),
        f"{name}_doc_to_text": lambda doc, kw=None: doc_to_text(task, split, doc, kw),
        f"{name}_doc_to_target": lambda doc: to_item(task, split, doc).gold,
        f"{name}_process_results": lambda doc, results: process_results(task, split, doc, results),
    }


def all_hooks() -> dict[str, Any]:
    hooks = {}
    for t in bridged_tasks():
        for split in t.splits:
            hooks.update(make_hooks(t.name, split))
    return hooks


# ---------------------------------------------------------------- YAML generation


class _Function(str):
    """Renders as lmms-eval's `!function utils.<name>` tag."""


yaml.SafeDumper.add_representer(_Function, lambda d, v: d.represent_scalar("!function", str(v)))


def task_yaml(task: TaskSpec, split: str, name: str, max_new_tokens: int = 4096) -> dict:
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
        # Greedy, like `vold eval`'s default; long enough for step-by-step reasoning.
        "generation_kwargs": {"max_new_tokens": max_new_tokens, "temperature": 0, "do_sample": False},
        "metric_list": [{"metric": "vold_accuracy", "aggregation": "mean", "higher_is_better": True},
                        {"metric": "vold_parse_rate", "aggregation": "mean", "higher_is_better": True}],
        "lmms_eval_specific_kwargs": {"default": {"prompt_variant": PROMPT_VARIANT}},
        "metadata": {"version": 1.0, "vold_task": task.name, "vold_split": split,
                     "scorer": task.scorer},
    }
    if spec.hub_config not in (None, "default"):
        doc["dataset_name"] = spec.hub_config
    return doc


def generate_yamls() -> dict[str, str]:
    """file name -> YAML text for every bridged task, split, default alias and composite group."""
    files = {}

    def dump(fname: str, doc: dict, head: str):
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
        files[fname] = head + re.sub(r"!function '([\w.]+)'", r"!function \1", text)

    head = "# Generated by `python -m vold_bench.lmms_bridge` from tasks/{}.yaml; do not edit.\n"
    for t in bridged_tasks():
        for split in t.splits:
            dump(f"{lmms_name(t.name, split)}.yaml", task_yaml(t, split, lmms_name(t.name, split)),
                 head.format(t.name))
        if t.default_split in t.splits:
            dump(f"{lmms_name(t.name)}.yaml", task_yaml(t, t.default_split, lmms_name(t.name)),
                 head.format(t.name))
        elif t.default_split in t.composite:
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
