"""`accelerate launch` with 2 CPU processes (gloo) runs the vold recipe on a tiny random pair,
with the student replicated (ddp) and sharded (FSDP2)."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_shard_and_helpers_are_identity_in_one_process():
    from vold_train import dist

    assert (dist.world(), dist.rank(), dist.is_main()) == (1, 0, True)
    assert dist.shard([1, 2, 3]) == [1, 2, 3]
    assert dist.mean_metrics({"a": 1.0}) == {"a": 1.0}


@pytest.mark.slow
@pytest.mark.parametrize("launch,extra", [
    ("cpu_2proc.yaml", []),  # replicated student, gradients all-reduced
    ("cpu_2proc_fsdp2.yaml", []),  # FSDP2: each rank holds half of the student
    ("cpu_2proc_fsdp2.yaml", ["sft.bf16=true", "rl.engine.bf16=true", "sft.gradient_checkpointing=true",
                              "rl.engine.gradient_checkpointing=true", "rl.kd=full", "rl.beta=0.1"]),
], ids=["ddp", "fsdp2", "fsdp2-bf16-ckpt-fullkl"])
def test_two_process_run_of_the_vold_recipe(tmp_path, launch, extra):
    from vold_train.toy.models import make_tiny_pair

    s, t = make_tiny_pair(tmp_path / "pair", seed=0)
    run = tmp_path / "run"
    # traces from the trained toy teacher: a random tiny one writes no usable (boxed) trace
    sets = ["traces.teacher=toy-teacher", "traces.n_prompts=8", "traces.max_new_tokens=64",
            "traces.require_boxed=false", "traces.min_trace_tokens=1", f"sft.model={s}", "sft.steps=2",
            "sft.batch_size=2", "sft.micro_batch=1", "sft.n_examples=2", f"rl.teacher={t}", "rl.steps=2",
            "rl.prompts_per_step=4", "rl.group_size=3", "rl.sampling.max_new_tokens=8", "rl.engine.micro_batch=6",
            *extra]
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
           str(ROOT / "recipes/accelerate" / launch), "--main_process_port", str(_free_port()),
           "-m", "vold_bench.cli", "train", "--recipe", "vold", "--out", str(run)]
    for x in sets:
        cmd += ["--set", x]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1"}
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
    # every rank reaches the end of the run (each prints its closing line)
    assert p.stdout.count(f"run {run}: final model") == 2, p.stdout[-2000:]
    recs = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    # rank 0 alone wrote: one record per step, each a mean over the 2 ranks
    assert [(r["stage"], r["step"]) for r in recs] == [("sft", 1), ("sft", 2), ("rl", 1), ("rl", 2)]
    assert all(r["world_size"] == 2 for r in recs)
    assert all(r["teacher_k2"] is not None and r["resp_len"] > 0 for r in recs if r["stage"] == "rl")
    info = json.loads((run / "run.json").read_text())
    assert info["final_model"] == str(run / "rl" / "final")
    assert (info["sharding"], info["world_size"]) == ({"cpu_2proc.yaml": "ddp"}.get(launch, "fsdp2"), 2)
    from vold_train.common import load_model

    final = load_model(str(run / "rl" / "final"), "student")  # a plain from_pretrained folder, whole
    assert all(p.dtype == torch.float32 for p in final.parameters())  # fp32 master weights, bf16 or not
