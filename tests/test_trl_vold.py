"""TRL: vold's reward inside a real GRPOTrainer step, and VOLD's objective through
vold_train.trl_vold.VOLDGRPOTrainer checked against vold_train.losses.vold_loss on the same
rollouts. The student is the shipped toy Qwen2.5-VL (a real VLM, text-only prompts as in VOLD's
RL stage), the teacher the toy Qwen3. Skipped without trl (`pip install vold[trl]`)."""
from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("trl")

from datasets import Dataset  # noqa: E402
from transformers import AutoModelForImageTextToText, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from vold_bench.adapters import trl_reward  # noqa: E402
from vold_bench.scoring import reward as vold_reward  # noqa: E402
from vold_train import losses  # noqa: E402
from vold_train.common import load_model, load_tokenizer, model_path, teacher_prompt  # noqa: E402
from vold_train.data import load_problems  # noqa: E402
from vold_train.logprobs import LogprobModel  # noqa: E402
from vold_train.rollout import Rollouts, teacher_scores  # noqa: E402
from vold_train.trl_vold import VOLDConfig, VOLDGRPOTrainer, text_messages  # noqa: E402

G, TOKENS, BETA = 4, 40, 0.02


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def toy_items(n: int, wrong_gold_every: int = 0):
    """Toy text problems; with wrong_gold_every=k every k-th gold is off by one, so those
    rollouts get reward 0 whatever the student writes (a reward mix the mask must act on)."""
    items = load_problems("toy", "train", n, 0)
    for i, it in enumerate(items):
        if wrong_gold_every and i % wrong_gold_every == 1:
            it.gold = str(int(it.gold) + 1)
    return items


def dataset(items) -> Dataset:
    return Dataset.from_list([{"prompt": [{"role": "user", "content": [{"type": "text", "text": it.question}]}],
                               "answer": it.gold} for it in items])


def student():
    model = AutoModelForImageTextToText.from_pretrained(model_path("toy-student"), dtype=torch.float32)
    model.model.visual.requires_grad_(False)
    return model


def config(cls, tmp_path, prompts: int, steps: int = 1, tokens: int = TOKENS, **kw):
    return cls(output_dir=str(tmp_path / "trl"), use_cpu=True, per_device_train_batch_size=prompts * G,
               num_generations=G, max_completion_length=tokens, beta=0.0, epsilon=0.2, epsilon_high=0.3,
               temperature=kw.pop("temperature", 1.0), top_k=0, learning_rate=1e-5, max_steps=steps, logging_steps=1,
               save_strategy="no", report_to=[], shuffle_dataset=False, seed=0, bf16=False, **kw)


def vold_trainer(tmp_path, items, **kw):
    torch.manual_seed(0)
    cfg = config(VOLDConfig, tmp_path, len(items), **kw)
    tr = VOLDGRPOTrainer(model=student(), reward_funcs=trl_reward("toy"), args=cfg, train_dataset=dataset(items),
                         processing_class=load_tokenizer("toy-student"), teacher_model="toy-teacher")
    tr.model.train()
    tr.current_gradient_accumulation_steps = 1  # set by train(); the tests call compute_loss directly
    return tr


def rollouts(tr, items):
    rows = [dict(tr.train_dataset[i]) for i in range(len(items)) for _ in range(G)]
    return tr._generate_and_score_completions(rows)


def grads(model) -> dict[str, torch.Tensor]:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def reference_vold_loss(tr, items, inputs, kd: str):
    """vold's own pipeline on the same rollouts: LogprobModel, rollout.teacher_scores on the
    teacher's own prompt, scoring.reward, losses.kd_k2 / exact KL and losses.vold_loss."""
    tok, ttok = load_tokenizer("toy-student"), load_tokenizer("toy-teacher")
    teacher = load_model("toy-teacher", "teacher").eval().requires_grad_(False)
    V = len(tok)
    comp, mask = inputs["completion_ids"], inputs["completion_mask"].float()
    keep = mask.bool() & (comp != tok.eos_token_id)
    rewards = torch.tensor([vold_reward(tok.decode(c[k], skip_special_tokens=False), items[i // G])
                            for i, (c, k) in enumerate(zip(comp, keep))])
    t_prompts = [teacher_prompt(ttok, items[i // G].question) for i in range(len(comp))]
    sc = teacher_scores(teacher, t_prompts, Rollouts(comp, mask, [], mask[:, 0] > 0), ttok.pad_token_id, V, 1024,
                        keep_hidden=kd == "full")
    ids = torch.cat([inputs["prompt_ids"], comp], 1)
    attn = torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1)
    policy = LogprobModel(tr.model, V)
    t_hidden, t_head = (sc["hidden"], teacher.get_output_embeddings()) if kd == "full" else (None, None)
    logp, _, kl_full = policy(ids, attn, comp, t_hidden, t_head, temperature=tr.args.temperature)
    kl = kl_full * mask if kd == "full" else losses.kd_k2(logp, sc["logp"], mask)[0]
    loss, stats = losses.vold_loss(logp, logp.detach(), inputs["advantages"], mask, kl, rewards, BETA,
                                   "reward", clip_low=0.2, clip_high=0.3, agg="token")
    return loss, stats, rewards


class KeepLogs(TrainerCallback):
    def __init__(self):
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kw):
        self.logs.append(dict(logs or {}))


def test_trl_grpo_trainer_step_with_vold_reward(tmp_path):
    """A real GRPOTrainer (no vold code but the reward) trains a step on the toy student."""
    items = toy_items(2)
    keep = KeepLogs()
    tr = GRPOTrainer(model=student(), reward_funcs=trl_reward("toy"), args=config(GRPOConfig, tmp_path, 2),
                     train_dataset=dataset(items), processing_class=load_tokenizer("toy-student"), callbacks=[keep])
    tr.train()
    rec = next(r for r in keep.logs if "rewards/vold_toy/mean" in r)
    # TRL's completions table holds each completion and the reward our function gave it
    completions = list(tr._logs["completion"])[-2 * G:]
    got = list(tr._logs["rewards"]["vold_toy"])[-2 * G:]
    golds = [it for it in items for _ in range(G)]
    assert got == [vold_reward(c[-1]["content"], it) for c, it in zip(completions, golds)]
    assert sum(got) / len(got) == pytest.approx(rec["rewards/vold_toy/mean"])


@pytest.mark.parametrize("kd,temperature", [("k2", 1.0), ("full", 1.0), ("full", 0.7)])
def test_vold_loss_and_grad_through_trl_match_vold_loss(tmp_path, kd, temperature):
    """At T != 1 both halves are of logits / T: TRL's GRPO term and vold's distillation term."""
    items = toy_items(4, wrong_gold_every=2)
    tr = vold_trainer(tmp_path, items, vold_beta=BETA, vold_kd=kd, loss_type="dapo", temperature=temperature)
    inputs = rollouts(tr, items)
    # The shipped toy student answers a problem the same way in every rollout, so TRL's group
    # advantages come out 0 and the GRPO half of the comparison would be vacuous: give both
    # paths the same non-zero advantages (advantages are an input of the loss, not part of it).
    inputs["advantages"] = torch.linspace(-1.5, 1.5, len(inputs["advantages"]))
    tr.model.zero_grad()
    loss = tr.compute_loss(tr.model, inputs)
    loss.backward()
    g_trl = grads(tr.model)
    tr.model.zero_grad()
    ref, stats, rewards = reference_vold_loss(tr, items, inputs, kd)
    ref.backward()
    g_ref = grads(tr.model)
    assert torch.equal(inputs["vold_rewards"], rewards)  # TRL's reward column == vold's reward
    assert 0 < rewards.sum() < len(rewards)  # both masked and distilled rollouts are present
    assert inputs["advantages"].abs().sum() > 0  # and the GRPO term is not zero
    assert stats["kd_loss"] > 0
    assert abs(loss.item() - ref.item()) < 1e-5, (loss.item(), ref.item())
    worst = max((g_trl[n] - g_ref[n]).abs().max().item() for n in g_ref)
    assert g_trl.keys() == g_ref.keys() and worst < 1e-5, worst
    metric = "vold/teacher_reverse_kl" if kd == "full" else "vold/teacher_k2"
    assert tr._metrics["train"][metric][-1] == pytest.approx(stats["kd_term"], rel=1e-5)
    print(f"\n[{kd}] loss adapter {loss.item():.8f} vold {ref.item():.8f} |diff| {abs(loss.item() - ref.item()):.2e}; "
          f"max |grad diff| {worst:.2e} over {len(g_ref)} tensors; rewards {rewards.tolist()}; "
          f"adv {[round(a, 3) for a in inputs['advantages'].tolist()]}")


def test_beta_zero_is_plain_trl_grpo(tmp_path):
    items = toy_items(2, wrong_gold_every=2)
    tr = vold_trainer(tmp_path, items, vold_beta=0.0)
    inputs = rollouts(tr, items)
    torch.manual_seed(1)
    ours = tr.compute_loss(tr.model, inputs)
    plain = GRPOTrainer._compute_loss(tr, tr.model, inputs)
    assert torch.equal(ours, plain)
    assert "vold/teacher_k2" in tr._metrics["train"]  # the teacher term is still measured
    # the student's 3 padding logit rows (1021..1023) are never sampled: the teacher cannot score them
    assert set(range(len(load_tokenizer("toy-student")), 1024)) <= set(tr.generation_config.suppress_tokens)
    with pytest.raises(Exception, match="needs teacher_model"):
        VOLDGRPOTrainer(model=tr.model, reward_funcs=trl_reward("toy"), args=config(VOLDConfig, tmp_path, 2),
                        train_dataset=tr.train_dataset, processing_class=load_tokenizer("toy-student"))


def test_teacher_sees_text_only_messages():
    msgs = [{"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is "},
                                         {"type": "text", "text": "2 + 3?"}]}]
    assert text_messages(msgs) == [{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": "What is 2 + 3?"}]
    assert text_messages("2 + 3?") == [{"role": "user", "content": "2 + 3?"}]


def test_short_vold_run_on_toy_world_logs_reward_and_teacher_term(tmp_path):
    items = toy_items(8)
    keep = KeepLogs()
    cfg = config(VOLDConfig, tmp_path, 2, steps=4, vold_beta=BETA)
    torch.manual_seed(0)
    tr = VOLDGRPOTrainer(model=student(), reward_funcs=trl_reward("toy"), args=cfg, train_dataset=dataset(items),
                         processing_class=load_tokenizer("toy-student"), teacher_model="toy-teacher", callbacks=[keep])
    tr.train()
    steps = [r for r in keep.logs if "vold/teacher_k2" in r]
    assert len(steps) == 4
    for r in steps:
        assert 0.0 <= r["reward"] <= 1.0 and math.isfinite(r["vold/teacher_k2"]) and r["vold/teacher_k2"] >= 0
        assert 0.0 <= r["vold/masked_frac"] <= 1.0 and math.isfinite(r["vold/kd_loss"])
    print("\nstep reward teacher_k2 kd_loss masked_frac")
    for i, r in enumerate(steps, 1):
        print(f"{i} {r['reward']:.3f} {r['vold/teacher_k2']:.3f} {r['vold/kd_loss']:.2f} {r['vold/masked_frac']:.3f}")
