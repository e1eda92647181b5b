"""Property tests of the on-policy family in vold_train/losses.py: SRPO routing and VA-OPD."""
import math

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vold_train.losses import (
    grpo_advantages,
    grpo_loss,
    kd_k2,
    srpo_loss,
    srpo_route,
    va_opd_loss,
    va_rollout_weights,
    va_token_groups,
    visual_advantage,
)

G = 4


def _batch(seed, P=3, T=7):
    g = torch.Generator().manual_seed(seed)
    B = P * G
    logp = (-torch.rand(B, T, generator=g) * 3).requires_grad_()
    teacher = -torch.rand(B, T, generator=g) * 3
    ent = torch.rand(B, T, generator=g) * 4
    mask = (torch.rand(B, T, generator=g) > 0.3).float()
    mask[:, 0] = 1.0
    rewards = (torch.rand(B, generator=g) > 0.5).float()
    return logp, teacher, ent, mask, rewards


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0]), min_size=G, max_size=6 * G).filter(lambda r: len(r) % G == 0))
def test_routing_covers_every_rollout_exactly_once(r):
    rewards = torch.tensor(r)
    to_pg, to_kd = srpo_route(rewards, G)
    assert torch.all(to_pg ^ to_kd)  # exactly one branch each
    groups = rewards.view(-1, G)
    for i, rew in enumerate(rewards.tolist()):
        sibling_solved = bool(groups[i // G].max() == 1.0)
        assert bool(to_kd[i]) == (rew == 0.0 and sibling_solved)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_srpo_distillation_weights_have_mean_one(seed):
    # with kl = 1 everywhere and no advantage, the KD sum is sum of weights = number of KD tokens
    logp, _, ent, mask, rewards = _batch(seed)
    rewards.view(-1, G)[:, 0] = 1.0  # every group has a correct sibling
    rewards.view(-1, G)[:, 1] = 0.0  # ... and a wrong one to distil
    _, to_kd = srpo_route(rewards, G)
    loss, st_ = srpo_loss(logp, logp.detach(), torch.zeros(len(rewards)), mask, torch.ones_like(logp),
                          ent, rewards, G)
    n_kd = (mask * to_kd.float()[:, None]).sum()
    assert math.isclose(loss.item(), (n_kd / mask.sum()).item(), rel_tol=1e-5)
    assert st_["kd_frac"] == to_kd.float().mean().item()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_srpo_branches_do_not_leak(seed):
    logp, teacher, ent, mask, rewards = _batch(seed)
    rewards.view(-1, G)[:, 0] = 1.0
    rewards.view(-1, G)[:, 1] = 0.0
    to_pg, to_kd = srpo_route(rewards, G)
    adv, _ = grpo_advantages(rewards, G)
    # distillation only: PG rollouts (correct ones included) get no gradient
    kl, _ = kd_k2(logp, teacher, mask)
    loss, _ = srpo_loss(logp, logp.detach(), torch.zeros_like(adv), mask, kl, ent, rewards, G)
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.all(g[to_pg] == 0.0) and torch.all(g[mask == 0] == 0.0)
    # GRPO only: routed-to-KD rollouts get no policy gradient even with a negative advantage
    loss, _ = srpo_loss(logp, logp.detach(), adv, mask, torch.zeros_like(logp), ent, rewards, G)
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.all(g[to_kd] == 0.0) and (g[to_pg & (adv != 0)].abs().sum() > 0)


def test_srpo_without_kd_rollouts_is_token_grpo():
    logp, teacher, ent, mask, _ = _batch(3)
    rewards = torch.tensor([1.0] * G + [0.0] * G + [1.0, 1.0, 1.0, 1.0])  # no mixed group
    adv = torch.randn(len(rewards))
    old = logp.detach() + 0.2
    kl, _ = kd_k2(logp, teacher, mask)
    a, _ = srpo_loss(logp, old, adv, mask, kl, ent, rewards, G)
    b, _ = grpo_loss(logp, old, adv, mask, agg="token")
    assert torch.allclose(a, b, atol=1e-6)


def test_confident_teacher_tokens_weigh_more():
    logp, _, _, _, _ = _batch(5, P=1, T=2)
    mask = torch.ones_like(logp)
    rewards = torch.tensor([1.0, 0.0, 1.0, 1.0])
    ent = torch.tensor([[0.1, 3.0]] * G)  # token 0: teacher sure; token 1: teacher guessing
    kl, _ = kd_k2(logp, logp.detach() - 1.0, mask)  # same distance to the teacher on both tokens
    loss, _ = srpo_loss(logp, logp.detach(), torch.zeros(G), mask, kl, ent, rewards, G)
    (g,) = torch.autograd.grad(loss, logp)
    assert g[1, 0].abs() > 10 * g[1, 1].abs()


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.1, 10.0))
def test_va_weights_sum_to_one_per_group_and_ignore_scale(seed, scale):
    _, teacher, _, mask, _ = _batch(seed)
    # seeded: Hypothesis must replay a failing example exactly (the global RNG made it flaky)
    degraded = teacher - torch.randn(teacher.shape, generator=torch.Generator().manual_seed(seed))
    va = visual_advantage(teacher, degraded, mask)
    assert torch.all(va >= 0) and torch.all(va[mask == 0] == 0)
    w = va_rollout_weights(va, mask, G)
    assert torch.allclose(w.view(-1, G).sum(-1), torch.ones(w.numel() // G), atol=1e-6)
    # z-score: the same weights at any scale once the std's eps scales with it (the eps is
    # absolute, so at a small scale and a small group std it alone moves a weight by ~1e-4)
    assert torch.allclose(va_rollout_weights(va * scale, mask, G, eps=1e-6 * scale), w, atol=1e-5)
    m = (va * mask).sum(-1) / mask.sum(-1)  # more visual advantage, more weight
    for grp in range(w.numel() // G):  # order-preserving, with near-ties allowed either way
        ms, ws = m[grp * G:grp * G + G], w[grp * G:grp * G + G]
        i, j = (ms[:, None] > ms[None, :] + 1e-5).nonzero(as_tuple=True)  # i clearly more VA than j
        assert torch.all(ws[i] >= ws[j] - 1e-6)


def test_va_equal_rollouts_get_uniform_weights_and_no_advantage_without_degradation():
    _, teacher, _, mask, _ = _batch(1)
    assert torch.all(visual_advantage(teacher, teacher, mask) == 0)
    w = va_rollout_weights(torch.ones_like(teacher), torch.ones_like(teacher), G)
    assert torch.allclose(w, torch.full_like(w, 1 / G))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([0.2, 0.5]))
def test_va_top_group_is_the_top_fraction(seed, frac):
    _, teacher, _, mask, _ = _batch(seed)
    va = visual_advantage(teacher, teacher - torch.randn_like(teacher), mask)
    top = va_token_groups(va, mask, frac)
    assert torch.equal(top.sum(-1).float(), torch.ceil(mask.sum(-1) * frac).clamp(min=1))
    assert not torch.any(top & (mask == 0))
    for i in range(len(va)):
        rest = (mask[i] > 0) & ~top[i]
        if rest.any():
            assert va[i][top[i]].min() >= va[i][rest].max()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.01, 3.0))
def test_va_opd_of_a_constant_kl_is_that_constant(seed, c):
    # weights sum to 1 per group and the 0.5/0.5 mix of two means of c is c
    logp, teacher, _, mask, rewards = _batch(seed)
    va = visual_advantage(teacher, teacher - torch.randn_like(teacher), mask)
    loss, st_ = va_opd_loss(logp, logp.detach(), torch.zeros(len(rewards)), mask,
                            torch.full_like(logp, c) * mask, va, G)
    assert math.isclose(loss.item(), c, rel_tol=1e-5) and math.isclose(st_["kd_loss"], c, rel_tol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_va_opd_padding_gets_zero_gradient_and_reward_term_is_optional(seed, pg):
    logp, teacher, _, mask, rewards = _batch(seed)
    adv, _ = grpo_advantages(rewards, G)
    va = visual_advantage(teacher, teacher - torch.randn_like(teacher), mask)
    kl, _ = kd_k2(logp, teacher, mask)
    loss, _ = va_opd_loss(logp, logp.detach(), adv, mask, kl, va, G, pg=pg)
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.all(g[mask == 0] == 0.0)
    kd_only, _ = va_opd_loss(logp, logp.detach(), adv, mask, kl, va, G, pg=False)
    with_pg, _ = va_opd_loss(logp, logp.detach(), adv, mask, kl, va, G, pg=True)
    ref, _ = grpo_loss(logp, logp.detach(), adv, mask, agg="token")
    assert torch.allclose(with_pg - kd_only, ref, atol=1e-6)


def test_va_opd_mixes_top_and_rest_half_and_half():
    # one group, one rollout of 10 tokens with VA on token 0 and 1 only; kl 1 on top, 0 elsewhere
    mask = torch.ones(G, 10)
    va = torch.zeros(G, 10)
    va[:, :2] = torch.tensor([2.0, 1.0])
    kl = torch.zeros(G, 10)
    kl[:, :2] = 1.0  # top 20% = 2 tokens, mean 1; rest mean 0 -> 0.5 per rollout
    logp = torch.zeros(G, 10, requires_grad=True)
    loss, _ = va_opd_loss(logp, logp.detach(), torch.zeros(G), mask, kl, va, G)
    assert math.isclose(loss.item(), 0.5, rel_tol=1e-6)
