"""The objective registry (vold_train/objectives.py), the teachers it names, and the config
checks that run before any model loads: choices, moved keys, agg, the launch."""
import typing

import pytest
import torch

from vold_bench.errors import VoldError
from vold_train import objectives, teachers
from vold_train.config import MOVED, RLConfig, check_choices, load_recipe
from vold_train.losses import grpo_loss, kd_k2, srpo_loss, va_opd_loss


def test_unknown_objective_is_refused_by_name():
    with pytest.raises(VoldError, match=r"unknown objective 'ppo'; valid: vold, srpo, va-opd"):
        objectives.get("ppo")


def test_the_config_choices_are_the_registry():
    choices = typing.get_args(typing.get_type_hints(RLConfig)["objective"])
    assert set(choices) == set(objectives.OBJECTIVES)
    for name, obj in objectives.OBJECTIVES.items():
        assert obj.name == name and set(obj.agg) <= {"token", "seq"}
        assert obj.teacher(RLConfig(objective=name)) in teachers.KINDS


def test_srpo_teacher_follows_its_family_knob():
    cfg = load_recipe("srpo-self").rl
    assert objectives.get("srpo").teacher(cfg) == "self"
    assert objectives.get("srpo").teacher(load_recipe("srpo").rl) == "text"


@pytest.mark.parametrize("sets, key", [
    (["rl.engine.rollout=sglang"], r"rl\.engine\.rollout must be one of hf, vllm, got 'sglang'"),
    (["rl.family.srpo_teacher=ema"], r"rl\.family\.srpo_teacher must be one of external, self"),
    (["rl.plan.strategy=tp"], r"rl\.plan\.strategy must be one of fsdp, zero3, ddp"),
    (["rl.kd=k3"], r"rl\.kd must be one of k2, full"),
    (["rl.objective=ppo"], r"rl\.objective must be one of vold, srpo, va-opd, got 'ppo'"),
])
def test_a_bad_choice_names_its_key(sets, key):
    with pytest.raises(VoldError, match=key):
        load_recipe("vold", sets)


def test_the_choice_validator_walks_any_nested_dataclass():
    from dataclasses import dataclass, field
    from typing import Literal

    @dataclass
    class Inner:
        mode: Literal["a", "b"] = "a"

    @dataclass
    class Outer:
        inner: Inner = field(default_factory=Inner)
        kind: Literal["x"] = "x"

    assert check_choices(Outer(), "o") == []
    assert check_choices(Outer(Inner("c"), "y"), "o") == ["o.inner.mode must be one of a, b, got 'c'",
                                                          "o.kind must be one of x, got 'y'"]


@pytest.mark.parametrize("old, new", sorted(MOVED.items()))
def test_an_old_flat_key_fails_naming_its_new_place(old, new):
    with pytest.raises(VoldError, match=rf"^config key '{old}' is now '{new}'$"):
        load_recipe("vold", [f"{old}=1"])


def test_an_old_flat_key_in_a_recipe_file_fails_naming_its_new_place(tmp_path):
    p = tmp_path / "old.yaml"
    p.write_text("stages: [rl]\nrl:\n  model: toy-student\n  rollout_engine: vllm\n")
    with pytest.raises(VoldError, match=r"'rl\.rollout_engine' is now 'rl\.engine\.rollout'"):
        load_recipe(str(p))
    p.write_text("stages: [rl]\nrl:\n  model: toy-student\n  engine:\n    rollout: vllm\n")
    assert load_recipe(str(p)).rl.engine.rollout == "vllm"
    with pytest.raises(VoldError, match=r"'rl\.engine' is a section; set its keys: rl\.engine\.rollout"):
        load_recipe("vold", ["rl.engine=vllm"])
    assert load_recipe("vold", ["vllm_sleep=false"]).rl.engine.vllm_sleep is False  # bare key: one owner


def _no_model_loads(monkeypatch):
    from vold_train import common

    def refuse(*a, **k):
        raise AssertionError("a model was loaded before the config check")

    monkeypatch.setattr(common, "load_model", refuse)
    monkeypatch.setattr(common, "load_tokenizer", refuse)


def test_agg_seq_is_refused_by_srpo_before_any_model_loads(tmp_path, monkeypatch):
    from vold_train.run import train_recipe

    _no_model_loads(monkeypatch)
    with pytest.raises(VoldError, match=r"rl\.agg=seq is not defined for rl\.objective srpo \(valid: token\)"):
        train_recipe("srpo", ["rl.agg=seq"], out=tmp_path / "run")
    for name in ("vold", "va-opd"):  # the others define it
        assert load_recipe(name, ["rl.agg=seq"]).rl.agg == "seq"


def test_launch_checks_run_before_any_model_loads(tmp_path, monkeypatch):
    from vold_train.run import train_recipe

    _no_model_loads(monkeypatch)
    monkeypatch.setenv("WORLD_SIZE", "2")  # read, not joined: no process group starts
    with pytest.raises(VoldError, match="rl.objective srpo / rl.family.curation none run in one process only"):
        load_recipe("srpo")
    with pytest.raises(VoldError, match="rl.prompts_per_step 3 must be a multiple of the 2 processes"):
        train_recipe("vold", ["rl.prompts_per_step=3"], out=tmp_path / "run")
    with pytest.raises(VoldError, match="sft.batch_size 3 must be a multiple of the 2 processes"):
        load_recipe("vold", ["sft.batch_size=3", "sft.micro_batch=1"])
    # no rl stage: no rl checks
    assert load_recipe("sft-only", ["sft.batch_size=4", "sft.micro_batch=2", "rl.prompts_per_step=3"])


# ---------------------------------------------------------------- the losses the registry calls


def _batch(seed, P=3, G=4, T=6):
    g = torch.Generator().manual_seed(seed)
    B = P * G
    logp = (-torch.rand(B, T, generator=g) * 3).requires_grad_()
    old = logp.detach() + 0.3 * torch.randn(B, T, generator=g)
    mask = (torch.rand(B, T, generator=g) > 0.3).float()
    mask[:, 0] = 1.0
    kl, _ = kd_k2(logp, -torch.rand(B, T, generator=g) * 3, mask)
    return logp, old, torch.randn(B, generator=g), mask, kl, torch.rand(B, T, generator=g)


@pytest.mark.parametrize("seed", range(5))
def test_srpo_without_distilled_rollouts_is_grpo(seed):
    # every rollout correct: all of them route to the GRPO branch, whose count is the normaliser
    logp, old, adv, mask, kl, ent = _batch(seed)
    loss, st = srpo_loss(logp, old, adv, mask, kl, ent, torch.ones(len(adv)), 4, 0.2, 0.3, beta=1.0)
    ref, ref_st = grpo_loss(logp, old, adv, mask, 0.2, 0.3, "token")
    (g,) = torch.autograd.grad(loss, logp)
    (g_ref,) = torch.autograd.grad(ref, logp)
    assert torch.allclose(loss, ref) and torch.allclose(g, g_ref)
    assert st["clip_frac"] == pytest.approx(ref_st["clip_frac"])  # clipping is grpo_loss's, reported


@pytest.mark.parametrize("agg", ["token", "seq"])
def test_va_opd_reward_term_is_grpo_with_the_asked_agg(agg):
    logp, old, adv, mask, kl, va = _batch(1)
    with_pg, _ = va_opd_loss(logp, old, adv, mask, kl, va, 4, pg=True, beta=0.5, agg=agg)
    kd_only, _ = va_opd_loss(logp, old, adv, mask, kl, va, 4, pg=False, beta=0.5, agg=agg)
    pg, _ = grpo_loss(logp, old, adv, mask, 0.2, 0.3, agg)
    assert torch.allclose(with_pg - kd_only, pg)


def test_every_registered_loss_takes_the_same_terms():
    logp, old, adv, mask, kl, ent = _batch(2)
    rewards = (torch.arange(len(adv)) % 2).float()
    t = objectives.Terms(logp, old, adv, mask, kl, rewards, teacher_entropy=ent, va=ent)
    for name, obj in objectives.OBJECTIVES.items():
        loss, st = obj.loss(load_recipe(name, ["rl.group_size=4"]).rl, t)
        assert loss.dim() == 0 and {"loss", "kd_loss", "pg_loss", "masked_frac"} <= set(st), name


def test_signal_rows_slice_every_tensor_and_keep_the_head():
    head = torch.nn.Linear(2, 3)
    sig = teachers.Signal(logp=torch.arange(12.0).view(4, 3), head=head, va=torch.ones(4, 3))
    part = sig.rows(slice(1, 3))
    assert torch.equal(part.logp, sig.logp[1:3]) and part.va.shape == (2, 3)
    assert part.head is head and part.hidden is None and part.entropy is None
