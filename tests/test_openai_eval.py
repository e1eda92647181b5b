"""`vold eval --backend openai` against the fake server: nothing finished is lost. One item the
server rejects (HTTP 400) becomes that item's error and the run goes on; a server that dies
mid-run leaves every answered item on disk for the rerun; a down server or a wrong model name
fails in seconds."""
import json
import time

from typer.testing import CliRunner

from fake_openai_server import FakeServer, ok_reply
from vold_bench.backends.openai import OpenAIBackend
from vold_bench.cli import app

runner = CliRunner()


def _args(bench_dir, url, out, *extra):
    return ["eval", "--bench", "mathvision", "--split", "testmini", "--data", str(bench_dir / "mathvision"),
            "--backend", "openai", "--base-url", url, "--model", "m", "--out", str(out), *extra]


def _prompt(body):
    return body["messages"][0]["content"][-1]["text"]


def _lines(out):
    return [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]


def test_a_rejected_item_is_its_error_and_the_run_goes_on(bench_dir, tmp_path):
    def plan(body, n):   # item 6 (the kittens) is "too long for the context"
        if "Misty the cat" in _prompt(body):
            return 400, {"error": {"message": "maximum context length is 8 tokens"}}
        return 200, ok_reply("so \\boxed{6}")

    out = tmp_path / "run"
    extra = '{"chat_template_kwargs": {"enable_thinking": false}, "top_k": 20}'
    with FakeServer(plan) as s:
        t0 = time.perf_counter()
        r = runner.invoke(app, _args(bench_dir, s.url, out, "--limit", "10", "--api-key", "sk-test",
                                     "--extra-body", extra))
        wall = time.perf_counter() - t0
    assert r.exit_code == 0, r.output
    samples = _lines(out)
    assert len(samples) == 10 and [x["id"] for x in samples][:3] == ["4", "5", "6"]
    bad = samples[2]
    assert bad["parse_status"] == "error" and "HTTP 400" in bad["error"] and "context length" in bad["error"]
    res = json.loads((out / "results.json").read_text())
    assert res["n"] == 10 and res["n_errors"] == 1
    assert res["generation"]["extra_body"]["top_k"] == 20
    assert all(b["chat_template_kwargs"] == {"enable_thinking": False} and b["top_k"] == 20 for b in s.bodies)
    assert set(s.auth) == {"Bearer sk-test"} and len(s.bodies) == 10
    print(f"\n400-item run: 10 items, 1 rejected, exit 0 in {wall:.2f}s")


def test_a_server_dying_mid_run_keeps_every_answer(bench_dir, tmp_path, monkeypatch):
    orig = OpenAIBackend.__init__
    monkeypatch.setattr(OpenAIBackend, "__init__",
                        lambda self, *a, **k: orig(self, *a, **{**k, "backoff": 0.01, "max_retries": 1}))
    out = tmp_path / "run"
    with FakeServer(lambda b, n: (200, ok_reply("\\boxed{6}")) if n < 5 else (503, {"error": "gone"})) as s:
        r = runner.invoke(app, _args(bench_dir, s.url, out, "--limit", "10", "--concurrency", "1"))
    assert r.exit_code == 2 and "failed after 2 attempts" in r.output
    assert len(_lines(out)) == 5        # written as they finished, not per chunk of 256
    with FakeServer(lambda b, n: (200, ok_reply("\\boxed{6}"))) as s:
        r = runner.invoke(app, _args(bench_dir, s.url, out, "--limit", "10", "--concurrency", "1"))
    assert r.exit_code == 0, r.output
    assert len(s.bodies) == 5 and len(_lines(out)) == 10


def test_down_server_and_wrong_model_fail_in_seconds(bench_dir, tmp_path):
    with FakeServer(lambda b, n: (200, ok_reply("x")), models=("Qwen/Qwen2.5-VL-3B-Instruct",)) as s:
        r = runner.invoke(app, _args(bench_dir, s.url, tmp_path / "a", "--limit", "2"))
        url = s.url
    assert r.exit_code == 2 and s.bodies == []
    assert "model 'm' is not served there; served: Qwen/Qwen2.5-VL-3B-Instruct" in r.output
    t0 = time.perf_counter()
    r = runner.invoke(app, _args(bench_dir, url, tmp_path / "b", "--limit", "2"))   # closed port
    wall = time.perf_counter() - t0
    assert r.exit_code == 2 and "server not reachable" in r.output, r.output
    assert wall < 5
    print(f"\ndown server: exit 2 in {wall:.2f}s")
    r = runner.invoke(app, _args(bench_dir, url, tmp_path / "c", "--extra-body", "{nope"))
    assert r.exit_code == 2 and "--extra-body: not valid JSON" in r.output
