"""Every training objective of VOLD (arXiv 2510.23497) as a pure function of tensors.

Each function returns `(loss, stats)`; `stats` holds detached floats for metrics.jsonl.
Shapes: B rollouts, T completion tokens, V vocabulary rows. `mask` is 1.0 on completion tokens
that count (not padding). Nothing here knows about models, tokenizers or configs.
"""
from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

Tensor = torch.Tensor


def _masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def grpo_advantages(rewards: Tensor, group_size: int, eps: float = 1e-6) -> tuple[Tensor, dict]:
    """Group-normalised advantages, A_i = (r_i - mean_g r) / (std_g r + eps)   (arXiv 2402.03300).

    `rewards` (B,) holds consecutive groups of `group_size` rollouts of the same prompt. A group
    whose rollouts all got the same reward has A = 0: it carries no policy-gradient signal
    (under VOLD it can still carry distillation signal when every rollout failed).
    """
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    r = rewards.float().view(-1, group_size)  # (P, G)
    adv = (r - r.mean(-1, keepdim=True)) / (r.std(-1, keepdim=True, unbiased=True) + eps)  # (P, G)
    if group_size == 1:  # std of one sample is undefined: no baseline, no signal
        adv = torch.zeros_like(r)
    solved = (r.std(-1) == 0) if group_size > 1 else torch.ones(r.shape[0], dtype=torch.bool, device=r.device)
    stats = {"adv_abs": adv.abs().mean().item(), "zero_adv_groups": solved.float().mean().item()}
    return adv.reshape(-1), stats  # (B,)


def grpo_loss(logp: Tensor, old_logp: Tensor, adv: Tensor, mask: Tensor,
              clip_low: float = 0.2, clip_high: float = 0.3,
              agg: Literal["token", "seq", "sum"] = "token") -> tuple[Tensor, dict]:
    """Clipped-ratio policy gradient with asymmetric clipping and no reference KL.

        ratio_t = exp(logp_t - old_logp_t)
        L = -E[ min(ratio_t * A, clip(ratio_t, 1 - clip_low, 1 + clip_high) * A) ]

    The asymmetric (clip-higher) bounds are DAPO's (arXiv 2503.14476), used by VOLD (arXiv
    2510.23497, Table 4: 0.2 / 0.3). `agg="token"` averages over all completion tokens of the
    batch (long rollouts weigh more); `agg="seq"` averages per rollout first, then over rollouts
    (the original GRPO); `agg="sum"` returns the masked sum, for an objective that divides by a
    count of its own (SRPO). With old_logp == logp the value is -E[A] and the gradient is
    REINFORCE's.
    """
    old_logp = old_logp.detach()
    ratio = torch.exp(logp - old_logp)  # (B, T)
    a = adv.detach().unsqueeze(-1)  # (B, 1)
    unclipped = ratio * a  # (B, T)
    clipped = ratio.clamp(1.0 - clip_low, 1.0 + clip_high) * a  # (B, T)
    per_tok = -torch.minimum(unclipped, clipped)  # (B, T)
    if agg == "token":
        loss = _masked_mean(per_tok, mask)
    elif agg == "seq":
        loss = ((per_tok * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    elif agg == "sum":
        loss = (per_tok * mask).sum()
    else:
        raise ValueError(f"agg must be 'token', 'seq' or 'sum', got {agg!r}")
    with torch.no_grad():
        was_clipped = (clipped != unclipped).float()
        stats = {"pg_loss": loss.item(), "clip_frac": _masked_mean(was_clipped, mask).item(),
                 "ratio_mean": _masked_mean(ratio, mask).item()}
    return loss, stats


def _pg_term(pg: bool, logp: Tensor, old_logp: Tensor, adv: Tensor, mask: Tensor, clip_low: float,
             clip_high: float, agg: Literal["token", "seq"]) -> tuple[Tensor, dict]:
    """`grpo_loss`, or with pg=False (distillation only) a zero that keeps `logp` in the graph
    and the same stats keys."""
    if pg:
        return grpo_loss(logp, old_logp, adv, mask, clip_low, clip_high, agg)
    return logp.sum() * 0.0, {"pg_loss": 0.0, "clip_frac": 0.0, "ratio_mean": 1.0}


def kd_k2(logp: Tensor, teacher_logp: Tensor, mask: Tensor) -> tuple[Tensor, dict]:
    """Per-token k2 estimate of the reverse KL on the sampled token (arXiv 2510.23497, eq. 4):

        KL_t = 1/2 (logp_t - teacher_logp_t)^2,   y_t ~ student

    Why k2 and not k1 (logp - teacher_logp): for tokens sampled from the student, the gradient
    of E[k2] is E[(logp - teacher_logp) grad logp] = grad KL(student || teacher), so the plain
    loss optimises reverse KL without a score-function term; k1's gradient is zero in
    expectation. Returns the per-token term (B, T), zero on padding, and its mean as a stat.
    """
    kl = 0.5 * (logp - teacher_logp.detach()) ** 2 * mask  # (B, T)
    return kl, {"teacher_k2": _masked_mean(kl.detach(), mask).item()}


def kd_full_reverse_kl(logits: Tensor, teacher_logits: Tensor, shared_vocab: int | None = None) -> Tensor:
    """Exact per-position reverse KL over the vocabulary both models share:

        KL_t = sum_v p(v) (log p(v) - log q(v)),   p = student, q = teacher, v < shared_vocab

    Both distributions are renormalised over ids [0, shared_vocab): Qwen2.5-VL has padding
    logit rows (151,936) beyond its 151,665 tokens and Qwen3 adds <think>/</think>, so only the
    common range is comparable. `logits` (..., V_s) and `teacher_logits` (..., V_t) give KL
    (...); no gradient reaches the teacher. The trainer calls it on chunks of positions
    (logprobs.full_reverse_kl), so full (B, T, V) float32 logits never exist for both models at
    once; that is also why it returns the bare per-position term: the caller masks it and logs
    its mean (rl.teacher_divergences: teacher_rkl).
    """
    v = shared_vocab or min(logits.shape[-1], teacher_logits.shape[-1])
    logp_all = F.log_softmax(logits[..., :v].float(), dim=-1)  # (..., V)
    tlogp_all = F.log_softmax(teacher_logits[..., :v].float().detach(), dim=-1)  # (..., V)
    return (logp_all.exp() * (logp_all - tlogp_all)).sum(-1)  # (...)


def vold_loss(logp: Tensor, old_logp: Tensor, adv: Tensor, mask: Tensor, kl: Tensor,
              rewards: Tensor, beta: float, kd_mask: Literal["reward", "none"] = "reward",
              clip_low: float = 0.2, clip_high: float = 0.3,
              agg: Literal["token", "seq"] = "token", pg: bool = True) -> tuple[Tensor, dict]:
    """GRPO plus on-policy distillation on the same rollouts (arXiv 2510.23497, eq. 5):

        L = L_GRPO + beta * E_i[ w_i * sum_t KL_{i,t} ],   w_i = 1 - r_i  (kd_mask="reward")
                                                            w_i = 1        (kd_mask="none")

    Reward-guided masking: a rollout the reward already calls correct (r = 1) keeps its
    policy-gradient signal but gets no pull towards the teacher, so the teacher only corrects
    failures and cannot drag a right answer towards its own (text-only) style. `kl` (B, T) is
    the per-token term from `kd_k2` or `kd_full_reverse_kl`. `pg=False` drops the reward term
    (the distillation-only baseline). With beta = 0 the KD term is not built at all, so it
    contributes exactly nothing to the gradient.
    """
    loss, stats = _pg_term(pg, logp, old_logp, adv, mask, clip_low, clip_high, agg)
    r = rewards.float().detach()  # (B,)
    if kd_mask == "reward":
        w = 1.0 - r  # (B,)
    elif kd_mask == "none":
        w = torch.ones_like(r)  # (B,)
    else:
        raise ValueError(f"kd_mask must be 'reward' or 'none', got {kd_mask!r}")
    kl_seq = (kl * mask).sum(-1)  # (B,)
    kd = (w * kl_seq).mean()
    if beta != 0.0:
        loss = loss + beta * kd
    with torch.no_grad():
        stats.update({
            "kd_loss": kd.item(),
            # the per-token distillation term as the loss used it: k2 or the exact reverse KL
            "kd_term": _masked_mean(kl.detach(), mask).item(),
            # fraction of rollouts whose distillation term is switched off by the mask
            "masked_frac": (w == 0).float().mean().item(),
            "loss": loss.item(),
        })
    return loss, stats


# ---------------------------------------------------------------- the on-policy family
# SRPO and VA-OPD run on the same rollouts, rewards and per-token KL as VOLD above, so
# `vold compare` sets them side by side with nothing else changed.


def srpo_route(rewards: Tensor, group_size: int) -> tuple[Tensor, Tensor]:
    """Sample routing of SRPO (arXiv 2604.02288). Returns boolean masks (B,) `to_pg`, `to_kd`.

    A correct rollout goes to the GRPO branch. A wrong rollout with a correct sibling goes to
    distillation only: its GRPO advantage would just push it down, while the teacher can say
    *which* tokens went wrong. A wrong rollout in an all-wrong group stays in GRPO (its
    advantage is 0 there, but it still counts towards the normaliser, as in the paper).
    Every rollout lands in exactly one branch."""
    if rewards.numel() % group_size:
        raise ValueError(f"{rewards.numel()} rewards do not split into groups of {group_size}")
    correct = rewards.view(-1, group_size) > 0.5  # (P, G)
    has_correct = correct.any(-1, keepdim=True).expand_as(correct)  # (P, G)
    to_kd = (~correct & has_correct).reshape(-1)  # (B,)
    return ~to_kd, to_kd


def srpo_loss(logp: Tensor, old_logp: Tensor, adv: Tensor, mask: Tensor, kl: Tensor,
              teacher_entropy: Tensor, rewards: Tensor, group_size: int,
              clip_low: float = 0.2, clip_high: float = 0.3, beta: float = 1.0) -> tuple[Tensor, dict]:
    """Sample-Routed Policy Optimization (arXiv 2604.02288):

        L = ( sum_{i in PG, t} l^GRPO_{i,t} + beta * sum_{i in KD, t} w_{i,t} KL_{i,t} ) / N_tok
        w_{i,t} = exp(-H^T_{i,t}) / mean_{KD tokens} exp(-H^T),   N_tok = routed tokens of both

    PG / KD from `srpo_route`; `kl` (B, T) is the per-token distillation term (k2 or exact);
    `teacher_entropy` (B, T) the teacher's entropy at each position: tokens where the teacher
    is sure weigh more, tokens where it is guessing weigh less. beta = 1 is the paper's plain sum.
    Both branches share one token count, so there is no per-rollout (agg="seq") form.
    """
    to_pg, to_kd = srpo_route(rewards, group_size)
    m_pg = mask * to_pg.float().unsqueeze(-1)  # (B, T)
    m_kd = mask * to_kd.float().unsqueeze(-1)  # (B, T)
    pg_sum, stats = grpo_loss(logp, old_logp, adv, m_pg, clip_low, clip_high, "sum")
    w = torch.exp(-teacher_entropy.detach().float()) * m_kd  # (B, T)
    w = w / (w.sum() / m_kd.sum().clamp(min=1.0)).clamp(min=1e-12)  # mean 1 over KD tokens
    n_tok = (m_pg + m_kd).sum().clamp(min=1.0)
    kd_sum = (w * kl * m_kd).sum()
    loss = (pg_sum + beta * kd_sum) / n_tok
    with torch.no_grad():
        stats.update({"pg_loss": (pg_sum / n_tok).item(), "kd_loss": (kd_sum / n_tok).item(),
                      "kd_term": _masked_mean(kl.detach(), m_kd).item() if to_kd.any() else 0.0,
                      "kd_frac": to_kd.float().mean().item(),
                      # VOLD's masked_frac: rollouts whose distillation term is off
                      "masked_frac": 1.0 - to_kd.float().mean().item(), "loss": loss.item()})
    return loss, stats


def visual_advantage(teacher_logp: Tensor, teacher_logp_degraded: Tensor, mask: Tensor) -> Tensor:
    """VA_t = max(log p_T(y_t | full image) - log p_T(y_t | degraded image), 0)   (arXiv 2605.21924).

    Large where the teacher needs the picture to predict the student's token (a number read
    off a card), zero where the text alone explains it. (B, T), zero on padding."""
    return (teacher_logp - teacher_logp_degraded).detach().clamp(min=0.0) * mask  # (B, T)


def va_rollout_weights(va: Tensor, mask: Tensor, group_size: int, eps: float = 1e-6) -> Tensor:
    """Rollout weights of VA-OPD: mean VA per rollout, z-scored across the G siblings
    (population std), softmax with temperature 1. (B,), summing to 1 within each group."""
    m = (va * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)  # (B,)
    m = m.view(-1, group_size)  # (P, G)
    z = (m - m.mean(-1, keepdim=True)) / (m.std(-1, keepdim=True, unbiased=False) + eps)  # (P, G)
    return torch.softmax(z, dim=-1).reshape(-1)  # (B,)


def va_token_groups(va: Tensor, mask: Tensor, top_frac: float = 0.2) -> Tensor:
    """Boolean (B, T): the top `top_frac` of each rollout's tokens by VA (at least one token,
    ceil of the fraction; ties broken by position). The rest of the mask is the other group."""
    n = mask.sum(-1)  # (B,)
    k = torch.ceil(n * top_frac).clamp(min=1.0)  # (B,)
    score = va.masked_fill(mask == 0, float("-inf"))  # (B, T)
    order = torch.argsort(score, dim=-1, descending=True, stable=True)  # (B, T)
    rank = order.argsort(dim=-1)  # (B, T) 0 = highest VA
    return (rank < k.unsqueeze(-1)) & (mask > 0)


def va_opd_loss(logp: Tensor, old_logp: Tensor, adv: Tensor, mask: Tensor, kl: Tensor, va: Tensor,
                group_size: int, pg: bool = False, beta: float = 1.0, top_frac: float = 0.2,
                mix: float = 0.5, clip_low: float = 0.2, clip_high: float = 0.3,
                agg: Literal["token", "seq"] = "token") -> tuple[Tensor, dict]:
    """Visual-Advantage On-Policy Distillation (arXiv 2605.21924):

        L_i = mix * mean_{t in top(VA_i)} KL_{i,t} + (1 - mix) * mean_{t not in top} KL_{i,t}
        L   = [L_GRPO if pg] + beta * (1/P) sum_groups sum_i w_i L_i,   w = va_rollout_weights

    Rollouts that lean on the picture more than their siblings get more of the teacher's pull,
    and inside a rollout the few image-bound tokens are not drowned by the many that are not.
    The paper has no task reward (pg=False); pg=True adds VOLD's GRPO term on the same rollouts,
    averaged as `agg` says (the distillation term is per rollout already).
    A rollout whose tokens are all in the top group uses that group's mean alone.
    """
    top = va_token_groups(va, mask, top_frac).float()  # (B, T)
    rest = mask - top  # (B, T)
    kl_top = (kl * top).sum(-1) / top.sum(-1).clamp(min=1.0)  # (B,)
    kl_rest = (kl * rest).sum(-1) / rest.sum(-1).clamp(min=1.0)  # (B,)
    has_rest = rest.sum(-1) > 0  # (B,)
    per_roll = torch.where(has_rest, mix * kl_top + (1.0 - mix) * kl_rest, kl_top)  # (B,)
    w = va_rollout_weights(va, mask, group_size)  # (B,)
    kd = (w * per_roll).sum() / (w.numel() // group_size)
    loss, stats = _pg_term(pg, logp, old_logp, adv, mask, clip_low, clip_high, agg)
    loss = loss + beta * kd
    with torch.no_grad():
        stats.update({"kd_loss": kd.item(), "kd_term": _masked_mean(kl.detach(), mask).item(),
                      "masked_frac": 0.0, "va_mean": _masked_mean(va, mask).item(),
                      "va_top_mean": _masked_mean(va, top).item(),
                      "va_w_max": w.view(-1, group_size).max(-1).values.mean().item(),
                      "loss": loss.item()})
    return loss, stats
