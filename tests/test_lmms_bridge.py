"""tasks/lmms/ (our tasks inside lmms-eval), checked without lmms-eval installed: the YAMLs
parse with lmms-eval's `!function` tag, every hook they name exists, and the hooks give the
same prompt and verdict as `vold eval` on real MathVision records."""
import importlib.util
import json
import os
from pathlib import Path

import pytest
import yaml

from vold_bench.harness import EvalOptions
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
        assert [m["metric"] for m in d["metric_list"]] == ["vold_accuracy", "vold_parse_rate", "vold_score"]
        # same length as vold eval, no <think> stripping, the 0/1 key --baseline pairs on
        assert d["generation_kwargs"]["max_new_tokens"] == EvalOptions.max_new_tokens
        assert d["reasoning_tags"] == "none" and d["score_key"] == "vold_score"


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
        assert right == {"vold_accuracy": 100.0, "vold_parse_rate": 100.0, "vold_score": 1.0}
        assert wrong["vold_accuracy"] == 0.0
        assert none == {"vold_accuracy": 0.0, "vold_parse_rate": 0.0, "vold_score": 0.0}
        n_choice += item.answer_type == "choice"
    assert 0 < n_choice < len(lines)  # both multiple-choice and free-form records were exercised


@pytest.mark.skipif(not (SHARED / "logicvista").is_dir(), reason="no shared benchmarks")
def test_lmms_tasks_for_local_copies(tmp_path, monkeypatch):
    """`vold lmms-tasks --data-root`: every local split becomes a json-loadable documents file
    (LogicVista's keyed dataset.json included) and hooks that give vold eval's prompt, with
    absolute image paths, whatever the working directory."""
    from typer.testing import CliRunner

    from vold_bench.cli import app
    from vold_bench.data import load_items
    from vold_bench.prompts import render
    from vold_bench.tasks import get_task

    out = tmp_path / "tasks"
    r = CliRunner().invoke(app, ["lmms-tasks", "--data-root", str(SHARED), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "no local copy" in r.output and "geo3k/test" in r.output
    doc = _load(out / "vold_logicvista.yaml")
    assert doc["dataset_path"] == "json" and doc["test_split"] == "test"
    files = doc["dataset_kwargs"]["data_files"]["test"]
    rows = [json.loads(x) for x in Path(files).read_text().splitlines()]
    assert len(rows) == 448 and rows[0] == {"id": "v1_0", "target": "C"}
    monkeypatch.chdir(tmp_path)   # image paths must not depend on the working directory
    spec = importlib.util.spec_from_file_location("gen_utils", out / "utils.py")
    utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(utils)
    item = load_items("logicvista", "test", data=str(SHARED / "logicvista"), limit=1)[0]
    template = get_task("logicvista").template("default", "test")
    assert utils.vold_logicvista_test_doc_to_text(rows[0]) == render(template, item)
    assert utils.vold_logicvista_test_doc_to_visual(rows[0])[0].mode == "RGB"
    assert utils.vold_logicvista_test_process_results(rows[0], ["\\boxed{C}"])["vold_score"] == 1.0
    hub = tmp_path / "hub"
    assert CliRunner().invoke(app, ["lmms-tasks", "--out", str(hub)]).exit_code == 0
    assert _load(hub / "vold_logicvista.yaml")["dataset_path"] == "lscpku/LogicVista"
