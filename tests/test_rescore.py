"""`vold score` on other tools' logs: lmms-eval samples, VLMEvalKit predictions, our JSONL; what it
reports about its input (lines, unknown ids, duplicates, coverage) and how it refuses bad input."""
import json

import pytest
from typer.testing import CliRunner

from vold_bench.cli import app
from vold_bench.errors import VoldError
from vold_bench.rescore import score_responses

runner = CliRunner()


def _score(tmp_path, bench_dir, resp, **kw):
    return score_responses("mathvision", resp, split="testmini", data=str(bench_dir / "mathvision"),
                           out=tmp_path / "scored", **kw)


def test_partial_file_reports_unknown_ids_and_coverage(tmp_path, bench_dir, capsys):
    resp = tmp_path / "model-x.jsonl"
    resp.write_text('{"id": "4", "response": "\\\\boxed{6}"}\n{"id": "5", "response": ""}\n'
                    '{"id": "zzz", "response": "x"}\n')
    res = _score(tmp_path, bench_dir, resp)
    assert res["n"] == 2 and res["accuracy"] == 50.0
    assert res["input"] | {"file": None} == {"file": None, "format": "vold", "lines_read": 3, "unknown_ids": 1,
                                             "unknown_examples": ["zzz"], "duplicate_ids": 0,
                                             "on_duplicate": "error"}
    assert res["coverage"] == {"answered": 2, "split_size": 304, "fraction": 0.0066, "partial": True}
    on_disk = json.loads((tmp_path / "scored" / "results.json").read_text())
    assert on_disk["coverage"]["partial"] and on_disk["input"]["lines_read"] == 3
    err = capsys.readouterr().err
    assert "PARTIAL: 2 of 304 items answered" in err and "1 unknown ids (e.g. zzz)" in err


def test_bad_lines_and_duplicates_are_refused_with_file_line_key(tmp_path, bench_dir):
    resp = tmp_path / "r.jsonl"
    resp.write_text('{"id": "4", "response": "a"}\n\n{"id": "5", "answer": "b"}\n')
    with pytest.raises(VoldError, match=r"r.jsonl line 3: missing key 'response'"):
        _score(tmp_path, bench_dir, resp)
    resp.write_text('{"id": "4", "response": "\\\\boxed{1}"}\n{"id": "4", "response": "\\\\boxed{6}"}\n')
    with pytest.raises(VoldError, match=r"line 2: duplicate id '4' \(first at .*line 1\).*--on-duplicate"):
        _score(tmp_path, bench_dir, resp)
    first = _score(tmp_path, bench_dir, resp, on_duplicate="first")
    last = _score(tmp_path, bench_dir, resp, on_duplicate="last")
    assert (first["accuracy"], last["accuracy"]) == (0.0, 100.0)
    assert last["input"]["duplicate_ids"] == 1 and last["input"]["lines_read"] == 2


def test_nothing_matching_exits_nonzero(tmp_path, bench_dir):
    resp = tmp_path / "r.jsonl"
    resp.write_text('{"id": "nope", "response": "a"}\n')
    r = runner.invoke(app, ["score", "--bench", "mathvision", "--split", "testmini", "--responses", str(resp),
                            "--data", str(bench_dir / "mathvision"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "none of its 1 responses (vold format) matches an item of mathvision-testmini" in r.output
    assert not (tmp_path / "o" / "results.json").exists()


def test_lmms_eval_samples_file(tmp_path, bench_dir):
    """An lmms-eval 0.7 samples file: doc_id is the position in the split; resps are nested."""
    resp = tmp_path / "20260101_samples_vold_mathvision_testmini.jsonl"
    lines = [{"doc_id": 0, "target": "6", "arguments": [], "resps": [["so \\boxed{6}"]],
              "filtered_resps": ["so \\boxed{6}"], "vold_accuracy": 100.0},
             {"doc_id": 1, "resps": [["\\boxed{61}"]]},                  # no filtered_resps: resps
             {"doc_id": 2, "filtered_resps": ["\\boxed{Z}"]},
             {"doc_id": 9999, "filtered_resps": ["x"]}]                  # past the split's end
    resp.write_text("".join(json.dumps(x) + "\n" for x in lines))
    r = runner.invoke(app, ["score", "--bench", "mathvision", "--split", "testmini", "--responses", str(resp),
                            "--data", str(bench_dir / "mathvision"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "o" / "results.json").read_text())
    assert res["input"]["format"] == "lmms" and res["input"]["unknown_ids"] == 1
    samples = [json.loads(x) for x in (tmp_path / "o" / "samples.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["4", "5", "6"]
    assert [s["correct"] for s in samples] == [True, True, False]
    assert [s["meta"]["split_position"] for s in samples] == [0, 1, 2]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"doc_id": 0, "filtered_resps": ["a"]}\n{"doc_id": 1}\n')
    with pytest.raises(VoldError, match=r"bad.jsonl line 2: missing key 'resps'"):
        _score(tmp_path, bench_dir, bad)


def test_vlmevalkit_tsv_and_xlsx(tmp_path, bench_dir):
    tsv = tmp_path / "Qwen2.5-VL-3B_MathVision_MINI.tsv"
    tsv.write_text('index\tquestion\tprediction\n4\tHow many\t"step one\nso \\boxed{6}"\n'
                   '5\tWhich\t\\boxed{60}\n')
    res = score_responses("mathvision", tsv, split="testmini", data=str(bench_dir / "mathvision"),
                          out=tmp_path / "v")
    assert res["input"]["format"] == "vlmeval" and res["input"]["lines_read"] == 2
    assert res["n"] == 2 and res["accuracy"] == 50.0
    tsv.write_text("index\tanswer\n4\t6\n")
    with pytest.raises(VoldError, match=r"line 1: missing column 'prediction'"):
        score_responses("mathvision", tsv, split="testmini", data=str(bench_dir / "mathvision"))
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        xlsx = tmp_path / "p.xlsx"
        xlsx.write_bytes(b"PK")
        with pytest.raises(VoldError, match=r"p.xlsx: reading .xlsx needs openpyxl"):
            score_responses("mathvision", xlsx, split="testmini", data=str(bench_dir / "mathvision"))
