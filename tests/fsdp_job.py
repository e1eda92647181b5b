"""The trainer's update on one fixed global batch, for tests/test_sharding.py.

    python tests/fsdp_job.py STUDENT TRACES OUT                     # one process: the reference
    torchrun --nproc_per_node 2 tests/fsdp_job.py STUDENT TRACES OUT  # ACCELERATE_USE_FSDP=true FSDP_VERSION=2

Writes OUT/result.json (per-step loss / grad norm, shard sizes, resume checks), OUT/params.pt
(the full weights after the RL steps) and OUT/sft/ (sft.train on TRACES, micro-batches of one
example so that the per-rank split does not regroup the token means). The rollouts are fixed tensors, not
sampled, so that 1 and 2 processes train on exactly the same global batch: rank r takes the
r-th contiguous half (whole GRPO groups), as dist.shard hands out whole prompts.
"""
import dataclasses
import json
import sys
from pathlib import Path

import torch

from vold_train import dist, sharding
from vold_train.common import cosine_schedule, load_model, make_optimizer, restore_state, save_checkpoint
from vold_train.config import EngineConfig, RLConfig, SFTConfig
from vold_train.rl import Batch, freeze_vision, policy_update
from vold_train.rollout import Rollouts
from vold_train.teachers import Signal

N, TP, TC, G = 8, 6, 5, 4  # rollouts, prompt and completion length, group size


def global_batch(vocab: int, t_dim: int):
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(5, vocab, (N, TP), generator=g)
    completion = torch.randint(5, vocab, (N, TC), generator=g)
    mask = torch.ones(N, TC)
    mask[1, 3:] = mask[5, 2:] = mask[6, 4:] = 0  # rollouts that ended early
    return {"ids": torch.cat([prompt, completion], 1), "attn": torch.cat([torch.ones(N, TP, dtype=torch.long),
                                                                           mask.long()], 1),
            "completion": completion, "mask": mask, "adv": torch.randn(N, generator=g),
            "rewards": (torch.rand(N, generator=g) > 0.5).float(),
            "t_logp": -torch.rand(N, TC, generator=g) * 5, "t_hidden": torch.randn(N, TC, t_dim, generator=g)}


def local(b: dict) -> dict:
    n = N // dist.world()
    return {k: v[dist.rank() * n:(dist.rank() + 1) * n] for k, v in b.items()}


def rl_step(policy, opt, sched, b, cfg, t_head):
    ro = Rollouts(completion=b["completion"], mask=b["mask"], texts=[""] * len(b["mask"]),
                  finished=torch.ones(len(b["mask"]), dtype=torch.bool))
    signal = Signal(logp=b["t_logp"], hidden=b["t_hidden"], head=t_head)
    agg, gnorm = policy_update(policy, opt, sched, Batch(b["ids"], b["attn"], ro, b["adv"], b["rewards"], signal), cfg)
    return dist.mean_metrics({"loss": agg["loss"], "kd_loss": agg["kd_loss"]}), gnorm


def load_policy(path: str, cfg, vocab: int):
    student = load_model(path, "student")
    freeze_vision(student)
    student.train()
    policy, opt = sharding.prepare(student, vocab, cfg.engine.logprob_chunk,
                                   lambda m: make_optimizer(m, cfg.lr, cfg.weight_decay), bf16=cfg.engine.bf16,
                                   gradient_checkpointing=cfg.engine.gradient_checkpointing,
                                   max_grad_norm=cfg.max_grad_norm)
    return student, policy, opt, cosine_schedule(opt, cfg.warmup_steps, cfg.steps)


def full_optim(policy, opt) -> dict:
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    st = get_optimizer_state_dict(policy, opt, options=StateDictOptions(full_state_dict=True))["state"]
    return {k: {n: v.clone() for n, v in s.items()} for k, s in st.items()}  # copies: training goes on


def main(student_path: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    res = {"world": dist.world(), "strategy": sharding.strategy()}
    torch.manual_seed(0)
    t_head = torch.nn.Linear(24, 512, bias=False).requires_grad_(False)  # a frozen "teacher" head
    # step 1: k2 distillation, one epoch; step 2: exact KL with a second pass (old_logp != logp)
    cfg = RLConfig(lr=1e-3, group_size=G, beta=0.05, kd_mask="none", warmup_steps=0, steps=4,
                   engine=EngineConfig(micro_batch=4, logprob_chunk=16))
    cfgs = [cfg, dataclasses.replace(cfg, kd="full", update_epochs=2)]
    student, policy, opt, sched = load_policy(student_path, cfg, 500)
    q = student.model.language_model.layers[0].self_attn.q_proj.weight
    res["q_proj_full"], res["q_proj_local"] = list(q.shape), list(getattr(q, "_local_tensor", q).shape)
    res["local_elems"] = dist.gather_object(sum(getattr(p, "_local_tensor", p).numel() for p in policy.parameters()))
    res["full_elems"] = sum(p.numel() for p in policy.parameters())
    b = local(global_batch(500, 24))
    res["steps"] = []
    for c in cfgs:
        m, gnorm = rl_step(policy, opt, sched, b, c, t_head)
        res["steps"].append({**m, "grad_norm": gnorm})
    state = sharding.full_model_state(policy) or student.state_dict()
    if dist.is_main():
        torch.save({k: v.detach().clone() for k, v in state.items()}, out / "params.pt")

    # resume: checkpoint after step 2, one more step; a fresh load + restore takes the same step
    ck = save_checkpoint(out / "stage", 2, policy, _Tok(), opt, sched)
    saved_optim, saved_sched = full_optim(policy, opt), sched.state_dict()
    rl_step(policy, opt, sched, b, cfg, t_head)
    cont = sharding.full_model_state(policy) or student.state_dict()
    student2, policy2, opt2, sched2 = load_policy(str(ck), cfg, 500)
    res["resumed_step"] = restore_state(ck, policy2, opt2, sched2)
    got = full_optim(policy2, opt2)
    res["optim_restored"] = all(torch.equal(saved_optim[k][n], got[k][n]) for k in saved_optim for n in saved_optim[k])
    res["optim_nonzero"] = any(float(saved_optim[k]["exp_avg"].abs().sum()) > 0 for k in saved_optim)
    res["sched_restored"] = sched2.state_dict() == saved_sched
    rl_step(policy2, opt2, sched2, b, cfg, t_head)
    resumed = sharding.full_model_state(policy2) or student2.state_dict()
    if dist.is_main():
        res["resume_max_diff"] = max(float((cont[k] - resumed[k]).abs().max()) for k in cont)
        from transformers import AutoModelForImageTextToText

        reloaded = AutoModelForImageTextToText.from_pretrained(str(ck)).state_dict()
        saved = torch.load(out / "params.pt")
        res["ckpt_folder_max_diff"] = max(float((reloaded[k] - saved[k]).abs().max()) for k in saved)
        (out / "result.json").write_text(json.dumps(res, indent=1))
    dist.barrier()


class _Tok:  # save_checkpoint writes the tokenizer beside the weights; none is needed here
    def save_pretrained(self, path):
        pass


def sft_main(student_path: str, traces: str, out: Path) -> None:
    from vold_train import sft

    cfg = SFTConfig(model=student_path, data=traces, steps=2, batch_size=4, micro_batch=1, lr=1e-3,
                    warmup_steps=0, save_every=100)
    sft.train(cfg, out)


if __name__ == "__main__":
    dist.init()
    main(sys.argv[1], Path(sys.argv[3]))
    sft_main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
