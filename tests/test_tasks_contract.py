"""One contract test over every registered task: the spec loads, its loader yields valid Items
from real local data, every prompt variant renders and builds a request, the scorer exists.
Only the tasks whose data is ../shared/benchmarks skip without it; the toy world and
Geometry3K (synthetic local files) run anywhere."""
import json
from pathlib import Path

import pytest
from PIL import Image

from vold_bench.data import is_error, load_items
from vold_bench.errors import VoldError
from vold_bench.prompts import build_request, render
from vold_bench.tasks import get_task, list_tasks, parse_task

# task name -> folder under ../shared/benchmarks holding its upstream GitHub files
SHARED = {"mathvista": "mathvista", "mathvision": "mathvision", "logicvista": "logicvista",
          "mmmu-pro": "mmmu_pro"}
ANSWER_TYPES = {"choice", "multi_choice", "integer", "float", "text", "math"}


def geo3k_folder(tmp_path, mc: bool):
    """Three records in the hub schema (problem / answer / images), images as local PNGs."""
    rows = []
    for i in range(3):
        Image.new("RGB", (56, 56), (40 * i, 90, 160)).save(tmp_path / f"g{i}.png")
        row = {"id": f"g{i}", "problem": f"<image>Find x if 2x = {2 * (i + 3)}.",
               "images": [f"g{i}.png"]}
        if mc:
            row.update(choices=[str(i + 2), str(i + 3), str(i + 4), str(i + 5)], answer="B")
        else:
            row["answer"] = str(i + 3)
        rows.append(row)
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(tmp_path)


def local_data(name, task, request, tmp_path):
    if task.loader == "toy":
        return None          # procedural items, no files
    if name in SHARED:       # the bench_dir fixture skips this task when the data is missing
        return str(request.getfixturevalue("bench_dir") / SHARED[name])
    if task.loader in ("geo3k", "geo3k_mc"):
        return geo3k_folder(tmp_path, mc=task.loader == "geo3k_mc")
    pytest.fail(f"task {name}: the contract test has no local data for it; add some")


def test_registry_has_the_issue_benchmarks():
    assert {"mathvista", "mathvision", "logicvista", "mmmu-pro", "geo3k", "geo3k-mc"} <= set(list_tasks())


@pytest.mark.parametrize("name", list_tasks())
def test_task_contract(name, request, tmp_path):
    from vold_bench.scoring import SCORERS

    task = get_task(name)
    assert task.name == name
    assert task.scorer in SCORERS, f"{name}: scorer {task.scorer!r} is not registered"
    assert task.revision
    assert task.hub_id.count("/") == 1 or task.loader == "toy"   # toy items are generated
    data = local_data(name, task, request, tmp_path)
    for split in task.splits:
        if task.loader in ("geo3k", "geo3k_mc") and not (tmp_path / task.splits[split].local_file).exists():
            continue   # only a synthetic test file is written for Geometry3K
        items = load_items(task, split, data, limit=5)
        assert 0 < len(items) <= 5
        assert len({it.id for it in items}) == len(items)
        for it in items:
            assert not is_error(it), it.meta.get("load_error")
            assert it.answer_type in ANSWER_TYPES
            if it.answer_type == "choice":
                assert it.gold in it.labels
            if it.answer_type == "multi_choice" and it.gold:
                assert set(it.gold.split(", ")) <= set(it.labels)
            for f in task.breakdown:
                assert f in it.meta, f"{name}: breakdown field {f!r} missing from item meta"
            for variant in task.prompts:
                text = render(task.template(variant, split), it)
                assert text and "{question}" not in text and "{choices" not in text
                # the vision setting must not leak the question into the prompt
                if it.meta.get("setting") == "vision":
                    assert it.meta["hidden_question"][:40] not in text
        # the shared MathVista / MMMU-Pro copies ship no images: build where they exist
        built = [it for it in items if it.images and all(
            not isinstance(p, str) or Path(p).is_file() for p in it.images)]
        if name in ("mathvision", "logicvista", "geo3k", "geo3k-mc"):
            assert built, f"{name}: no item with its image"
        for it in built[:2]:
            req = build_request(it, task.template("default", split))
            assert len(req.images) == len(it.images)
            assert sum(p["type"] == "image" for p in req.messages[0]["content"]) == len(req.images)


def test_full_shared_sets_load_without_errors(bench_dir):
    expect = {("mathvision", "test"): 3040, ("mathvision", "testmini"): 304,
              ("logicvista", "test"): 448, ("mathvista", "testmini"): 1000,
              ("mmmu-pro", "standard10"): 1730, ("mmmu-pro", "vision"): 1730}
    for (name, split), n in expect.items():
        items = load_items(name, split, str(bench_dir / SHARED[name]))
        assert len(items) == n
        assert not [it for it in items if is_error(it)]


def test_mmmu_pro_overall_is_composite():
    t = get_task("mmmu-pro")
    assert t.composite["overall"] == ("standard10", "vision")
    with pytest.raises(VoldError, match="mean of"):
        load_items(t, "overall", "/nonexistent")


@pytest.mark.parametrize("raw, msg", [
    ({"name": "x"}, "missing key"),
    ({"name": "x", "hub_id": "a/b", "revision": "main", "splits": {"test": {"hub_split": "test"}},
      "default_split": "test", "loader": "geo3k", "prompts": {"default": "{question}"},
      "scorer": "default", "colour": "red"}, "unknown key.*colour"),
    ({"name": "x", "hub_id": "a/b", "revision": "main", "splits": {"test": {"hub_split": "test"}},
      "default_split": "dev", "loader": "geo3k", "prompts": {"default": "{question}"},
      "scorer": "default"}, "default_split 'dev'"),
    ({"name": "x", "hub_id": "a/b", "revision": "main", "splits": {"test": {"hub_split": "test"}},
      "default_split": "test", "loader": "geo3k", "prompts": {"cot": "{question}"},
      "scorer": "default"}, "'default' variant"),
])
def test_bad_task_files_name_the_problem(raw, msg):
    with pytest.raises(VoldError, match=msg):
        parse_task(raw, "tasks/x.yaml")


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(VoldError, match="unknown benchmark 'mathvistaa'.*mathvista"):
        get_task("mathvistaa")
    with pytest.raises(VoldError, match="unknown split 'dev'.*testmini"):
        get_task("mathvision").resolve_split("dev")
    with pytest.raises(VoldError, match="unknown prompt variant 'cot'.*official"):
        get_task("mathvision").template("cot", "test")
