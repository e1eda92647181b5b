"""Property tests of the objectives in vold_train/losses.py."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vold_train.losses import grpo_advantages, grpo_loss, kd_full_reverse_kl, kd_k2, vold_loss


def _batch(seed, B=6, T=5):
    g = torch.Generator().manual_seed(seed)
    logp = (-torch.rand(B, T, generator=g) * 3).requires_grad_()
    old = (logp.detach() + 0.3 * torch.randn(B, T, generator=g))
    teacher = -torch.rand(B, T, generator=g) * 3
    mask = (torch.rand(B, T, generator=g) > 0.3).float()
    mask[:, 0] = 1.0
    rewards = (torch.rand(B, generator=g) > 0.5).float()
    return logp, old, teacher, mask, rewards


def test_advantages_are_group_normalised():
    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    adv, stats = grpo_advantages(r, group_size=3)
    g1 = r[:3]
    assert torch.allclose(adv[:3], (g1 - g1.mean()) / (g1.std() + 1e-6))
    assert torch.equal(adv[3:], torch.zeros(3))  # all-correct group: no signal
    assert stats["zero_adv_groups"] == 0.5


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["token", "seq"]))
def test_grpo_equals_reinforce_when_on_policy(seed, agg):
    logp, _, _, mask, rewards = _batch(seed)
    adv, _ = grpo_advantages(rewards, group_size=3)
    loss, _ = grpo_loss(logp, logp.detach(), adv, mask, 0.2, 0.3, agg)
    (g,) = torch.autograd.grad(loss, logp)
    logp2 = logp.detach().clone().requires_grad_()
    per_tok = -adv[:, None] * logp2 * mask  # REINFORCE surrogate
    if agg == "token":
        ref = per_tok.sum() / mask.sum()
        ref_value = -(adv[:, None] * mask).sum() / mask.sum()
    else:
        ref = (per_tok.sum(-1) / mask.sum(-1)).mean()
        ref_value = -adv.mean()
    (g_ref,) = torch.autograd.grad(ref, logp2)
    assert torch.allclose(g, g_ref, atol=1e-6)
    assert torch.allclose(loss, ref_value, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["reward", "none"]), st.sampled_from([0.0, 0.1]))
def test_padding_tokens_get_exactly_zero_gradient(seed, kd_mask, beta):
    logp, old, teacher, mask, rewards = _batch(seed)
    adv, _ = grpo_advantages(rewards, 3)
    kl, _ = kd_k2(logp, teacher, mask)
    loss, _ = vold_loss(logp, old, adv, mask, kl, rewards, beta, kd_mask)
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.all(g[mask == 0] == 0.0)


def test_identical_student_and_teacher_give_zero_kl():
    logp, _, _, mask, _ = _batch(0)
    kl, stats = kd_k2(logp, logp.detach(), mask)
    assert torch.all(kl == 0) and stats["teacher_k2"] == 0.0
    logits = torch.randn(3, 4, 11, requires_grad=True)
    kl_full, _ = kd_full_reverse_kl(logits, logits.detach(), torch.ones(3, 4))
    assert torch.allclose(kl_full, torch.zeros(3, 4), atol=1e-6)
    (g,) = torch.autograd.grad(kl_full.sum(), logits)
    assert torch.allclose(g, torch.zeros_like(g), atol=1e-6)


def test_full_kl_matches_definition_and_ignores_rows_past_shared_vocab():
    s, t = torch.randn(2, 3, 9), torch.randn(2, 3, 12)
    kl, _ = kd_full_reverse_kl(s, t, torch.ones(2, 3), shared_vocab=7)
    p, q = s[..., :7].softmax(-1), t[..., :7].softmax(-1)
    assert torch.allclose(kl, (p * (p.log() - q.log())).sum(-1), atol=1e-5)
    assert torch.all(kl >= -1e-6)
    t2 = t.clone()
    t2[..., 7:] += 100.0  # the teacher's extra rows must not matter
    kl2, _ = kd_full_reverse_kl(s, t2, torch.ones(2, 3), shared_vocab=7)
    assert torch.allclose(kl, kl2)


def test_k2_gradient_is_the_reverse_kl_gradient_in_expectation():
    # Exact expectation over a small vocabulary: sum_y p(y) * d/dtheta k2(y) == d/dtheta KL(p||q).
    theta = torch.randn(5, requires_grad=True)
    q_logp = torch.randn(5).log_softmax(-1)
    logp = theta.log_softmax(-1)
    k2_per_y = 0.5 * (logp - q_logp) ** 2
    surrogate = (logp.exp().detach() * k2_per_y).sum()  # samples are drawn, not differentiated
    (g_k2,) = torch.autograd.grad(surrogate, theta)
    logp = theta.log_softmax(-1)
    (g_kl,) = torch.autograd.grad((logp.exp() * (logp - q_logp)).sum(), theta)
    assert torch.allclose(g_k2, g_kl, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_reward_one_rollout_gets_no_distillation_gradient_under_masking(seed):
    logp, old, teacher, mask, rewards = _batch(seed)
    rewards[0], rewards[1] = 1.0, 0.0
    adv = torch.zeros_like(rewards)  # isolate the distillation term
    kl, _ = kd_k2(logp, teacher, mask)
    loss, stats = vold_loss(logp, old, adv, mask, kl, rewards, beta=0.5, kd_mask="reward")
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.all(g[0] == 0.0)
    assert torch.any(g[1] != 0.0)
    assert stats["masked_frac"] == rewards.mean().item()
    kl, _ = kd_k2(logp, teacher, mask)
    loss, stats = vold_loss(logp, old, adv, mask, kl, rewards, beta=0.5, kd_mask="none")
    (g,) = torch.autograd.grad(loss, logp)
    assert torch.any(g[0] != 0.0) and stats["masked_frac"] == 0.0


def test_beta_zero_leaves_only_the_grpo_gradient():
    logp, old, teacher, mask, rewards = _batch(3)
    adv, _ = grpo_advantages(rewards, 3)
    kl, _ = kd_k2(logp, teacher, mask)
    loss, _ = vold_loss(logp, old, adv, mask, kl, rewards, beta=0.0, kd_mask="none")
    (g,) = torch.autograd.grad(loss, logp)
    ref, _ = grpo_loss(logp, old, adv, mask)
    (g_ref,) = torch.autograd.grad(ref, logp)
    assert torch.equal(g, g_ref)


def test_pg_false_is_pure_distillation():
    logp, old, teacher, mask, rewards = _batch(4)
    adv, _ = grpo_advantages(rewards, 3)
    kl, _ = kd_k2(logp, teacher, mask)
    loss, _ = vold_loss(logp, old, adv, mask, kl, rewards, beta=1.0, kd_mask="none", pg=False)
    assert torch.allclose(loss, (kl * mask).sum(-1).mean())


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(-2.0, 2.0))
def test_clipping_bounds(seed, a):
    g = torch.Generator().manual_seed(seed)
    old = -torch.rand(1, 64, generator=g) * 2
    logp = (old + torch.randn(1, 64, generator=g)).requires_grad_()
    adv, mask = torch.tensor([a]), torch.ones(1, 64)
    loss, stats = grpo_loss(logp, old, adv, mask, clip_low=0.2, clip_high=0.3)
    (grad,) = torch.autograd.grad(loss, logp)
    ratio = (logp - old).exp().detach()
    # Where the clip is active the token gets no gradient: ratio above 1+0.3 with A > 0,
    # below 1-0.2 with A < 0; elsewhere the gradient is -A * ratio / N.
    frozen = ((ratio > 1.3) & (a > 0)) | ((ratio < 0.8) & (a < 0))
    assert torch.all(grad[frozen] == 0)
    expected = -a * ratio / 64
    assert torch.allclose(grad[~frozen], expected[~frozen], atol=1e-6)
    # The objective never credits more than the clipped ratio: per-token value >= -A*clip.
    assert loss.item() >= -abs(a) * 1.3 - 1e-6
    assert 0.0 <= stats["clip_frac"] <= 1.0
