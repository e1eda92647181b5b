"""Token log-probabilities without materialising (batch, time, vocab) float32 logits.

At vocab 151,936 one 8k-token rollout's float32 logits take 5 GB; the student's and the
teacher's together, plus log_softmax's copy, would dwarf both models. So the language-model
head is applied to chunks of positions of the final hidden states: only (chunk, vocab) logits
ever exist, and under autograd each chunk is recomputed in backward (activation
checkpointing) instead of being kept.

Both models are compared only over ids [0, shared_vocab): Qwen2.5-VL has 151,936 logit rows
for 151,665 tokens and Qwen3 151,669 tokens; the first 151,665 ids are the same strings.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from vold_bench.errors import VoldError
from vold_train.losses import kd_full_reverse_kl

Tensor = torch.Tensor


def _is_multimodal(model) -> bool:
    return getattr(model.config, "vision_config", None) is not None


def final_hidden(model, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
    """Last-layer hidden states (B, L, H) of a causal LM or Qwen-VL model, without its head."""
    kwargs = {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
    if not _is_multimodal(model):
        # Left-padded rows: positions count real tokens only, as generate() numbers them.
        # (Qwen-VL derives its 3-D mRoPE positions from the attention mask itself.)
        kwargs["position_ids"] = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
    return model.model(**kwargs).last_hidden_state


def _chunk_logp(h: Tensor, weight: Tensor, bias: Tensor | None, targets: Tensor, vocab: int,
                temperature: float = 1.0):
    logits = F.linear(h, weight[:vocab], None if bias is None else bias[:vocab]).float()  # (N, V)
    if temperature != 1.0:
        logits = logits / temperature
    lse = torch.logsumexp(logits, dim=-1)  # (N,)
    logp = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - lse  # (N,)
    with torch.no_grad():
        p = torch.softmax(logits.detach(), dim=-1)
        entropy = lse.detach() - (p * logits.detach()).sum(-1)  # (N,)
    return logp, entropy


def token_logprobs(hidden: Tensor, head: torch.nn.Linear, targets: Tensor, shared_vocab: int,
                   chunk: int = 1024, temperature: float = 1.0) -> tuple[Tensor, Tensor]:
    """log p(targets) and the entropy of each position's distribution, both (B, T).

    `hidden` (B, T, H) is aligned with `targets` (B, T): hidden[:, t] predicts targets[:, t].
    Only ids below `shared_vocab` form the distribution (the rows past it are never sampled).
    `temperature` divides the logits first: the distribution a sampler at that temperature
    draws from (top-p aside).
    """
    B, T, H = hidden.shape
    h, y = hidden.reshape(B * T, H), targets.reshape(B * T)
    y = y.clamp(max=shared_vocab - 1)  # padding ids may sit past the shared range
    grad = torch.is_grad_enabled() and (hidden.requires_grad or head.weight.requires_grad)
    logps, ents = [], []
    for s in range(0, B * T, chunk):
        args = (h[s:s + chunk], head.weight, head.bias, y[s:s + chunk], shared_vocab, temperature)
        if grad:
            lp, ent = checkpoint(_chunk_logp, *args, use_reentrant=False)
        else:
            lp, ent = _chunk_logp(*args)
        logps.append(lp)
        ents.append(ent)
    return torch.cat(logps).view(B, T), torch.cat(ents).view(B, T)


def _chunk_kl(h: Tensor, th: Tensor, weight: Tensor, tweight: Tensor, vocab: int,
              temperature: float = 1.0) -> Tensor:
    logits = F.linear(h, weight[:vocab])
    if temperature != 1.0:
        logits = logits.float() / temperature
    return kd_full_reverse_kl(logits, F.linear(th, tweight[:vocab]), vocab)  # (N,)


def full_reverse_kl(hidden: Tensor, head: torch.nn.Linear, teacher_hidden: Tensor,
                    teacher_head: torch.nn.Linear, shared_vocab: int, chunk: int = 512,
                    temperature: float = 1.0) -> Tensor:
    """Exact KL(student || teacher) per position (B, T), chunked like `token_logprobs`:
    losses.kd_full_reverse_kl on each chunk's logits over the first `shared_vocab` rows of
    both heads (heads without bias: Qwen's). `temperature` divides the student's logits only:
    the student is the policy sampled at that temperature, the teacher stays as it is."""
    B, T, H = hidden.shape
    h, th = hidden.reshape(B * T, H), teacher_hidden.detach().reshape(B * T, -1)
    tw = teacher_head.weight.detach()
    out = []
    for s in range(0, B * T, chunk):
        args = (h[s:s + chunk], th[s:s + chunk], head.weight, tw, shared_vocab, temperature)
        out.append(checkpoint(_chunk_kl, *args, use_reentrant=False) if torch.is_grad_enabled()
                   else _chunk_kl(*args))
    return torch.cat(out).view(B, T)


def completion_hidden(model, input_ids: Tensor, attention_mask: Tensor, n_completion: int) -> Tensor:
    """Hidden states (B, Tc, H) that predict the last `n_completion` columns of `input_ids`.

    Rows are [left-padded prompt | right-padded completion], so every row's completion starts
    at the same column and position t-1 predicts token t."""
    h = final_hidden(model, input_ids, attention_mask)  # (B, L, H)
    L = input_ids.shape[1]
    return h[:, L - n_completion - 1:L - 1]


class LogprobModel(torch.nn.Module):
    """The student as one module whose forward ends in per-token log-probs, never in logits.

    Why a module: FSDP2 and ZeRO-3 gather a module's sharded weights in hooks around its
    forward, so the decoder, the chunked head and (kd=full) the exact KL must all run inside
    one forward call; calling `model.model(...)` and the head from outside would skip the
    root's hooks and read sharded embedding / head weights. Every student forward of the
    trainer (sft.py, rl.py) goes through here; the maths is `completion_hidden` +
    `token_logprobs` (+ `full_reverse_kl`) unchanged, so (B, T, V) logits never exist.
    `generate` is here too, so that FSDP2 can register it as a forward (sharding.py)."""

    def __init__(self, model, shared_vocab: int, chunk: int = 1024, autocast_dtype=None):
        super().__init__()
        self.model = model
        self.shared_vocab, self.chunk = shared_vocab, chunk
        self.autocast_dtype = autocast_dtype  # bf16 without FSDP2 (whose policy casts instead)

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        device = next(self.model.parameters()).device.type
        return torch.autocast(device_type=device, dtype=self.autocast_dtype)

    def forward(self, input_ids: Tensor, attention_mask: Tensor, targets: Tensor,
                teacher_hidden: Tensor | None = None, teacher_head=None, temperature: float = 1.0):
        """log p(targets) and entropy, both (B, Tc), where `targets` are the last Tc columns of
        `input_ids`; with the teacher's hidden states (B, Tc, H') and head, also the exact
        KL(student || teacher) per position (else None). All three are of the student's logits
        divided by `temperature` (RL passes its sampling temperature; SFT leaves it at 1)."""
        with self._autocast():
            h = completion_hidden(self.model, input_ids, attention_mask, targets.shape[1])  # (B, Tc, H)
            head = self.model.get_output_embeddings()
            logp, ent = token_logprobs(h, head, targets, self.shared_vocab, self.chunk, temperature)  # (B, Tc)
            kl = None
            if teacher_hidden is not None:
                kl = full_reverse_kl(h, head, teacher_hidden, teacher_head, self.shared_vocab, self.chunk,
                                     temperature)
        # copies, not views of the chunk concatenation: FSDP2 hooks backward onto a module's
        # outputs, and an in-place op on a view would bypass that hook
        return logp.clone(), ent.clone(), None if kl is None else kl.clone()

    def generate(self, *args, **kwargs):
        with self._autocast():
            return self.model.generate(*args, **kwargs)


def shared_vocab_size(student, teacher, student_tok, teacher_tok, teacher_name: str = "teacher") -> int:
    """The id range both models score: every token of the student's tokenizer.

    The teacher must cover all of them (tokenizer and head); a teacher with a smaller
    vocabulary could not score some tokens the student emits, so it is refused here."""
    n = min(len(student_tok), student.get_output_embeddings().weight.shape[0])
    t_rows = teacher.get_output_embeddings().weight.shape[0]
    if len(teacher_tok) < n or t_rows < n:
        raise VoldError(f"{teacher_name}: its vocabulary ({len(teacher_tok)} tokens, {t_rows} logit "
                        f"rows) does not cover the student's {n} tokens; set rl.engine.shared_vocab to "
                        f"compare a smaller range on purpose")
    return n


def check_tokenizers(student_tok, teacher_tok, shared_vocab: int, teacher_name: str = "teacher") -> None:
    """Refuse a teacher that would read the student's token ids as different strings.

    On-policy distillation feeds the student's sampled ids to the teacher unchanged; if one id
    means different text to the two tokenizers the teacher scores nonsense without any error."""
    if len(teacher_tok) < shared_vocab:
        raise VoldError(f"{teacher_name}: its tokenizer has {len(teacher_tok)} tokens, fewer than "
                        f"the {shared_vocab} shared ids the student may emit")
    s = student_tok.convert_ids_to_tokens(list(range(shared_vocab)))
    t = teacher_tok.convert_ids_to_tokens(list(range(shared_vocab)))
    bad = [i for i, (a, b) in enumerate(zip(s, t)) if a != b]
    if bad:
        i = bad[0]
        raise VoldError(f"{teacher_name}: tokenizer disagrees with the student's on {len(bad)} of "
                        f"{shared_vocab} shared ids (first: id {i} is {s[i]!r} for the student, "
                        f"{t[i]!r} for the teacher); it cannot score the student's completions")


def check_completion(ids: list[int], student_tok, teacher_tok, shared_vocab: int,
                     teacher_name: str = "teacher") -> None:
    """Per-rollout guard: every completion id is in the shared range and decodes identically."""
    out = [i for i in ids if i >= shared_vocab]
    if out:
        raise VoldError(f"{teacher_name}: completion holds id {out[0]} outside the shared "
                        f"vocabulary [0, {shared_vocab})")
    a = student_tok.decode(ids, skip_special_tokens=False)
    b = teacher_tok.decode(ids, skip_special_tokens=False)
    if a != b:
        raise VoldError(f"{teacher_name}: tokenizer decodes the student's completion differently "
                        f"({a[:40]!r} vs {b[:40]!r}); refusing to distil")
