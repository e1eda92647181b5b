"""Stage 3: GRPO + on-policy distillation with reward-guided masking (arXiv 2510.23497), and the
on-policy family's other objectives on the very same loop (objectives.py: rl.objective).

Each step (`rl_step`), read top to bottom:
  1. sample G rollouts per text problem from the student;
  2. reward each with the same scorer `vold eval` uses (1 if the \\boxed{} answer is right);
  3. the objective's teacher scores the student's exact completion tokens (VOLD's: the
     text-only teacher, after its own prompt);
  4. the objective's loss on the same rollouts (VOLD's: L = L_GRPO + beta * E[(1 - r) sum_t KL_t]).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from vold_train import dist, losses, objectives, sharding, teachers
from vold_train.common import (
    Metrics,
    cosine_schedule,
    latest_checkpoint,
    load_model,
    load_tokenizer,
    make_optimizer,
    model_path,
    progress,
    restore_state,
    save_checkpoint,
    save_final,
    set_seed,
    student_prompt,
)
from vold_train.config import RLConfig
from vold_train.curation import prompt_source
from vold_train.data import load_problems
from vold_train.engines.trainer_engines import TrainerEngines
from vold_train.replay import make_replay
from vold_train.rollout import Rollouts, joined


def freeze_vision(model) -> None:
    visual = getattr(getattr(model, "model", model), "visual", None)
    if visual is not None:
        visual.requires_grad_(False)


def default_reward(response: str, item) -> float:
    from vold_bench.scoring import reward

    return reward(response, item)


@torch.no_grad()
def teacher_divergences(logp, t_logp, kl_full, mask) -> dict:
    """How far the student is from the teacher on these rollouts, per completion token, named
    for what each is: `teacher_rkl` the exact reverse KL(student || teacher) over the shared
    vocabulary (needs the teacher's hidden states: HF teacher); `teacher_k1` its unbiased
    sampled-token estimate, mean(logp - teacher_logp); `teacher_k2` the statistic the k2 loss
    uses, 0.5 mean((logp - teacher_logp)^2), which is not a KL (one wrong number the teacher
    rules out at log p -22 adds ~240 to it)."""
    n = mask.sum().clamp(min=1)
    out = {}
    if t_logp is not None:
        d = (logp.detach() - t_logp) * mask  # (n, Tc)
        out["teacher_k1"] = float(d.sum() / n)
        out["teacher_k2"] = float(0.5 * (d ** 2).sum() / n)
    if kl_full is not None:
        out["teacher_rkl"] = float((kl_full.detach() * mask).sum() / n)
    return out


@dataclass
class Batch:
    """One step's rollouts as the update reads them; N rollouts, prompt + completion columns."""
    ids: torch.Tensor        # (N, Lp + Tc) [left-padded student prompt | completion]
    attn: torch.Tensor       # (N, Lp + Tc)
    ro: Rollouts
    adv: torch.Tensor        # (N,)
    rewards: torch.Tensor    # (N,)
    signal: teachers.Signal  # what the objective's teacher said about the rollouts


def _kd_term(cfg: RLConfig, logp, t_logp, kl_full, mask):
    """The per-token distillation term the loss uses (B, T): the exact KL (kd=full, HF teacher),
    else k2 on the sampled token, else zero (no teacher signal)."""
    if kl_full is not None and cfg.kd == "full" and cfg.beta > 0:
        return kl_full
    if t_logp is not None:
        return losses.kd_k2(logp, t_logp, mask)[0]
    return torch.zeros_like(logp)


def policy_temperature(cfg: RLConfig) -> float:
    """The temperature of the policy the loss differentiates: the rollouts' sampling temperature,
    so that the gradient and the importance ratio are those of the distribution that drew the
    rollouts (as verl and TRL divide the logits by it). It applies to the student's log-probs,
    entropy and its side of the exact KL; the teacher is scored at temperature 1."""
    t = cfg.sampling.temperature
    return t if t > 0 else 1.0


def policy_update(policy, opt, sched, b: Batch, cfg: RLConfig) -> tuple[dict, float]:
    """`update_epochs` passes over one batch of rollouts, each pass `mini_batches` optimizer
    steps on consecutive whole prompt groups (EasyR1's and verl's mini-batches), each step
    accumulated over micro-batches, with the loss of cfg.objective; `policy` is the student as
    sharding.prepare returned it (shared vocabulary and chunk inside). The lr schedule moves
    once per RL step, as in verl, however many optimizer steps the batch gives.

    Each micro-batch loss is weighted by its share of its mini-batch's rollouts; with
    agg="token" that is the exact mini-batch mean only when micro-batches hold equally many
    tokens (the default micro_batch covers the whole toy batch). Returns the terms averaged
    over every forward and the gradient norm of the last optimizer step."""
    loss_fn = objectives.get(cfg.objective).loss
    N, mb = b.ids.shape[0], max(1, cfg.engine.micro_batch)
    n_mini = max(1, min(cfg.mini_batches, N))
    bounds = [round(i * N / n_mini) for i in range(n_mini + 1)]
    minis = [[slice(s, min(s + mb, hi)) for s in range(lo, hi, mb)] for lo, hi in zip(bounds, bounds[1:])]
    T = policy_temperature(cfg)
    old_logp = None
    if cfg.update_epochs > 1 or n_mini > 1:  # the sampling policy, frozen before the first update
        with torch.no_grad():
            old_logp = torch.cat([policy(b.ids[sl], b.attn[sl], b.ro.completion[sl], temperature=T)[0]
                                  for parts in minis for sl in parts])
    agg: dict[str, float] = {}
    n_steps, done = cfg.update_epochs * n_mini, 0
    for _ in range(cfg.update_epochs):
        for parts in minis:
            size = parts[-1].stop - parts[0].start
            for sl in parts:
                mask, sig = b.ro.mask[sl], b.signal.rows(sl)
                logp, ent, kl_full = policy(b.ids[sl], b.attn[sl], b.ro.completion[sl], sig.hidden, sig.head,
                                            temperature=T)  # (n, Tc)
                kl_full = kl_full * mask if kl_full is not None else None
                old = old_logp[sl] if old_logp is not None else logp.detach()  # on-policy: ratio = 1
                terms = objectives.Terms(logp, old, b.adv[sl], mask, _kd_term(cfg, logp, sig.logp, kl_full, mask),
                                         b.rewards[sl], sig.entropy, sig.va)
                loss, st = loss_fn(cfg, terms)
                sharding.backward(policy, loss * mask.shape[0] / size, last=sl is parts[-1])
                st["entropy"] = float((ent * mask).sum() / mask.sum().clamp(min=1))
                st.update(teacher_divergences(logp, sig.logp, kl_full, mask))
                for k, v in st.items():
                    agg[k] = agg.get(k, 0.0) + v * mask.shape[0] / N / cfg.update_epochs
            done += 1  # the schedule steps with the last optimizer step only
            gnorm = sharding.step(policy, opt, sched if done == n_steps else None, cfg.max_grad_norm)
    return agg, gnorm


def step_record(rewards, G: int, ro, agg: dict, gnorm: float, lr: float, times: tuple) -> dict:
    """One RL step's metrics line: reward, the objective's terms, the student-teacher
    divergences by their names, lengths and the time of each phase (t0 rollout t1 teacher t2
    update t3)."""
    t0, t1, t2, t3 = times
    gen_tokens = int(ro.mask.sum())
    return {"reward": rewards.mean().item(), "accuracy": rewards.mean().item(),
            "pass_at_g": rewards.view(-1, G).max(-1).values.mean().item(),
            "kd_loss": agg.get("kd_loss", 0.0), "kd_term": agg.get("kd_term"),
            **{k: agg.get(k) for k in ("teacher_rkl", "teacher_k1", "teacher_k2")},
            "masked_frac": agg.get("masked_frac", 0.0), "entropy": agg.get("entropy", 0.0),
            "resp_len": gen_tokens / len(ro.texts), "finished_frac": ro.finished.float().mean().item(),
            "pg_loss": agg.get("pg_loss", 0.0), "clip_frac": agg.get("clip_frac", 0.0),
            "loss": agg.get("loss", 0.0), "grad_norm": gnorm, "lr": lr,
            "rollout_s": t1 - t0, "teacher_s": t2 - t1, "train_s": t3 - t2, "step_s": t3 - t0,
            "tokens_per_s": gen_tokens / max(t1 - t0, 1e-9),
            **{k: agg[k] for k in ("kd_frac", "va_mean", "va_top_mean", "va_w_max") if k in agg}}


@dataclass
class Setup:
    """What every step uses, built once by `set_up`."""
    tok: object
    student: torch.nn.Module  # the Hugging Face model inside `policy`
    policy: torch.nn.Module   # every student forward, and generate, goes through it (logprobs.LogprobModel)
    opt: torch.optim.Optimizer
    sched: object
    teacher: object           # the objective's teacher (teachers.py)
    engines: TrainerEngines   # who samples the rollouts (HF or vLLM)
    prompts: object           # which prompts each step trains on (curation.prompt_source)
    replay: object            # the toy deviation's replay batches, or None
    start: int                # the first step to run (> 0 on resume)


def set_up(cfg: RLConfig, stage_dir: Path, model_name: str) -> Setup:
    """The student (from the last checkpoint when there is one), the objective's teacher, the
    engines, the sharded policy with its optimizer state, the prompt source and replay."""
    ck = latest_checkpoint(stage_dir)
    tok = load_tokenizer(model_name)
    student = load_model(str(ck) if ck else model_name, "student")  # on dist.device(); every tensor follows
    freeze_vision(student)
    student.train()
    teacher = teachers.load(objectives.get(cfg.objective).teacher(cfg), cfg, student, tok, ck)
    engines = TrainerEngines(cfg, model_path(str(ck) if ck else model_name), stage_dir)
    problems = load_problems(cfg.data, cfg.split, cfg.steps * cfg.prompts_per_step, cfg.seed, cfg.pool)
    policy, opt = sharding.prepare(student, teacher.V, cfg.engine.logprob_chunk,
                                   lambda m: make_optimizer(m, cfg.lr, cfg.weight_decay), bf16=cfg.engine.bf16,
                                   gradient_checkpointing=cfg.engine.gradient_checkpointing,
                                   max_grad_norm=cfg.max_grad_norm)
    sched = cosine_schedule(opt, cfg.warmup_steps, cfg.steps)
    start = restore_state(ck, policy, opt, sched) if ck else 0
    return Setup(tok=tok, student=student, policy=policy, opt=opt, sched=sched, teacher=teacher, engines=engines,
                 prompts=prompt_source(cfg, problems, stage_dir, start),
                 replay=make_replay(model_name, cfg.replay, cfg.replay_batch, cfg.seed), start=start)


def rl_step(cfg: RLConfig, s: Setup, step: int, reward_fn) -> dict:
    """One step on this rank's share of the prompts; its metrics line (before the rank mean)."""
    P, G, dev = cfg.prompts_per_step, cfg.group_size, dist.device()
    t0 = time.perf_counter()
    batch, prompt_stats = s.prompts.next_batch(P, step)
    batch = dist.shard(batch)  # whole prompts: groups stay on one rank
    s_prompts = [student_prompt(s.tok, it.question) for it in batch]

    # 1. rollouts
    ro = s.engines.rollouts(s.policy, s.tok, s_prompts, G, s.teacher.V).to(dev)  # vLLM hands back CPU tensors
    t1 = time.perf_counter()
    # 2. reward: the scorer sees only the completion text (model output is untrusted data)
    rewards = torch.tensor([reward_fn(ro.texts[i], batch[i // G]) for i in range(len(ro.texts))], device=dev)
    adv, adv_stats = losses.grpo_advantages(rewards, G, cfg.adv_eps)  # (N,)

    # 3. the objective's teacher scores the student's exact completion ids
    signal = s.teacher.score(batch, ro, rewards, step)
    t2 = time.perf_counter()

    # 4. update: the objective's loss on the same rollouts
    ids, attn = joined([s_prompts[i // G] for i in range(len(ro.texts))], ro.completion, ro.mask, s.tok.pad_token_id)
    s.engines.before_update()
    replay_rec = {}
    if s.replay is not None:  # its gradient joins the first optimizer step on this batch
        rloss = s.replay.loss(s.student, step)
        rloss.backward()
        replay_rec = {"replay_loss": rloss.item() / cfg.replay}
    agg, gnorm = policy_update(s.policy, s.opt, s.sched, Batch(ids, attn, ro, adv, rewards, signal), cfg)
    s.engines.after_update(s.student)  # rollout engine samples from the new weights next step
    s.teacher.after_update(s.student)  # the self-teacher's EMA follows the student
    prompt_stats.update(s.prompts.after_step(batch, rewards, G, step))
    t3 = time.perf_counter()
    lr = s.sched.get_last_lr()[0]
    return {**step_record(rewards, G, ro, agg, gnorm, lr, (t0, t1, t2, t3)), **adv_stats, **prompt_stats, **replay_rec}


def train(cfg: RLConfig, run_dir: Path, model_name: str, reward_fn=None) -> str:
    stage_dir = run_dir / "rl"
    final = stage_dir / "final"
    if (final / "config.json").exists():
        return str(final)
    stage_dir.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed + dist.rank())  # each rank samples its own rollouts
    s = set_up(cfg, stage_dir, model_name)
    metrics = Metrics(run_dir, "rl", s.start)
    bar, task = progress(cfg.steps, "rl", s.start)
    try:
        with bar:
            for step in range(s.start, cfg.steps):
                rec = dist.mean_metrics(rl_step(cfg, s, step, reward_fn or default_reward))
                metrics.log(step + 1, rec)
                bar.update(task, advance=1, info=f"reward {rec['reward']:.2f} rkl {rec['teacher_rkl'] or 0:.3f}")
                if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
                    ck = save_checkpoint(stage_dir, step + 1, s.policy, s.tok, s.opt, s.sched)  # every rank
                    if dist.is_main():
                        s.teacher.save(ck)
    finally:  # vLLM engines stop here, not at interpreter exit (backends.vllm.shutdown_llm says why)
        s.engines.close()
        s.teacher.close()
    save_final(s.policy, s.tok, final, model_name)
    return str(final)
