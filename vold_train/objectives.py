"""The RL stage's objectives, one record each, looked up by `rl.objective`.

Every objective trains on the same rollouts, rewards and scorer, so `vold compare` sets them
side by side with nothing else changed. A record says what differs, and rl.train reads the
same for all of them:
  teacher   which teacher scores the rollouts (teachers.py: "text", "self" or "image"); with it
            comes what moves after each optimizer step (the self-teacher's EMA);
  loss      the pure objective of losses.py that turns the student's log-probs and the
            teacher's signal into a loss;
  agg       the rl.agg values the loss defines;
  multi_process  whether its per-step state is split across the ranks of a launch;
  checks    its config errors, raised when the recipe loads, before any model.
A new objective is one loss in losses.py and one entry in OBJECTIVES.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from vold_bench.errors import VoldError
from vold_train import losses

Tensor = torch.Tensor


@dataclass(frozen=True)
class Terms:
    """One micro-batch as every loss may read it; (B, T) unless noted."""
    logp: Tensor                  # the student's log-probs of its sampled tokens (with grad)
    old_logp: Tensor              # the same under the sampling policy
    adv: Tensor                   # (B,) group-normalised advantages
    mask: Tensor                  # 1.0 on completion tokens
    kl: Tensor                    # per-token distillation term (k2 or exact), zero without a teacher
    rewards: Tensor               # (B,)
    teacher_entropy: Tensor | None = None  # teacher's entropy per position (text / self teachers)
    va: Tensor | None = None      # visual advantage (image teacher)


@dataclass(frozen=True)
class Objective:
    name: str
    paper: str                                    # arXiv id
    teacher: Callable[..., str]                   # (rl config) -> teacher kind
    loss: Callable[..., tuple[Tensor, dict]]      # (rl config, Terms) -> (loss, stats)
    agg: tuple[str, ...] = ("token", "seq")
    multi_process: bool = True
    checks: Callable[..., list[str]] = lambda cfg: []  # (rl config) -> error messages


def _vold_loss(cfg, t: Terms):
    return losses.vold_loss(t.logp, t.old_logp, t.adv, t.mask, t.kl, t.rewards, cfg.beta, cfg.kd_mask,
                            cfg.clip_low, cfg.clip_high, cfg.agg, cfg.pg)


def _srpo_loss(cfg, t: Terms):
    # without a teacher (beta = 0 and rl.engine.teacher_metrics off) the KD branch is zero anyway
    ent = t.teacher_entropy if t.teacher_entropy is not None else torch.zeros_like(t.logp)
    return losses.srpo_loss(t.logp, t.old_logp, t.adv, t.mask, t.kl, ent, t.rewards, cfg.group_size,
                            cfg.clip_low, cfg.clip_high, cfg.beta)


def _va_opd_loss(cfg, t: Terms):
    return losses.va_opd_loss(t.logp, t.old_logp, t.adv, t.mask, t.kl, t.va, cfg.group_size, cfg.pg, cfg.beta,
                              cfg.family.va_top_frac, 0.5, cfg.clip_low, cfg.clip_high, cfg.agg)


def _weighs_within_groups(cfg) -> list[str]:
    # SRPO routes by a rollout's siblings and VA-OPD z-scores them: a micro-batch holds whole groups.
    # Both read the teacher's full distribution or hidden states, which vLLM's prompt_logprobs cannot give.
    errs = []
    if cfg.engine.micro_batch % cfg.group_size:
        errs.append(f"rl.engine.micro_batch must be a multiple of rl.group_size for rl.objective {cfg.objective} "
                    f"(it weighs rollouts within their group)")
    if cfg.engine.teacher != "hf":
        errs.append(f"rl.objective {cfg.objective} needs rl.engine.teacher=hf (it uses the teacher's full "
                    f"distribution)")
    return errs


def _srpo_checks(cfg) -> list[str]:
    errs = _weighs_within_groups(cfg)
    if cfg.family.srpo_teacher == "self" and cfg.kd != "k2":
        errs.append("rl.family.srpo_teacher=self uses rl.kd=k2 (the self-teacher gives no hidden states)")
    return errs


def _va_opd_checks(cfg) -> list[str]:
    errs = _weighs_within_groups(cfg)
    if cfg.data != "toy" or cfg.family.curation != "none":
        errs.append("rl.objective va-opd needs image twins of the RL problems: rl.data=toy, rl.family.curation=none")
    if cfg.kd != "k2":
        errs.append("rl.objective va-opd uses rl.kd=k2")
    return errs


OBJECTIVES = {o.name: o for o in [
    Objective("vold", "2510.23497", teacher=lambda cfg: "text", loss=_vold_loss),
    # SRPO's two branches share one token count (losses.srpo_loss): no per-rollout form
    Objective("srpo", "2604.02288", teacher=lambda cfg: "self" if cfg.family.srpo_teacher == "self" else "text",
              loss=_srpo_loss, agg=("token",), multi_process=False, checks=_srpo_checks),
    Objective("va-opd", "2605.21924", teacher=lambda cfg: "image", loss=_va_opd_loss, multi_process=False,
              checks=_va_opd_checks),
]}


def get(name: str) -> Objective:
    """The record of `rl.objective`."""
    if name not in OBJECTIVES:
        raise VoldError(f"unknown objective {name!r}; valid: {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]


def check(cfg) -> list[str]:
    """Config errors of the chosen objective (config.py runs them before any model loads)."""
    obj = get(cfg.objective)
    errs = [] if cfg.agg in obj.agg else [
        f"rl.agg={cfg.agg} is not defined for rl.objective {obj.name} (valid: {', '.join(obj.agg)})"]
    return errs + obj.checks(cfg)
