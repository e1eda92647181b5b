"""tasks/lmms/ (our tasks inside lmms-eval), checked without lmms-eval installed: the YAMLs
parse with lmms-eval's `!function` tag, every hook they name exists, and the hooks give the
same prompt and verdict as `vold eval` on real MathVision records."""
import importlib.util
import json
import os
from pathlib import Path

import pytest
import yaml

from vold_bench.lmms_bridge import generate_yamls

ROOT = Path(__file__).resolve().parents[1]
LMMS = ROOT / "tasks" / "lmms"
SHARED = Path(os.environ.get("VOLD_SHARED") or ROOT.parent / "shared") / "benchmarks"


def _utils():
    spec = importlib.util.spec_from_file_location("vold_lmms_utils", LMMS / "utils.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Loader(yaml.SafeLoader):
    pass


# lmms-eval resolves `!function utils.name` to the attribute `name` of utils.py beside the YAML.
_Loader.add_constructor("!function", lambda loader, node: ("function", loader.construct_scalar(node)))


def _load(path):
    return yaml.load(path.read_text(), Loader=_Loader)


def test_yamls_are_generated_from_tasks_and_in_sync():
    want = generate_yamls()
    have = {p.name: p.read_text() for p in LMMS.glob("*.yaml")}
    assert have == want, "tasks/lmms is stale: run python -m vold_bench.lmms_bridge"
    assert {"vold_mathvista.yaml", "vold_mathvision.yaml", "vold_logicvista.yaml", "vold_mmmu_pro.yaml",
            "vold_geo3k.yaml", "vold_geo3k_mc.yaml"} <= set(have)


def test_every_hook_exists_and_groups_point_at_tasks():
    utils = _utils()
    docs = {p.stem: _load(p) for p in LMMS.glob("*.yaml")}
    tasks = {d["task"] for d in docs.values() if "group" not in d}
    for name, d in docs.items():
        if "group" in d:
            assert set(d["task"]) <= tasks
            continue
        assert d["task"] == name and d["output_type"] == "generate_until"
        assert d["dataset_path"] and d["test_split"] and d["dataset_kwargs"]["revision"]
        for key in ("doc_to_visual", "doc_to_text", "doc_to_target", "process_results"):
            kind, ref = d[key]
            assert kind == "function" and ref.startswith("utils.")
            assert callable(getattr(utils, ref.split(".", 1)[1]))
        assert [m["metric"] for m in d["metric_list"]] == ["vold_accuracy", "vold_parse_rate"]


@pytest.mark.skipif(not (SHARED / "mathvision").is_dir(), reason="no shared benchmarks")
def test_hooks_match_vold_eval_on_real_mathvision_records():
    from PIL import Image

    from vold_bench.data import load_items
    from vold_bench.prompts import render
    from vold_bench.tasks import get_task

    utils = _utils()
    lines = (SHARED / "mathvision" / "testmini.jsonl").read_text().splitlines()[:6]
    ours = {it.id: it for it in load_items("mathvision", "testmini", data=str(SHARED / "mathvision"), limit=6)}
    task = get_task("mathvision")
    n_choice = 0
    for line in lines:
        rec = json.loads(line)
        # a hub row: same fields as the GitHub record, plus the decoded image
        doc = {**rec, "decoded_image": Image.open(SHARED / "mathvision" / rec["image"])}
        item = ours[str(rec["id"])]
        assert utils.vold_mathvision_testmini_doc_to_text(doc, {"prompt_variant": "default"}) == \
            render(task.template("default", "testmini"), item)
        imgs = utils.vold_mathvision_testmini_doc_to_visual(doc)
        assert len(imgs) == 1 and imgs[0].mode == "RGB"
        assert utils.vold_mathvision_testmini_doc_to_target(doc) == item.gold
        right = utils.vold_mathvision_testmini_process_results(doc, [f"So the answer is \\boxed{{{item.gold}}}."])
        wrong_gold = "Z" if item.answer_type == "choice" else "123456789"
        wrong = utils.vold_mathvision_testmini_process_results(doc, [f"\\boxed{{{wrong_gold}}}"])
        none = utils.vold_mathvision_testmini_process_results(doc, [""])
        assert right == {"vold_accuracy": 100.0, "vold_parse_rate": 100.0}
        assert wrong["vold_accuracy"] == 0.0 and none == {"vold_accuracy": 0.0, "vold_parse_rate": 0.0}
        n_choice += item.answer_type == "choice"
    assert 0 < n_choice < len(lines)  # both multiple-choice and free-form records were exercised
