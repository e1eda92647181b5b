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
    kl_full = kd_full_reverse_kl(logits, logits.detach())
    assert torch.allclose(kl_full, torch.zeros(3, 4), atol=1e-6)
    (g,) = torch.autograd.grad(kl_full.sum(), logits)
    assert torch.allclose(g, torch.zeros_like(g), atol=1e-6)


def _dense_reverse_kl(s_logits, t_logits, V):
    """KL(p_s || p_t) = sum_v p_s(v) (log p_s(v) - log p_t(v)), both softmaxes over ids [0, V),
    written out in float64 from exp and sum (the definition, not log_softmax)."""
    s, t = s_logits[..., :V].double(), t_logits[..., :V].double()
    p_s = s.exp() / s.exp().sum(-1, keepdim=True)
    p_t = t.exp() / t.exp().sum(-1, keepdim=True)
    return (p_s * (p_s.log() - p_t.log())).sum(-1)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 12))
def test_full_kl_matches_definition_and_ignores_rows_past_shared_vocab(seed, V):
    g = torch.Generator().manual_seed(seed)
    s, t = torch.randn(2, 3, 12, generator=g) * 3, torch.randn(2, 3, 15, generator=g) * 3
    kl = kd_full_reverse_kl(s, t, shared_vocab=V)
    assert torch.allclose(kl.double(), _dense_reverse_kl(s, t, V), atol=1e-5)
    assert torch.all(kl >= -1e-6)
    s2, t2 = s.clone(), t.clone()
    s2[..., V:] += 100.0  # rows past the shared range, on either side, must not matter
    t2[..., V:] -= 100.0
    assert torch.allclose(kd_full_reverse_kl(s2, t2, shared_vocab=V), kl)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1, 2, 5, 6, 7, 64]))
def test_chunked_full_kl_is_the_dense_definition_at_any_chunk_size(seed, chunk):
    """logprobs.full_reverse_kl (what the trainer runs) over hidden states and two heads whose
    rows go past the shared vocabulary, chunked at sizes that do and do not divide B*T = 6."""
    from vold_train.logprobs import full_reverse_kl

    g = torch.Generator().manual_seed(seed)
    B, T, H, Ht, V = 2, 3, 8, 5, 10
    head = torch.nn.Linear(H, V + 3, bias=False)  # a student with padding rows past V
    t_head = torch.nn.Linear(Ht, V + 6, bias=False)
    with torch.no_grad():
        head.weight.copy_(torch.randn(V + 3, H, generator=g))
        t_head.weight.copy_(torch.randn(V + 6, Ht, generator=g))
    h = torch.randn(B, T, H, generator=g, requires_grad=True)
    th = torch.randn(B, T, Ht, generator=g)
    kl = full_reverse_kl(h, head, th, t_head, V, chunk)  # (B, T)
    ref = _dense_reverse_kl(h @ head.weight.T, th @ t_head.weight.T, V)  # (B, T)
    assert kl.shape == (B, T) and torch.allclose(kl.double(), ref, atol=1e-5)
    # the gradient reaches the student's hidden states and head only, as the dense form's does
    (gh, gw) = torch.autograd.grad(kl.sum(), (h, head.weight))
    h2 = h.detach().double().requires_grad_()
    w2 = head.weight.detach().double().requires_grad_()
    (rh, rw) = torch.autograd.grad(_dense_reverse_kl(h2 @ w2.T, (th @ t_head.weight.T).detach(), V).sum(), (h2, w2))
    assert torch.allclose(gh.double(), rh, atol=1e-4) and torch.allclose(gw.double(), rw, atol=1e-4)
    th.requires_grad_()  # ... never the teacher's
    kl = full_reverse_kl(h, head, th, t_head, V, chunk)
    assert torch.autograd.grad(kl.sum(), (th, t_head.weight), allow_unused=True) == (None, None)


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
