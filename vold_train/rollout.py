"""The two engine-shaped steps of RL, each one small function so another engine (vLLM, a
server) can replace it: sampling the student's rollouts and the teacher's scoring of them.

Both work on token ids. A batch is laid out as [left-padded prompt | right-padded completion]
so every row's completion starts at the same column, for the student (its chat prompt) and
the teacher (its own, different, text-only prompt) alike.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from vold_train.common import device_of, pad_left
from vold_train.logprobs import completion_hidden, token_logprobs


@dataclass
class Rollouts:
    completion: torch.Tensor   # (N, Tc) sampled ids, padded with pad_id after the end
    mask: torch.Tensor         # (N, Tc) 1.0 up to and including the end-of-turn token
    texts: list[str]           # decoded completions (special tokens dropped), for the reward
    finished: torch.Tensor     # (N,) bool: an end-of-turn token was produced

    def to(self, device) -> Rollouts:
        return Rollouts(self.completion.to(device), self.mask.to(device), self.texts, self.finished.to(device))


class _SharedVocabOnly:
    """Never sample ids past the shared range: the teacher cannot score them, and Qwen2.5-VL's
    padding rows (151,665..151,935) are untrained."""

    def __init__(self, shared_vocab: int):
        self.v = shared_vocab

    def __call__(self, input_ids, scores):
        scores[:, self.v:] = float("-inf")
        return scores


def completion_mask(completion: torch.Tensor, eos_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    is_eos = completion == eos_id  # (N, Tc)
    before = (is_eos.long().cumsum(-1) - is_eos.long()) == 0  # no eos strictly before t
    return before.float(), is_eos.any(-1)


@torch.no_grad()
def generate_rollouts(model, tok, prompts: list[list[int]], group_size: int, max_new_tokens: int,
                      temperature: float, top_p: float, shared_vocab: int,
                      min_new_tokens: int = 0, synced_gpus: bool = False) -> Rollouts:
    """`group_size` sampled completions per prompt; rollouts of prompt i are rows i*G..i*G+G-1.

    `model` is a Hugging Face model or the trainer's policy (logprobs.LogprobModel); with
    sharded weights `synced_gpus` keeps every rank stepping until all ranks are done."""
    from transformers import LogitsProcessorList

    ids, attn = pad_left(prompts, tok.pad_token_id, device_of(model))
    was_training = model.training
    model.eval()
    out = model.generate(
        input_ids=ids, attention_mask=attn, do_sample=True, temperature=temperature, top_p=top_p,
        top_k=0, max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens or None,
        num_return_sequences=group_size,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
        logits_processor=LogitsProcessorList([_SharedVocabOnly(shared_vocab)]),
        **({"synced_gpus": True} if synced_gpus else {}),
    )
    model.train(was_training)
    completion = out[:, ids.shape[1]:]
    if completion.shape[1] == 0:
        completion = torch.full((out.shape[0], 1), tok.eos_token_id, dtype=torch.long, device=out.device)
    mask, finished = completion_mask(completion, tok.eos_token_id)
    completion = torch.where(mask.bool(), completion, torch.full_like(completion, tok.pad_token_id))
    # Keep <think>/</think> (special in the toy tokenizer): the scorer checks the block closed.
    keep = (mask.bool() & (completion != tok.eos_token_id)).cpu()  # decoded on the host, in one copy
    texts = tok.batch_decode([c[k] for c, k in zip(completion.cpu(), keep)], skip_special_tokens=False)
    return Rollouts(completion=completion, mask=mask, texts=texts, finished=finished)


def joined(prompts: list[list[int]], completion: torch.Tensor, mask: torch.Tensor, pad_id: int):
    """[left-padded prompt | completion] ids and attention mask, one row per rollout, on the
    completion's device."""
    ids, attn = pad_left(prompts, pad_id, completion.device)
    return torch.cat([ids, completion], 1), torch.cat([attn, mask.long()], 1)


@torch.no_grad()
def teacher_scores(teacher, teacher_prompts: list[list[int]], ro: Rollouts, pad_id: int,
                   shared_vocab: int, chunk: int, keep_hidden: bool = False) -> dict:
    """The teacher reads its own text prompt followed by exactly the student's completion ids
    and returns log p_teacher of each completion token (B, Tc); with keep_hidden, also its
    hidden states for the exact full-vocabulary KL."""
    ro = ro.to(device_of(teacher))  # a no-op where teacher and student share the device
    ids, attn = joined(teacher_prompts, ro.completion, ro.mask, pad_id)
    h = completion_hidden(teacher, ids, attn, ro.completion.shape[1])  # (N, Tc, H)
    logp, ent = token_logprobs(h, teacher.get_output_embeddings(), ro.completion, shared_vocab, chunk)
    # entropy: SRPO weighs its distillation tokens by exp(-H_teacher)
    return {"logp": logp, "hidden": h if keep_hidden else None, "entropy": ent}
