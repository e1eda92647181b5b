"""The on-policy family inside the RL stage: what SRPO, VA-OPD and R-Diverse change in rl.py.

rl.py stays VOLD's readable loop; with `rl.objective` / `rl.curation` set it asks this module
for the few things that differ, on the very same rollouts, rewards and scorer:
  - which prompts a step trains on (R-Diverse curation, curation.py);
  - which teacher scores the rollouts and what it returns (SRPO's self-teacher, VA-OPD's
    image-seeing teacher; VOLD's text teacher stays in rl.py);
  - which pure objective turns them into a loss (losses.srpo_loss, losses.va_opd_loss).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import torch

from vold_train import losses
from vold_train.config import RLConfig


@dataclass
class Family:
    ema: object = None            # SRPO self-teacher
    vteacher: object = None       # VA-OPD image-seeing teacher
    processor: object = None
    image_items: list = field(default_factory=list)  # VA-OPD: image twins of the RL problems
    curator: object = None        # R-Diverse


def uses_text_teacher(cfg: RLConfig) -> bool:
    return cfg.objective == "vold" or (cfg.objective == "srpo" and cfg.srpo_teacher == "external")


def setup(cfg: RLConfig, student, tok, V: int, stage_dir: Path, ck: Path | None, start: int, n: int) -> Family:
    """Load what the chosen objective / curation needs; `ck` is the checkpoint resumed from."""
    fam = Family()
    if cfg.objective == "srpo" and cfg.srpo_teacher == "self":
        fam.ema = copy.deepcopy(student).eval().requires_grad_(False)
        if ck is not None and (ck / "ema.pt").exists():  # the EMA is part of the resume state
            # map_location: written on either device, copied into the EMA's own
            fam.ema.load_state_dict(torch.load(ck / "ema.pt", weights_only=True, map_location="cpu"))
    if cfg.objective == "va-opd":
        from transformers import AutoProcessor

        from vold_train.common import load_model, load_tokenizer, model_path
        from vold_train.logprobs import check_tokenizers
        from vold_bench.toy.world import toy_problems

        fam.vteacher = load_model(cfg.teacher, "student").eval().requires_grad_(False)
        fam.processor = AutoProcessor.from_pretrained(model_path(cfg.teacher))
        check_tokenizers(tok, load_tokenizer(cfg.teacher), V, cfg.teacher)
        from vold_train.data import pooled

        # same (split, n, seed, pool) as data.load_problems("toy"): item i is problem i's picture form
        fam.image_items = toy_problems(cfg.split, n=cfg.pool or n, seed=cfg.seed, form="image")
        if cfg.pool:
            fam.image_items = pooled(fam.image_items, n, cfg.seed)
    if cfg.curation == "r-diverse":
        from vold_train.curation import make_curator

        fam.curator = make_curator(cfg.data, cfg.curation_embed, stage_dir / "rdiverse_memory.jsonl",
                                   cfg.seed, cfg.split)
        fam.curator.replay_frac = cfg.replay_frac
        fam.curator.rewind(start)
    return fam


def next_batch(fam: Family, problems: list, step: int, P: int) -> tuple[list, dict]:
    if fam.curator is None:
        return problems[step * P:(step + 1) * P], {}
    return fam.curator.next_batch(P, step)


def teacher_signal(fam: Family, cfg: RLConfig, tok, batch, ro, rewards, step: int, P: int, V: int,
                   student_prompt) -> tuple[torch.Tensor | None, dict]:
    """Teacher log-probs (N, Tc) of the student's tokens and the extra per-token tensors the
    objective needs. Only for the teachers VOLD's loop does not already have."""
    from vold_train.rollout import teacher_scores
    from vold_train.vaopd import self_teacher_prompts, va_teacher_scores

    G = cfg.group_size
    if fam.vteacher is not None:
        sc = va_teacher_scores(fam.vteacher, fam.processor, fam.image_items[step * P:(step + 1) * P], ro, G,
                               V, cfg.logprob_chunk, cfg.va_degrade)
        va = losses.visual_advantage(sc["logp"], sc["logp_degraded"], ro.mask)  # (N, Tc)
        return sc["logp"], {"va": va}
    if fam.ema is not None:
        prompts = self_teacher_prompts(tok, batch, ro.texts, rewards, G, student_prompt)
        sc = teacher_scores(fam.ema, prompts, ro, tok.pad_token_id, V, cfg.logprob_chunk)
        return sc["logp"], {"t_ent": sc["entropy"]}
    return None, {}


def objective_loss(cfg: RLConfig, logp, old, adv, mask, kl, rewards, extra: dict):
    if cfg.objective == "srpo":
        return losses.srpo_loss(logp, old, adv, mask, kl, extra["t_ent"], rewards, cfg.group_size,
                                cfg.clip_low, cfg.clip_high, cfg.beta)
    if cfg.objective == "va-opd":
        return losses.va_opd_loss(logp, old, adv, mask, kl, extra["va"], cfg.group_size, cfg.pg, cfg.beta,
                                  cfg.va_top_frac, 0.5, cfg.clip_low, cfg.clip_high)
    raise ValueError(f"objective {cfg.objective!r} is not a family objective")


def after_update(fam: Family, cfg: RLConfig, student, batch, rewards, step: int) -> dict:
    stats = {}
    if fam.ema is not None:
        from vold_train.vaopd import ema_update

        ema_update(fam.ema, student, cfg.ema_rate)
    if fam.curator is not None:
        rates = rewards.view(-1, cfg.group_size).mean(-1).tolist()
        stats["memory_added"] = fam.curator.update(batch, rates, step + 1)
    return stats


def save(fam: Family, ck: Path) -> None:
    if fam.ema is not None:
        torch.save({k: v.cpu() for k, v in fam.ema.state_dict().items()}, ck / "ema.pt")
