"""sharding.py: strategy from the launch environment, the LogprobModel forward, and FSDP2 on 2
gloo processes agreeing with 1 process on the same global batch (tests/fsdp_job.py)."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vold_bench.errors import VoldError
from vold_train import sharding

ROOT = Path(__file__).resolve().parents[1]
FSDP2 = {"WORLD_SIZE": "2", "ACCELERATE_USE_FSDP": "true", "FSDP_VERSION": "2"}


def test_strategy_follows_the_launch_environment(monkeypatch):
    assert sharding.strategy({}) == "single"
    assert sharding.strategy({**FSDP2, "WORLD_SIZE": "1"}) == "single"  # nothing to shard over
    assert sharding.strategy({"WORLD_SIZE": "2"}) == "ddp"
    assert sharding.strategy(FSDP2) == "fsdp2"
    with pytest.raises(VoldError, match="FSDP version 1 is not supported"):
        sharding.strategy({**FSDP2, "FSDP_VERSION": "1"})
    ds = {"WORLD_SIZE": "8", "ACCELERATE_USE_DEEPSPEED": "true", "ACCELERATE_DEEPSPEED_ZERO_STAGE": "3"}
    with pytest.raises(VoldError, match="ZeRO stage 2"):
        sharding.strategy({**ds, "ACCELERATE_DEEPSPEED_ZERO_STAGE": "2"})
    monkeypatch.setattr(sharding.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(VoldError) as e:
        sharding.strategy(ds)
    assert "deepspeed is not installed" in str(e.value) and "\n" not in str(e.value)
    monkeypatch.setattr(sharding.importlib.util, "find_spec", lambda name: object())
    assert sharding.strategy(ds) == "zero3"


def test_deepspeed_config_from_the_launch():
    c = sharding.deepspeed_config(True, 1.0, {"ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE": "cpu"})
    z = c["zero_optimization"]
    assert z["stage"] == 3 and z["offload_optimizer"]["device"] == "cpu" and z["offload_param"]["device"] == "none"
    assert c["bf16"]["enabled"] and c["gradient_clipping"] == 1.0
    # the trainer accumulates micro-batches itself: DeepSpeed must not rescale the loss
    assert c["gradient_accumulation_steps"] == 1


def _batch(vocab=400, B=3, L=12, Tc=5):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (B, L), generator=g)
    attn = torch.ones_like(ids)
    attn[0, :3] = 0  # a left-padded row
    return ids, attn, ids[:, L - Tc:]


def test_logprob_model_is_the_chunked_head_in_one_forward(tiny_pair):
    from vold_train.common import load_model, make_optimizer
    from vold_train.logprobs import LogprobModel, completion_hidden, token_logprobs

    model = load_model(tiny_pair[0], "student")
    ids, attn, target = _batch()
    h = completion_hidden(model, ids, attn, target.shape[1])
    ref, ref_ent = token_logprobs(h, model.get_output_embeddings(), target, 400, 4)
    policy, opt = sharding.prepare(model, 400, 4, lambda m: make_optimizer(m, 1e-3, 0.0))
    assert type(policy).__name__ == "LogprobModel" and policy.model is model  # one process: unwrapped
    logp, ent, kl = policy(ids, attn, target)
    assert torch.equal(logp, ref) and torch.equal(ent, ref_ent) and kl is None
    (-logp.sum()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    # gradient checkpointing recomputes the layers in backward: same values, same gradients
    model.zero_grad()
    sharding.enable_checkpointing(model)
    model.train()
    calls = []
    model.model.language_model.layers[0].mlp.register_forward_pre_hook(lambda *a: calls.append(1))
    logp2, _, _ = policy(ids, attn, target)
    (-logp2.sum()).backward()
    assert len(calls) == 2  # the layer's insides ran again in backward
    assert torch.allclose(logp2, ref, atol=1e-6)
    assert all(torch.allclose(p.grad, grads[n], atol=1e-6) for n, p in model.named_parameters() if n in grads)
    # bf16 (autocast outside FSDP2): close to fp32, not equal
    lp16, _, _ = LogprobModel(model, 400, 4, torch.bfloat16)(ids, attn, target)
    assert lp16.dtype == torch.float32 and 0 < (lp16 - ref).abs().max() < 0.1


def test_logprob_model_at_a_temperature_is_the_tempered_distribution(tiny_pair):
    """RL differentiates the policy it sampled from: logits / T for the log-probs, the entropy and
    the student's side of the exact KL (the teacher stays at T = 1)."""
    import torch.nn.functional as F

    from vold_train.common import load_model
    from vold_train.logprobs import LogprobModel, completion_hidden
    from vold_train.losses import kd_full_reverse_kl

    model = load_model(tiny_pair[0], "student")
    ids, attn, target = _batch()
    h = completion_hidden(model, ids, attn, target.shape[1])
    logits = model.get_output_embeddings()(h)[..., :400].float()  # (B, Tc, 400)
    policy = LogprobModel(model, 400, 4)
    # the student's own head as the "teacher": KL 0 at T = 1, not at T = 0.5
    _, _, kl1 = policy(ids, attn, target, h.detach(), model.get_output_embeddings())
    assert kl1.abs().max() < 1e-5
    logp, ent, kl = policy(ids, attn, target, h.detach(), model.get_output_embeddings(), temperature=0.5)
    ref = F.log_softmax(logits / 0.5, -1)
    assert torch.allclose(logp, ref.gather(-1, target.unsqueeze(-1)).squeeze(-1), atol=1e-5)
    assert torch.allclose(ent, -(ref.exp() * ref).sum(-1), atol=1e-5)
    assert torch.allclose(kl, kd_full_reverse_kl(logits / 0.5, logits), atol=1e-5) and kl.min() > 1e-4


def test_policy_update_differentiates_at_the_sampling_temperature(tiny_pair):
    """Every policy forward of an RL update, the frozen old log-probs included (update_epochs 2),
    is at rl.sampling.temperature; temperature 0 (no sampling) falls back to 1."""
    import dataclasses

    from vold_train.common import load_model, make_optimizer
    from vold_train.config import EngineConfig, RLConfig, SamplingConfig
    from vold_train.rl import Batch, policy_temperature, policy_update
    from vold_train.rollout import Rollouts
    from vold_train.teachers import Signal

    ids, attn, target = _batch()
    n = ids.shape[0]
    ro = Rollouts(completion=target, mask=torch.ones(target.shape), texts=[""] * n,
                  finished=torch.ones(n, dtype=torch.bool))
    b = Batch(ids, attn, ro, torch.tensor([1.0, -1.0, 0.0]), torch.tensor([1.0, 0.0, 0.0]),
              Signal(logp=-torch.rand(target.shape)))
    cfg = RLConfig(lr=1e-3, group_size=3, beta=0.05, update_epochs=2, warmup_steps=0, steps=2,
                   sampling=SamplingConfig(temperature=0.5), engine=EngineConfig(micro_batch=3, logprob_chunk=4))
    assert policy_temperature(cfg) == 0.5
    assert policy_temperature(dataclasses.replace(cfg, sampling=SamplingConfig(temperature=0.0))) == 1.0
    model = load_model(tiny_pair[0], "student")
    policy, opt = sharding.prepare(model, 400, 4, lambda m: make_optimizer(m, 1e-3, 0.0))
    seen = []
    forward = policy.forward
    policy.forward = lambda *a, **k: (seen.append(k.get("temperature")), forward(*a, **k))[1]
    agg, _ = policy_update(policy, opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0), b, cfg)
    assert seen == [0.5, 0.5, 0.5]  # old log-probs, then one forward per epoch
    with torch.no_grad():
        _, ent, _ = forward(ids, attn, target, temperature=1.0)
    assert agg["entropy"] < float(ent.mean())  # the logged entropy is the sharper T = 0.5 one


def test_mini_batches_step_once_per_whole_prompt_groups_and_the_schedule_once(tiny_pair, monkeypatch):
    """rl.mini_batches 2 on 2 prompts x 2 rollouts: two optimizer steps, the first on prompt 0's
    rollouts alone with the gradient of their loss alone, the second on prompt 1's against the
    log-probs frozen before the first; the lr schedule moves once for the RL step."""
    import copy
    import dataclasses

    from vold_train import objectives
    from vold_train.common import load_model, make_optimizer
    from vold_train.config import EngineConfig, RLConfig
    from vold_train.rl import Batch, policy_update
    from vold_train.rollout import Rollouts
    from vold_train.teachers import Signal

    ids, attn, target = _batch(B=4)
    ro = Rollouts(completion=target, mask=torch.ones(target.shape), texts=[""] * 4,
                  finished=torch.ones(4, dtype=torch.bool))
    adv, rewards = torch.tensor([1.0, -1.0, -1.0, 1.0]), torch.tensor([1.0, 0.0, 0.0, 1.0])
    b = Batch(ids, attn, ro, adv, rewards, Signal(logp=-torch.rand(target.shape)))
    cfg = RLConfig(lr=1e-2, group_size=2, prompts_per_step=2, mini_batches=2, beta=0.0, warmup_steps=0,
                   steps=5, max_grad_norm=1e9,  # no clipping: opt.step sees the raw gradient
                   engine=EngineConfig(micro_batch=1, logprob_chunk=4))
    model = load_model(tiny_pair[0], "student")
    policy, opt = sharding.prepare(model, 400, 4, lambda m: make_optimizer(m, cfg.lr, 0.0))
    twin = copy.deepcopy(policy)
    params = [p for p in policy.parameters() if p.requires_grad]
    grads, ratios = [], []
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (1 + s))
    real_step = opt.step
    opt.step = lambda *a, **k: (grads.append([None if p.grad is None else p.grad.clone() for p in params]),
                                      real_step(*a, **k))[1]
    loss_fn = objectives.get("vold").loss

    def spy(c, t):
        ratios.append((t.logp - t.old_logp).exp().detach())
        return loss_fn(c, t)

    monkeypatch.setitem(objectives.OBJECTIVES, "vold", dataclasses.replace(objectives.OBJECTIVES["vold"], loss=spy))
    policy_update(policy, opt, sched, b, cfg)
    assert len(grads) == 2 and sched.last_epoch == 1  # two optimizer steps, one schedule step
    # the first step's gradient is that of prompt 0's two rollouts alone
    logp = twin(ids[:2], attn[:2], target[:2])[0]
    terms = objectives.Terms(logp, logp.detach(), adv[:2], ro.mask[:2], torch.zeros_like(logp), rewards[:2])
    loss_fn(cfg, terms)[0].backward()
    pairs = [(g, p.grad) for g, p in zip(grads[0], [p for p in twin.parameters() if p.requires_grad])
             if p.grad is not None]
    assert len(pairs) > 10 and all(g is not None and torch.allclose(g, r, atol=1e-6) for g, r in pairs)
    # prompt 0 is on-policy; prompt 1 meets a policy one step away from the one that sampled it
    assert all(torch.allclose(r, torch.ones_like(r)) for r in ratios[:2])
    assert any(not torch.allclose(r, torch.ones_like(r), atol=1e-4) for r in ratios[2:])


def test_mini_batches_must_take_whole_prompt_groups():
    from vold_train.config import load_recipe

    assert load_recipe("grpo-only", ["rl.mini_batches=4"]).rl.mini_batches == 4
    with pytest.raises(VoldError, match="rl.mini_batches must be >= 1 and divide rl.prompts_per_step"):
        load_recipe("grpo-only", ["rl.mini_batches=3"])
    with pytest.raises(VoldError, match="rl.update_epochs must be >= 1"):
        load_recipe("grpo-only", ["rl.update_epochs=0"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def one_vs_two(tmp_path_factory):
    """tests/fsdp_job.py in 1 process and in 2 gloo processes under FSDP2."""
    from vold_train.toy.models import make_tiny_pair

    root = tmp_path_factory.mktemp("fsdp")
    student, _ = make_tiny_pair(root / "pair", seed=0)
    traces = root / "traces.jsonl"
    traces.write_text("".join(json.dumps({"question": f"What is {i} + {i % 3}?",
                                          "response": f"<think>{i} + {i % 3} = {i + i % 3}</think> "
                                                      f"\\boxed{{{i + i % 3}}}"})
                              + "\n" for i in range(8)))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for k in ("WORLD_SIZE", "RANK", "ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED"):
        env.pop(k, None)
    job = [str(ROOT / "tests" / "fsdp_job.py"), student, str(traces)]
    runs = {1: [sys.executable, *job, str(root / "one")],
            2: [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                str(_free_port()), *job, str(root / "two")]}
    out = {}
    for n, cmd in runs.items():
        p = subprocess.run(cmd, env={**env, **(FSDP2 if n == 2 else {})}, capture_output=True, text=True,
                           timeout=600, cwd=root)
        assert p.returncode == 0, (p.stdout + p.stderr)[-3000:]
        d = root / ("one" if n == 1 else "two")
        out[n] = {"res": json.loads((d / "result.json").read_text()), "params": torch.load(d / "params.pt"),
                  "dir": d}
    out["student"] = student
    return out


@pytest.mark.slow
def test_fsdp2_shards_the_student_in_half(one_vs_two):
    r = one_vs_two[2]["res"]
    assert r["strategy"] == "fsdp2" and r["world"] == 2
    full, local = r["q_proj_full"], r["q_proj_local"]
    assert local == [full[0] // 2, full[1]]  # dim-0 shards of one q_proj
    assert sum(r["local_elems"]) == r["full_elems"]
    assert all(abs(n - r["full_elems"] / 2) / r["full_elems"] < 0.01 for n in r["local_elems"])


@pytest.mark.slow
def test_fsdp2_rl_steps_match_one_process(one_vs_two):
    a, b = one_vs_two[1], one_vs_two[2]
    assert len(a["res"]["steps"]) == len(b["res"]["steps"]) == 2
    for s1, s2 in zip(a["res"]["steps"], b["res"]["steps"]):
        assert s2["loss"] == pytest.approx(s1["loss"], abs=1e-6)
        assert s2["kd_loss"] == pytest.approx(s1["kd_loss"], rel=1e-6)
        assert s2["grad_norm"] == pytest.approx(s1["grad_norm"], rel=1e-5)
    from vold_train.common import load_model

    start = load_model(one_vs_two["student"], "student").state_dict()
    assert set(a["params"]) == set(b["params"])
    assert max(float((a["params"][k] - start[k]).abs().max()) for k in start) > 1e-4  # it trained
    assert max(float((a["params"][k] - b["params"][k]).abs().max()) for k in a["params"]) < 1e-5


@pytest.mark.slow
def test_fsdp2_checkpoint_restores_optimizer_and_continues_identically(one_vs_two):
    for n in (1, 2):
        r = one_vs_two[n]["res"]
        assert r["resumed_step"] == 2 and r["optim_restored"] and r["optim_nonzero"] and r["sched_restored"]
        assert r["resume_max_diff"] < 1e-6  # resumed step == uninterrupted step
        assert r["ckpt_folder_max_diff"] == 0.0  # the checkpoint is a from_pretrained folder of the full weights
    assert (one_vs_two[2]["dir"] / "stage" / "ckpt-000002" / "config.json").exists()


@pytest.mark.slow
def test_fsdp2_sft_matches_one_process(one_vs_two):
    from safetensors.torch import load_file

    a, b = (load_file(str(one_vs_two[n]["dir"] / "sft" / "final" / "model.safetensors")) for n in (1, 2))
    assert set(a) == set(b)
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5
    # (the logged loss is a per-rank token mean averaged over ranks, so only the gradient compares)
    ga, gb = ([json.loads(x)["grad_norm"] for x in (one_vs_two[n]["dir"] / "metrics.jsonl").read_text().splitlines()]
              for n in (1, 2))
    assert len(ga) == 2 and gb == pytest.approx(ga, rel=1e-5)
