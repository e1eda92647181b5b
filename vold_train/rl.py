"""Stage 3: GRPO + on-policy distillation with reward-guided masking (arXiv 2510.23497).

Each step, read top to bottom:
  1. sample G rollouts per text problem from the student;
  2. reward each with the same scorer `vold eval` uses (1 if the \\boxed{} answer is right);
  3. the text-only teacher scores the student's exact completion tokens after its own prompt;
  4. one objective on the same rollouts: L = L_GRPO + beta * E[(1 - r) sum_t KL_t].
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from vold_train import dist, family, losses, sharding
from vold_train.common import (Metrics, latest_checkpoint, load_model, load_tokenizer, make_optimizer,
                               cosine_schedule, model_path, progress, restore_state, save_checkpoint,
                               save_final, set_seed, student_prompt, teacher_prompt)
from vold_bench.errors import VoldError
from vold_train.config import RLConfig
from vold_train.data import load_problems
from vold_train.engines.trainer_engines import TrainerEngines, check_vocab_rows, teacher_vocab_rows
from vold_train.logprobs import check_completion, check_tokenizers, shared_vocab_size
from vold_train.replay import make_replay
from vold_train.rollout import joined


def freeze_vision(model) -> None:
    visual = getattr(getattr(model, "model", model), "visual", None)
    if visual is not None:
        visual.requires_grad_(False)


def default_reward(response: str, item) -> float:
    from vold_bench.scoring import reward

    return reward(response, item)


def _policy_terms(policy, ids, attn, completion, mask, teacher=None):
    """Student log-probs (grad) and entropy of the completion, plus the exact KL if asked."""
    t_hidden, t_head = teacher if teacher is not None else (None, None)
    logp, ent, kl_full = policy(ids, attn, completion, t_hidden, t_head)  # (n, Tc) each
    return logp, ent, (kl_full * mask if kl_full is not None else None)


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


def policy_update(policy, opt, sched, ids, attn, ro, adv, rewards, t_logp, t_hidden, t_head,
                  cfg: RLConfig, extra: dict | None = None) -> tuple[dict, float]:
    """`update_epochs` optimizer steps on one batch of rollouts, in micro-batches; `policy` is
    the student as sharding.prepare returned it (shared vocabulary and chunk inside).

    Each micro-batch loss is weighted by its share of the rollouts; with agg="token" that is
    the exact batch mean only when micro-batches hold equally many tokens (the default
    micro_batch covers the whole toy batch)."""
    N, mb = ids.shape[0], max(1, cfg.micro_batch)
    old_logp = None
    if cfg.update_epochs > 1:  # the sampling policy, frozen before the first update
        with torch.no_grad():
            old_logp = torch.cat([_policy_terms(policy, ids[s:s + mb], attn[s:s + mb],
                                                ro.completion[s:s + mb], ro.mask[s:s + mb])[0]
                                  for s in range(0, N, mb)])
    agg: dict[str, float] = {}
    for _ in range(cfg.update_epochs):
        for s in range(0, N, mb):
            sl, mask = slice(s, s + mb), ro.mask[s:s + mb]
            full_t = (t_hidden[sl], t_head) if t_hidden is not None else None
            logp, ent, kl_full = _policy_terms(policy, ids[sl], attn[sl], ro.completion[sl], mask, full_t)
            old = old_logp[sl] if old_logp is not None else logp.detach()  # on-policy: ratio = 1
            st_kl = teacher_divergences(logp, t_logp[sl] if t_logp is not None else None, kl_full, mask)
            if kl_full is not None and cfg.kd == "full" and cfg.beta > 0:
                kl = kl_full
            elif t_logp is not None:
                kl, _ = losses.kd_k2(logp, t_logp[sl], mask)
            else:
                kl = torch.zeros_like(logp)
            if cfg.objective == "vold":
                loss, st = losses.vold_loss(logp, old, adv[sl], mask, kl, rewards[sl], cfg.beta, cfg.kd_mask,
                                            cfg.clip_low, cfg.clip_high, cfg.agg, cfg.pg)
            else:  # SRPO / VA-OPD on the same rollouts (family.py)
                loss, st = family.objective_loss(cfg, logp, old, adv[sl], mask, kl, rewards[sl],
                                                 {k: v[sl] for k, v in (extra or {}).items()})
            sharding.backward(policy, loss * mask.shape[0] / N, last=s + mb >= N)
            st["entropy"] = float((ent * mask).sum() / mask.sum().clamp(min=1))
            st.update(st_kl)
            for k, v in st.items():
                agg[k] = agg.get(k, 0.0) + v * mask.shape[0] / N / cfg.update_epochs
        gnorm = sharding.step(policy, opt, sched, cfg.max_grad_norm)  # averages over ranks first
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


def train(cfg: RLConfig, run_dir: Path, model_name: str, reward_fn=None) -> str:
    stage_dir = run_dir / "rl"
    final = stage_dir / "final"
    if (final / "config.json").exists():
        return str(final)
    stage_dir.mkdir(parents=True, exist_ok=True)
    reward_fn = reward_fn or default_reward
    set_seed(cfg.seed + dist.rank())  # each rank samples its own rollouts

    ck = latest_checkpoint(stage_dir)
    tok = load_tokenizer(model_name)
    dev = dist.device()  # the student and teacher load there; every tensor below follows
    student = load_model(str(ck) if ck else model_name, "student")
    freeze_vision(student)
    student.train()
    use_teacher = (cfg.beta > 0 or cfg.teacher_metrics) and family.uses_text_teacher(cfg)
    teacher = ttok = None
    if use_teacher:
        ttok = load_tokenizer(cfg.teacher)
        if cfg.teacher_engine == "hf":
            # Replicated on every rank, never sharded (sharding.py says why); bf16 halves it.
            teacher = load_model(cfg.teacher, "teacher", torch.bfloat16 if cfg.bf16 else torch.float32)
            teacher = teacher.eval().requires_grad_(False)
    V = cfg.shared_vocab or (shared_vocab_size(student, teacher, tok, ttok, cfg.teacher) if teacher is not None
                             else min(len(tok), student.get_output_embeddings().weight.shape[0]))
    if use_teacher and teacher is None:  # vLLM teacher: same coverage check, from its config
        check_vocab_rows(V, len(ttok), teacher_vocab_rows(cfg.teacher), cfg.teacher)
    if use_teacher:
        check_tokenizers(tok, ttok, V, cfg.teacher)
    # ==== engine dispatch (scale): HF by default, vLLM for rollouts and/or teacher scoring
    engines = TrainerEngines(cfg, model_path(str(ck) if ck else model_name), stage_dir)

    P, G = cfg.prompts_per_step, cfg.group_size
    problems = load_problems(cfg.data, cfg.split, cfg.steps * P, cfg.seed, cfg.pool)
    if dist.world() > 1 and (cfg.objective != "vold" or cfg.curation != "none"):
        raise VoldError("rl.objective srpo / va-opd and rl.curation r-diverse run in one process only "
                        "(their per-step state is not sharded across ranks yet)")
    if P % dist.world():  # equal shares: the same number of (collective) forwards on every rank
        raise VoldError(f"rl.prompts_per_step {P} must be a multiple of the {dist.world()} processes")
    if cfg.rollout_engine == "vllm" and sharding.strategy() in sharding.SHARDED:
        raise VoldError("rl.rollout_engine=vllm syncs whole weights from each rank; it is not wired "
                        "to FSDP2 / ZeRO-3 shards yet (use rl.rollout_engine=hf or a ddp launch)")
    # every student forward, and generate, goes through `policy` (logprobs.LogprobModel)
    policy, opt = sharding.prepare(student, cfg, V, cfg.logprob_chunk,
                                   lambda m: make_optimizer(m, cfg.lr, cfg.weight_decay))
    sched = cosine_schedule(opt, cfg.warmup_steps, cfg.steps)
    start = restore_state(ck, policy, opt, sched) if ck else 0
    metrics = Metrics(run_dir, "rl", start)
    fam = family.setup(cfg, student, tok, V, stage_dir, ck, start, len(problems))
    replay = make_replay(model_name, cfg.replay, cfg.replay_batch, cfg.seed)

    bar, task = progress(cfg.steps, "rl", start)
    with bar:
        for step in range(start, cfg.steps):
            t0 = time.perf_counter()
            batch, fam_stats = family.next_batch(fam, problems, step, P)
            batch = dist.shard(batch)  # whole prompts: groups stay on one rank
            s_prompts = [student_prompt(tok, it.question) for it in batch]

            # 1. rollouts
            ro = engines.rollouts(policy, tok, s_prompts, G, V).to(dev)  # vLLM hands back CPU tensors
            t1 = time.perf_counter()
            # 2. reward: the scorer sees only the completion text (model output is untrusted data)
            rewards = torch.tensor([reward_fn(ro.texts[i], batch[i // G]) for i in range(len(ro.texts))],
                                   device=dev)
            adv, adv_stats = losses.grpo_advantages(rewards, G, cfg.adv_eps)  # (N,)

            # 3. teacher scoring on its own prompt + the student's exact completion ids
            t_logp = t_hidden = None
            if use_teacher:
                t_prompts = [teacher_prompt(ttok, it.question) for it in batch]
                t_prompts = [t_prompts[i // G] for i in range(len(ro.texts))]
                for row, m in zip(ro.completion[:2].cpu(), ro.mask[:2].cpu()):  # cheap per-step guard
                    check_completion(row[m.bool()].tolist(), tok, ttok, V, cfg.teacher)
                sc = engines.teacher_scores(teacher, t_prompts, ro, ttok.pad_token_id, V)
                t_logp, t_hidden = sc["logp"].to(dev), sc["hidden"]
                extra = {"t_ent": sc.get("entropy")}
            else:  # SRPO self-teacher / VA-OPD image teacher (family.py)
                t_logp, extra = family.teacher_signal(fam, cfg, tok, batch, ro, rewards, step, P, V,
                                                         student_prompt)
            t2 = time.perf_counter()

            # 4. update: one objective on the same rollouts
            rows = [s_prompts[i // G] for i in range(len(ro.texts))]
            ids, attn = joined(rows, ro.completion, ro.mask, tok.pad_token_id)
            t_head = teacher.get_output_embeddings() if teacher is not None else None
            engines.before_update()
            replay_rec = {}
            if replay is not None:  # its gradient joins the first optimizer step on this batch
                rloss = replay.loss(student, step)
                rloss.backward()
                replay_rec = {"replay_loss": rloss.item() / cfg.replay}
            agg, gnorm = policy_update(policy, opt, sched, ids, attn, ro, adv, rewards, t_logp,
                                       t_hidden, t_head, cfg, extra)
            engines.after_update(student)  # rollout engine samples from the new weights next step
            fam_stats.update(family.after_update(fam, cfg, student, batch, rewards, step))
            t3 = time.perf_counter()

            rec = {**step_record(rewards, G, ro, agg, gnorm, sched.get_last_lr()[0], (t0, t1, t2, t3)),
                   **adv_stats, **fam_stats, **replay_rec}
            rec = dist.mean_metrics(rec)
            metrics.log(step + 1, rec)
            bar.update(task, advance=1, info=f"reward {rec['reward']:.2f} rkl {rec['teacher_rkl'] or 0:.3f}")
            if (step + 1) % cfg.save_every == 0 and step + 1 < cfg.steps:
                ck = save_checkpoint(stage_dir, step + 1, policy, tok, opt, sched)  # every rank: gathers shards
                if dist.is_main():
                    family.save(fam, ck)

    save_final(policy, tok, final, model_name)
    return str(final)
