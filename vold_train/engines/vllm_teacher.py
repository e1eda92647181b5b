"""Teacher scoring on vLLM: log p_teacher of each token of the student's completion.

    teacher = VLLMTeacher("Qwen/Qwen3-8B", token_budget=32768)
    teacher_logp = teacher.score(teacher_prompt_ids, completion_ids)   # list of (T_i,) lists

The teacher reads ITS OWN chat-template text prompt for the problem followed by exactly the
student's completion token ids (the tokenizers agree on ids below 151,665; the trainer's
tokenizer-agreement check guards that). vLLM's `prompt_logprobs` then gives, for every
position, the teacher's log-prob of the token actually there: one prefill, no sampling
(max_tokens=1, the one sampled token is discarded).

Batched by token budget: each vLLM call holds at most `token_budget` prompt tokens, so a batch
of 30k-token traces is split instead of materialising logits for all of them at once (vLLM
computes prompt log-probs over full logit rows per scheduled chunk). A single sequence longer
than the budget goes alone.

Prefix caching is off by default: prompt log-probs can only be computed for positions the
engine actually runs, and a cached prefix would skip them.
"""
from __future__ import annotations

from typing import Any

from vold_bench.backends.vllm import import_vllm, shutdown_llm
from vold_bench.errors import VoldError
from vold_train.toy import resolve_model


def token_budget_batches(lengths: list[int], token_budget: int) -> list[list[int]]:
    """Consecutive index groups whose summed lengths stay within token_budget."""
    batches, cur, used = [], [], 0
    for i, n in enumerate(lengths):
        if cur and used + n > token_budget:
            batches.append(cur)
            cur, used = [], 0
        cur.append(i)
        used += n
    if cur:
        batches.append(cur)
    return batches


class VLLMTeacher:
    def __init__(self, model: Any, token_budget: int = 32768, seed: int = 0, dtype: str = "auto",
                 tensor_parallel_size: int = 1, max_model_len: int | None = None,
                 gpu_memory_utilization: float = 0.4, enforce_eager: bool = False, **llm_opts):
        """model: a hub id / path, or an existing vllm.LLM to share (e.g. the eval backend's)."""
        self.token_budget = token_budget
        self.owns_engine = isinstance(model, str)  # a shared engine is its owner's to stop
        if isinstance(model, str):
            vllm = import_vllm()
            llm_opts.setdefault("enable_prefix_caching", False)
            model = vllm.LLM(model=resolve_model(model), seed=seed, dtype=dtype,
                             tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                             gpu_memory_utilization=gpu_memory_utilization,
                             enforce_eager=enforce_eager, **llm_opts)
        self.llm = model

    def score(self, prompt_ids: list[list[int]], completion_ids: list[list[int]]) -> list[list[float]]:
        from vllm import SamplingParams

        if len(prompt_ids) != len(completion_ids):
            raise VoldError(f"teacher scoring: {len(prompt_ids)} prompts but {len(completion_ids)} completions")
        seqs = [list(p) + list(c) for p, c in zip(prompt_ids, completion_ids)]
        sp = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=0, detokenize=False)
        out: list[list[float] | None] = [None] * len(seqs)
        for batch in token_budget_batches([len(s) for s in seqs], self.token_budget):
            res = self.llm.generate([{"prompt_token_ids": seqs[i]} for i in batch], sp, use_tqdm=False)
            for i, r in zip(batch, res):
                start = len(prompt_ids[i])
                # prompt_logprobs[t] is log p(seq[t] | seq[:t]); entry 0 is None (no context).
                out[i] = [r.prompt_logprobs[t][seqs[i][t]].logprob for t in range(start, len(seqs[i]))]
        return out  # type: ignore[return-value]

    def close(self) -> None:
        if self.owns_engine:
            shutdown_llm(self.llm)
