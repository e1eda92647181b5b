"""Real lmms-eval 0.7.3 (from `make lmms-env`) runs our tasks offline on the local benchmark
copies, through `vold lmms-tasks --data-root`, on 4 items of vold_mathvision_testmini and
vold_logicvista, from a folder that is not the data folder. Skips without .venv-lmms/.

Two runs:
- through one scripted OpenAI-compatible server, which answers by prompt text: lmms-eval and
  `vold eval` get identical answers exactly when they send identical prompts, so their
  accuracies must be equal (and not zero: half the items are answered right);
- with the toy Qwen2.5-VL student in lmms-eval's own `qwen2_5_vl` model. That wrapper adds a
  system message, re-encodes images as JPEG (quality 85) and resizes them to its own pixel
  bounds, so the toy model's text differs from `vold eval`'s; what must hold is that lmms-eval's
  samples, re-scored by `vold score`, give lmms-eval's own accuracy. Both numbers are printed.
"""
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from fake_openai_server import FakeServer, ok_reply
from vold_bench.data import load_items
from vold_bench.harness import EvalOptions, run_eval
from vold_bench.lmms_tasks import write_lmms_tasks
from vold_bench.prompts import render
from vold_bench.rescore import score_responses
from vold_bench.tasks import get_task

ROOT = Path(__file__).resolve().parents[1]
LMMS_PY = ROOT / ".venv-lmms" / "bin" / "python"
TASKS = {"vold_mathvision_testmini": ("mathvision", "testmini"), "vold_logicvista": ("logicvista", "test")}
MAX_NEW = 32   # the toy student rambles; 32 tokens keep its run to about a minute

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not LMMS_PY.exists(), reason="no .venv-lmms (make lmms-env)")]


def _lmms_eval(tmp_path, bench_dir, model, model_args):
    write_lmms_tasks(tmp_path / "tasks", bench_dir)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "NO_PROXY": "127.0.0.1,localhost",
           "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    cmd = [str(LMMS_PY), "-m", "lmms_eval", "--model", model, "--model_args", model_args,
           "--tasks", ",".join(TASKS), "--include_path", str(tmp_path / "tasks"), "--limit", "4",
           "--batch_size", "1", "--device", "cpu", "--gen_kwargs", f"max_new_tokens={MAX_NEW}",
           "--output_path", str(tmp_path / "lmms"), "--log_samples"]
    work = tmp_path / "elsewhere"   # not the data folder: image paths must be absolute
    work.mkdir()
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    # lmms-eval exits 0 even when a task fails to load: the results file is the proof
    found = list((tmp_path / "lmms").rglob("*_results.json"))
    assert r.returncode == 0 and found, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(found[0].read_text())
    assert all(res["n-samples"][t]["effective"] == 4 for t in TASKS)
    return res, found[0].parent, wall


def _vold(tmp_path, bench_dir, name, **kw):
    bench, split = TASKS[name]
    return run_eval(EvalOptions(bench=bench, split=split, data=str(bench_dir / bench), limit=4,
                                max_new_tokens=MAX_NEW, out=tmp_path / "vold" / bench, **kw))


def _rescore(tmp_path, bench_dir, folder, name):
    bench, split = TASKS[name]
    samples = next(folder.glob(f"*_samples_{name}.jsonl"))
    res = score_responses(bench, samples, split=split, data=str(bench_dir / bench), out=tmp_path / "rescored" / bench)
    assert res["input"]["format"] == "lmms" and res["coverage"]["answered"] == 4
    return res


def test_lmms_eval_and_vold_eval_agree_through_one_server(tmp_path, bench_dir):
    answers = {}
    for bench, split in TASKS.values():
        tpl = get_task(bench).template("default", split)
        for k, it in enumerate(load_items(bench, split, data=str(bench_dir / bench), limit=4)):
            answers[render(tpl, it)] = f"so \\boxed{{{it.gold if k % 2 == 0 else 'Q'}}}"

    def plan(body, n):
        content = body["messages"][-1]["content"]
        texts = [content] if isinstance(content, str) else [p.get("text", "") for p in content]
        hit = [answers[t] for t in texts if t in answers]
        return 200, ok_reply(hit[0] if hit else "unknown prompt")

    with FakeServer(plan, models=("m",)) as s:
        lmms, folder, wall = _lmms_eval(tmp_path, bench_dir, "openai",
                                        f"model=m,base_url={s.url},api_key=x,num_concurrent=2")
        n_lmms = len(s.bodies)
        lines = [f"lmms-eval (openai model, scripted server) offline: {wall:.1f}s, {n_lmms} requests"]
        for name in TASKS:
            ours = _vold(tmp_path, bench_dir, name, model="m", backend="openai", base_url=s.url)
            theirs = lmms["results"][name]["vold_accuracy,none"]
            assert theirs == pytest.approx(ours["accuracy"]) == pytest.approx(50.0)
            assert _rescore(tmp_path, bench_dir, folder, name)["accuracy"] == pytest.approx(theirs)
            lines.append(f"  {name}: lmms-eval {theirs:.1f}%  vold eval {ours['accuracy']:.1f}%")
    assert n_lmms == 8 and len(s.bodies) == 16
    print("\n" + "\n".join(lines))


def test_lmms_eval_runs_the_toy_model_offline(tmp_path, bench_dir):
    from vold_train.toy import resolve_model

    lmms, folder, wall = _lmms_eval(tmp_path, bench_dir, "qwen2_5_vl",
                                    f"pretrained={resolve_model('toy-student')},device_map=cpu")
    lines = [f"lmms-eval (qwen2_5_vl, toy student) offline: {wall:.0f}s"]
    for name in TASKS:
        theirs = lmms["results"][name]["vold_accuracy,none"]
        ours = _vold(tmp_path, bench_dir, name, model="toy-student")
        assert ours["n"] == 4 and ours["n_errors"] == 0
        assert _rescore(tmp_path, bench_dir, folder, name)["accuracy"] == pytest.approx(theirs)
        lines.append(f"  {name}: lmms-eval {theirs:.1f}%  vold eval {ours['accuracy']:.1f}%")
    print("\n" + "\n".join(lines))
