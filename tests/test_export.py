import json
import os
import re
from pathlib import Path

import pytest

from vold_bench.errors import VoldError
from vold_bench.export import export_run, sanitize_model_name

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VOLD_SHARED") or ROOT.parent / "shared") / "benchmarks"


@pytest.mark.skipif(not (SHARED / "mathvision").is_dir(), reason="no shared benchmarks")
def test_export_of_a_real_scored_run(tmp_path):
    from vold_bench.data import load_items
    from vold_bench.rescore import score_responses

    items = load_items("mathvision", "testmini", data=str(SHARED / "mathvision"), limit=5)
    resp = tmp_path / "org__my-model.jsonl"
    with open(resp, "w") as f:
        for k, it in enumerate(items):
            answer = it.gold if k < 3 else "999999"
            f.write(json.dumps({"id": it.id, "response": f"Thus \\boxed{{{answer}}}"}) + "\n")
    run = tmp_path / "run"
    score_responses(bench="mathvision", responses=resp, split="testmini",
                    data=str(SHARED / "mathvision"), out=run)
    ours = json.loads((run / "results.json").read_text())
    with open(run / "samples.jsonl", "a") as f:
        f.write('{"id": "torn')  # a killed run's last line is ignored, not fatal

    res_path, smp_path = export_run(run, tmp_path / "lmms")
    assert res_path.parent == tmp_path / "lmms" / sanitize_model_name(ours["model"])
    assert re.fullmatch(r"\d{8}_\d{6}_results.json", res_path.name)   # lmms-eval's names
    assert smp_path.name.endswith("_samples_vold_mathvision_testmini.jsonl")
    res = json.loads(res_path.read_text())
    block = res["results"]["vold_mathvision_testmini"]
    assert block["vold_accuracy,none"] == ours["accuracy"] == pytest.approx(60.0)
    samples = [json.loads(x) for x in smp_path.read_text().splitlines()]
    assert len(samples) == 5 == res["n-samples"]["vold_mathvision_testmini"]["effective"]
    # a vold score run of 5 responses: the split is still 304 items
    assert res["n-samples"]["vold_mathvision_testmini"]["original"] == 304
    assert [s["vold_score"] for s in samples] == [1.0, 1.0, 1.0, 0.0, 0.0]
    assert [s["doc_id"] for s in samples] == [0, 1, 2, 3, 4]
    assert res["configs"]["vold_mathvision_testmini"]["score_key"] == "vold_score"
    assert sum(s["vold_accuracy"] for s in samples) / 5 == pytest.approx(block["vold_accuracy,none"])
    # lmms-eval's stderr of the mean of {100,100,100,0,0}
    assert block["vold_accuracy_stderr,none"] == pytest.approx(54.7722557 / 5 ** 0.5)
    assert {s["target"] for s in samples} == {it.gold for it in items}
    assert all("\\boxed" in s["filtered_resps"] and s["vold"]["parse_status"] == "ok" for s in samples)


def test_bad_run_folders_are_named(tmp_path):
    with pytest.raises(VoldError, match="results.json: not found"):
        export_run(tmp_path, tmp_path / "o")
    (tmp_path / "results.json").write_text('{"bench": "x"}')
    (tmp_path / "samples.jsonl").write_text("")
    with pytest.raises(VoldError, match="missing key 'split'"):
        export_run(tmp_path, tmp_path / "o")
    (tmp_path / "results.json").write_text(json.dumps({"bench": "mathvista", "split": "testmini",
                                                       "model": "m", "accuracy": 0.0, "n": 2}))
    (tmp_path / "samples.jsonl").write_text('{"id": 1\n{"id": "2"}\n')
    with pytest.raises(VoldError, match=r"samples.jsonl:1: not valid JSON"):
        export_run(tmp_path, tmp_path / "o")


def test_sanitize_like_lmms_eval():
    assert sanitize_model_name("Qwen/Qwen2.5-VL-3B-Instruct") == "Qwen__Qwen2.5-VL-3B-Instruct"
    assert sanitize_model_name("/a/b/c/ckpt") == "c__ckpt"


@pytest.mark.skipif(not (SHARED / "mathvision").is_dir(), reason="no shared benchmarks")
def test_export_of_a_limited_eval_keeps_split_size_and_limit(tmp_path, monkeypatch):
    import vold_bench.harness as H
    from vold_bench.schema import GenResult

    class Fixed:
        def generate(self, reqs, cfg):
            return [GenResult(r.id, "\\boxed{6}", 2) for r in reqs]
    monkeypatch.setattr(H, "_make_backend", lambda o: Fixed())
    H.run_eval(H.EvalOptions(bench="mathvision", split="testmini", data=str(SHARED / "mathvision"),
                             model="org/m", limit=4, out=tmp_path / "run"))
    ours = json.loads((tmp_path / "run" / "results.json").read_text())
    assert (ours["limit"], ours["split_size"], ours["n"]) == (4, 304, 4)
    res = json.loads(export_run(tmp_path / "run", tmp_path / "lmms")[0].read_text())
    assert res["n-samples"]["vold_mathvision_testmini"] == {"original": 304, "effective": 4}
    assert res["config"]["limit"] == 4
