"""`vold eval` / `vold score` through the CLI, end to end on a tiny Qwen2.5-VL (hf, CPU)."""
import json

from typer.testing import CliRunner

from vold_bench.cli import app
from vold_bench.metrics import RESULT_KEYS

runner = CliRunner()


def test_vold_eval_on_real_mathvision_with_a_tiny_vlm(tiny_pair, bench_dir, tmp_path):
    out = tmp_path / "eval"
    args = ["eval", "--bench", "mathvision", "--split", "testmini", "--data", str(bench_dir / "mathvision"),
            "--model", tiny_pair[0], "--limit", "3", "--max-new-tokens", "4", "--batch-size", "2",
            "--out", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    res = json.loads((out / "results.json").read_text())
    assert set(RESULT_KEYS) <= set(res)
    assert res["n"] == 3 and res["n_errors"] == 0 and res["backend"] == "hf"
    assert res["generation"]["max_new_tokens"] == 4 and res["gen_tokens_per_s"] > 0
    samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["id"] for s in samples] == ["4", "5", "6"]
    assert all(0 < s["gen_tokens"] <= 4 for s in samples)
    # re-running the finished command generates nothing and keeps the numbers
    r2 = runner.invoke(app, args)
    assert r2.exit_code == 0, r2.output
    assert json.loads((out / "results.json").read_text())["accuracy"] == res["accuracy"]
    assert (out / "samples.jsonl").read_text().count("\n") == 3


def test_vold_score_and_user_errors(bench_dir, tmp_path):
    resp = tmp_path / "r.jsonl"
    resp.write_text(json.dumps({"id": "v1_0", "response": "The answer is \\boxed{C}"}) + "\n")
    r = runner.invoke(app, ["score", "--bench", "logicvista", "--responses", str(resp),
                            "--data", str(bench_dir / "logicvista"), "--out", str(tmp_path / "s")])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "s" / "results.json").read_text())
    assert res["n"] == 1 and res["accuracy"] == 100.0

    r = runner.invoke(app, ["eval", "--bench", "nope", "--model", "x"])
    assert r.exit_code == 2 and "unknown benchmark 'nope'" in r.output
    r = runner.invoke(app, ["score", "--bench", "logicvista", "--responses", str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "missing.jsonl: no such file" in r.output
