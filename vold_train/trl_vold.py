"""VOLD's objective inside TRL's GRPOTrainer (arXiv 2510.23497, eq. 5), for people who already
train with TRL and want its vLLM generation, accelerate / DeepSpeed scaling and logging:

    L = L_GRPO (TRL's, unchanged) + vold_beta * E_i[ (1 - r_i) * sum_t KL_{i,t} ]

on the same rollouts. vold_beta = 0 leaves TRL's loss exactly as it is (plain GRPO).

    from vold_train.trl_vold import VOLDConfig, VOLDGRPOTrainer   # needs `pip install vold[trl]`
    trainer = VOLDGRPOTrainer(model=student, reward_funcs=trl_reward("toy"), args=VOLDConfig(...),
                              train_dataset=ds, processing_class=tok, teacher_model=teacher)

Where each piece comes from, and why:
  * Teacher scoring (rollout.teacher_scores) runs once per generation batch, next to TRL's
    own reference log-probs, not in compute_loss as TRL's DistillationTrainer does: that
    trainer feeds the teacher the student's input ids, but VOLD's text-only teacher reads its
    OWN chat-template prompt (text parts only, no image placeholders) followed by exactly the
    student's completion ids, so its batch is a different one.
  * The student's log-probs for the distillation term come from the hidden states of TRL's own
    policy forward (a hook on the backbone; no second forward), projected with vold's chunked
    head over the shared vocabulary (logprobs.token_logprobs) at TRL's sampling temperature
    (`args.temperature`, which TRL's own log-probs divide by too), exactly as `vold train`
    computes them at rl.sampling.temperature. TRL's GRPO term keeps TRL's log-probs (the
    head's full rows); on the toy pair the two agree to ~1e-6.
  * The term itself is losses.kd_k2 / logprobs.full_reverse_kl and losses.vold_loss(pg=False):
    the same functions `vold train` uses, so the maths cannot drift between the two trainers.
  * Masking reads one reward function (vold_mask_reward, default the first): w_i = 1 - r_i,
    r clamped to [0, 1]. With vold's binary reward (vold_bench.adapters.trl_reward) that is
    VOLD's mask; a shaped reward would give partial weights, so name the correctness reward.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer

from vold_bench.errors import VoldError
from vold_train import losses
from vold_train.logprobs import check_completion, check_tokenizers, full_reverse_kl, shared_vocab_size, token_logprobs
from vold_train.rollout import Rollouts, teacher_scores


@dataclass
class VOLDConfig(GRPOConfig):
    """GRPOConfig plus VOLD's fields (TRL's own `beta` stays its reference-model KL; keep it 0)."""

    vold_beta: float = field(default=1e-3, metadata={
        "help": "Weight of the distillation term, which SUMS the per-token term over a rollout "
                "(eq. 5): scale it ~1 / response length (vold recipes: 0.02 at ~40 toy tokens)."})
    vold_kd: str = field(default="k2", metadata={
        "help": "'k2': 1/2 (logp - teacher_logp)^2 on the sampled token (its gradient is the reverse "
                "KL's); 'full': exact reverse KL over the shared vocabulary (keeps teacher hidden states)."})
    vold_kd_mask: str = field(default="reward", metadata={
        "help": "'reward': distil only rollouts whose reward is 0 (VOLD); 'none': every rollout."})
    vold_mask_reward: str | None = field(default=None, metadata={
        "help": "Name of the reward function that says correct (1) / wrong (0); default: the first."})
    vold_teacher_prompt_column: str = field(default="teacher_prompt", metadata={
        "help": "Optional dataset column with the teacher's own prompt (string or messages); "
                "without it the student's prompt is rewritten as text-only messages."})
    vold_shared_vocab: int | None = field(default=None, metadata={
        "help": "Ids both models score; default: the student tokenizer's size (checked against the teacher)."})
    vold_logprob_chunk: int = field(default=1024, metadata={"help": "Positions per head projection chunk."})

    def __post_init__(self):
        super().__post_init__()
        if self.vold_kd not in ("k2", "full"):
            raise VoldError(f"vold_kd must be 'k2' or 'full', got {self.vold_kd!r}")
        if self.vold_kd_mask not in ("reward", "none"):
            raise VoldError(f"vold_kd_mask must be 'reward' or 'none', got {self.vold_kd_mask!r}")
        if self.vold_beta < 0:
            raise VoldError(f"vold_beta must be >= 0, got {self.vold_beta}")


def text_messages(prompt: Any) -> list[dict]:
    """The teacher's view of a prompt: chat messages with plain-string content, image parts
    dropped (the teacher is text-only; VOLD's RL problems carry no image anyway)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    out = []
    for m in prompt:
        c = m.get("content", "")
        if isinstance(c, list):
            c = "".join(p.get("text", "") for p in c if p.get("type") == "text")
        out.append({"role": m["role"], "content": c})
    return out


class VOLDGRPOTrainer(GRPOTrainer):
    """GRPOTrainer + VOLD's masked on-policy distillation from a text-only teacher (see module doc).

    `teacher_model`: a causal LM (or a path / hub id / toy name) whose tokenizer reads the
    student's ids as the same strings (checked over the shared vocabulary). None means plain
    GRPO and then vold_beta must be 0."""

    def __init__(self, *args, teacher_model=None, teacher_processing_class=None, **kwargs):
        super().__init__(*args, **kwargs)
        cfg = self.args
        if not isinstance(cfg, VOLDConfig):
            raise VoldError("VOLDGRPOTrainer needs args=VOLDConfig(...) (GRPOConfig plus the vold_* fields)")
        self.teacher = self.teacher_tok = None
        if teacher_model is None:
            if cfg.vold_beta > 0:
                raise VoldError("vold_beta > 0 needs teacher_model (or set vold_beta=0 for plain GRPO)")
            return
        # a teacher given by name loads in bf16 under bf16=True, as `vold train` loads it
        dtype = torch.bfloat16 if cfg.bf16 else torch.float32
        self.teacher, self.teacher_tok = _load_teacher(teacher_model, teacher_processing_class, dtype)
        self.teacher.to(self.accelerator.device).eval().requires_grad_(False)  # replicated, never sharded
        student = self.accelerator.unwrap_model(self.model)
        self.vold_V = cfg.vold_shared_vocab or shared_vocab_size(student, self.teacher, self._tokenizer,
                                                                 self.teacher_tok)
        check_tokenizers(self._tokenizer, self.teacher_tok, self.vold_V)
        self._forbid_unscorable_ids(student)
        names = list(self.reward_func_names)
        if cfg.vold_mask_reward is not None and cfg.vold_mask_reward not in names:
            raise VoldError(f"vold_mask_reward {cfg.vold_mask_reward!r} is not a reward function; "
                            f"known: {', '.join(names)}")
        self._vold_r_idx = names.index(cfg.vold_mask_reward) if cfg.vold_mask_reward else 0
        self._vold_rewards_all = None

    def _forbid_unscorable_ids(self, student) -> None:
        """Never sample ids past the shared range (vold's generate does the same): the teacher
        cannot score them, and Qwen2.5-VL's padding rows are untrained. TRL's transformers
        path takes suppress_tokens; with vLLM, _check_ids refuses such a batch instead."""
        rows = student.get_output_embeddings().weight.shape[0]
        if self.use_vllm or rows <= self.vold_V:
            return
        extra = list(range(self.vold_V, rows))
        suppress = list(self.generation_kwargs.get("suppress_tokens") or []) + extra
        self.generation_kwargs["suppress_tokens"] = suppress
        self.generation_config.suppress_tokens = suppress

    # ------------------------------------------------------------ once per generation batch

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        # TRL gathers the rewards of every process; keep them to slice this process's rows
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._vold_rewards_all = rewards_per_func
        return rewards_per_func

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        if self.teacher is None:
            return out
        n, rank = len(inputs), self.accelerator.process_index
        r = self._vold_rewards_all[rank * n:(rank + 1) * n, self._vold_r_idx]  # (B,)
        out["vold_rewards"] = torch.nan_to_num(r, nan=0.0).clamp(0.0, 1.0)
        completion, mask = out["completion_ids"], out["completion_mask"].float()  # (B, T)
        self._check_ids(completion, mask)
        ro = Rollouts(completion=completion, mask=mask, texts=[], finished=mask.new_ones(n, dtype=torch.bool))
        sc = teacher_scores(self.teacher, [self._teacher_prompt(x) for x in inputs], ro,
                            self.teacher_tok.pad_token_id, self.vold_V, self.args.vold_logprob_chunk,
                            keep_hidden=self.args.vold_kd == "full")
        out["teacher_logps"] = sc["logp"].to(completion.device)  # (B, T)
        if sc["hidden"] is not None:
            out["teacher_hidden"] = sc["hidden"]  # (B, T, H_teacher)
        return out

    def _teacher_prompt(self, row: dict) -> list[int]:
        col = self.args.vold_teacher_prompt_column
        prompt = row.get(col) if row.get(col) else row["prompt"]
        ids = self.teacher_tok.apply_chat_template(text_messages(prompt), add_generation_prompt=True,
                                                   tokenize=True, return_dict=True)["input_ids"]
        return list(ids)

    def _check_ids(self, completion: torch.Tensor, mask: torch.Tensor) -> None:
        """Every sampled id must be one the teacher can score (TRL may sample the student's
        padding rows past its tokenizer); one row is also decoded by both tokenizers."""
        bad = completion[(mask > 0) & (completion >= self.vold_V)]
        if bad.numel():
            raise VoldError(f"the student sampled id {int(bad[0])} outside the shared vocabulary "
                            f"[0, {self.vold_V}); forbid those ids in generation (with vLLM: "
                            f"generation_kwargs={{'allowed_token_ids': list(range({self.vold_V}))}})")
        row, m = completion[0].cpu(), mask[0].cpu()
        check_completion(row[m.bool()].tolist(), self._tokenizer, self.teacher_tok, self.vold_V)

    # ------------------------------------------------------------ per micro-batch

    def _compute_loss(self, model, inputs):
        if self.teacher is None or "teacher_logps" not in inputs:
            return super()._compute_loss(model, inputs)
        with _capture_hidden(self.accelerator.unwrap_model(model)) as hidden:
            loss = super()._compute_loss(model, inputs)  # TRL's GRPO term, its metrics, its scaling
        kd, stats = self._vold_term(model, inputs, torch.cat(hidden, 0))
        mode = "train" if self.model.training else "eval"
        if self.args.vold_beta != 0.0:
            # vold_loss averages over this micro-batch's rollouts; TRL splits a generation batch
            # into equal micro-batches, so dividing by their number gives the batch mean
            loss = loss + kd / (self.current_gradient_accumulation_steps if mode == "train" else 1.0)
        for k, v in stats.items():
            t = torch.tensor(v, device=self.accelerator.device)
            self._metrics[mode][k].append(self.accelerator.gather(t).mean().item())
        return loss

    def _vold_term(self, model, inputs, hidden: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """beta * E_i[w_i sum_t KL_it] for this micro-batch, and its metrics."""
        completion = inputs["completion_ids"]  # (B, T)
        mask = inputs["completion_mask"].float()  # (B, T)
        if "tool_mask" in inputs:
            mask = mask * inputs["tool_mask"]
        T, L = completion.shape[1], hidden.shape[1]
        h = hidden[:, L - T - 1:L - 1]  # (B, T, H): position t-1 predicts completion token t
        head = self.accelerator.unwrap_model(model).get_output_embeddings()
        V, chunk, temp = self.vold_V, self.args.vold_logprob_chunk, self.args.temperature
        logp, _ = token_logprobs(h, head, completion, V, chunk, temp)  # (B, T)
        if self.args.vold_kd == "full":
            kl = full_reverse_kl(h, head, inputs["teacher_hidden"], self.teacher.get_output_embeddings(),
                                 V, chunk, temp) * mask  # (B, T)
            name = "vold/teacher_reverse_kl"  # exact KL(student || teacher) per token
        else:
            kl, _ = losses.kd_k2(logp, inputs["teacher_logps"], mask)  # (B, T)
            name = "vold/teacher_k2"  # 1/2 (logp - teacher_logp)^2 per token: a KL surrogate, not a KL
        kd, st = losses.vold_loss(logp, logp.detach(), inputs["advantages"], mask, kl, inputs["vold_rewards"],
                                  self.args.vold_beta, self.args.vold_kd_mask, pg=False)
        return kd, {name: st["kd_term"], "vold/kd_loss": st["kd_loss"], "vold/masked_frac": st["masked_frac"]}


@contextlib.contextmanager
def _capture_hidden(model):
    """Collect the backbone's last hidden states (with their graph) during TRL's policy forward.

    TRL's fused LM head runs `model.base_model` and then the head in tiles, so the hidden
    states exist but are never returned; reading them here costs no second forward."""
    backbone = model.get_base_model().base_model if hasattr(model, "get_base_model") else model.base_model
    seen: list[torch.Tensor] = []
    handle = backbone.register_forward_hook(
        lambda mod, args, out: seen.append(out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]))
    try:
        yield seen
    finally:
        handle.remove()


def _load_teacher(teacher, tok, dtype):
    from transformers import AutoModelForCausalLM

    from vold_train.common import load_tokenizer, model_path

    if isinstance(teacher, str):
        name = teacher
        teacher = AutoModelForCausalLM.from_pretrained(model_path(name), dtype=dtype)
        tok = tok or load_tokenizer(name)
    if tok is None:
        tok = load_tokenizer(teacher.config._name_or_path)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return teacher, tok


__all__ = ["VOLDConfig", "VOLDGRPOTrainer", "text_messages"]
