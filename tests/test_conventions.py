"""lm-eval / lmms-eval argument conventions on `vold eval`, and `vold list`."""
import json

import pytest
from typer.testing import CliRunner

from vold_bench.cli import app
from vold_bench.conventions import apply_conventions, check_limit, limit_count, parse_kv
from vold_bench.errors import VoldError
from vold_bench.harness import EvalOptions

runner = CliRunner()


def test_model_args_and_gen_kwargs_fold_into_options():
    o = apply_conventions(EvalOptions(), "pretrained=Qwen/Qwen2.5-VL-3B-Instruct,num_concurrent=16",
                          "max_new_tokens=512,temperature=0.7,do_sample=false,top_p=0.9")
    assert (o.model, o.concurrency, o.max_new_tokens, o.temperature, o.top_p) == (
        "Qwen/Qwen2.5-VL-3B-Instruct", 16, 512, 0.0, 0.9)
    with pytest.raises(VoldError, match="--gen-kwargs: unknown key 'top_k'; valid: max_new_tokens"):
        apply_conventions(EvalOptions(), None, "top_k=20")
    with pytest.raises(VoldError, match="--model-args: 'oops' is not key=value"):
        parse_kv("pretrained=x,oops", "--model-args")
    with pytest.raises(VoldError, match="max_new_tokens='many' is not a number"):
        apply_conventions(EvalOptions(), None, "max_new_tokens=many")


def test_fractional_limit():
    assert [limit_count(x, 304) for x in (None, 0.1, 0.001, 5, 5.0, 1)] == [None, 31, 1, 5, 5, 1]
    for bad in (0, -1, 2.5):
        with pytest.raises(VoldError, match="give a count"):
            check_limit(bad)


def test_several_tasks_in_one_call_with_lm_eval_names(tmp_path):
    args = ["eval", "--tasks", "toy,toy-text", "--model-args", "pretrained=toy-student",
            "--gen-kwargs", "max_new_tokens=8", "--limit", "0.01", "--output-path", str(tmp_path)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    for bench in ("toy", "toy-text"):
        res = json.loads((tmp_path / f"{bench}-test" / "results.json").read_text())
        assert res["model"] == "toy-student" and res["generation"]["max_new_tokens"] == 8
        assert res["limit"] == 0.01 and res["n"] >= 1
    # vold's own names still work, and record an integer limit as given
    r = runner.invoke(app, ["eval", "--bench", "toy", "--limit", "2", "--max-new-tokens", "8",
                            "--out", str(tmp_path / "own")])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "own" / "results.json").read_text())
    assert (res["n"], res["limit"]) == (2, 2)


def test_vold_list():
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0, r.output
    assert "mathvision   splits: test*, testmini   prompts: default, official" in r.output
    assert "paper/vold" in r.output and "toy-student" in r.output
    r = runner.invoke(app, ["list", "nope"])
    assert r.exit_code == 2 and "valid: benchmarks, recipes, toy_models" in r.output
