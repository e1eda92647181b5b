"""Drop-in vLLM versions of the trainer's two engine-shaped steps (vold_train/rollout.py).

    ro, logp = vllm_generate_rollouts(engine, tok, prompts, G, max_new_tokens, temperature, top_p, shared_vocab)
    t = vllm_teacher_scores(teacher_engine, teacher_prompts, ro)      # {"logp": (N, Tc), "hidden": None}

Same inputs and the same `Rollouts` layout as `generate_rollouts` / `teacher_scores` (rollouts
of prompt i are rows i*G..i*G+G-1, completions right-padded with pad_id, mask 1 up to and
including the end-of-turn token), so the trainer switches engines with one `if`
(trainer_engines.py for rollouts, teachers.TextTeacher for scoring). `logp` is vLLM's
sampling-time log-prob of each token (0 on padding): usable as old_logp. Rollouts come back on
the CPU (rl.rl_step moves them to the trainer's device); teacher log-probs follow the rollouts.
The exact full-vocabulary KL (kd="full") needs teacher hidden states, which vLLM does not
return: use the HF teacher for it.
"""
from __future__ import annotations

import torch

from vold_train.rollout import Rollouts


def vllm_generate_rollouts(engine, tok, prompts: list[list[int]], group_size: int, max_new_tokens: int,
                           temperature: float, top_p: float, shared_vocab: int,
                           **sampling_opts) -> tuple[Rollouts, torch.Tensor]:
    opts = dict(sampling_opts)
    if shared_vocab and shared_vocab < len(tok):
        # as the HF path's _SharedVocabOnly: never sample ids the teacher cannot score
        opts["allowed_token_ids"] = list(range(shared_vocab))
    groups = engine.generate([{"prompt_token_ids": p} for p in prompts], group_size, max_new_tokens,
                             temperature=temperature, top_p=top_p, top_k=-1,
                             stop_token_ids=[tok.eos_token_id], **opts)
    flat = [r for g in groups for r in g]
    width = max(1, max(len(r.completion_ids) for r in flat))
    completion = torch.full((len(flat), width), tok.pad_token_id, dtype=torch.long)  # (N, Tc)
    mask = torch.zeros(len(flat), width)
    logp = torch.zeros(len(flat), width)
    finished = torch.zeros(len(flat), dtype=torch.bool)
    texts = []
    for i, r in enumerate(flat):
        ids = r.completion_ids
        if ids:
            completion[i, :len(ids)] = torch.tensor(ids)
            mask[i, :len(ids)] = 1.0
            logp[i, :len(ids)] = torch.tensor(r.logprobs)
        finished[i] = bool(ids) and ids[-1] == tok.eos_token_id
        body = ids[:-1] if finished[i] else ids
        texts.append(tok.decode(body, skip_special_tokens=False))  # keeps <think> tags for the scorer
    return Rollouts(completion=completion, mask=mask, texts=texts, finished=finished), logp


def vllm_teacher_scores(teacher_engine, teacher_prompts: list[list[int]], ro: Rollouts) -> dict:
    # built on the host (vLLM takes and returns lists), moved to the rollouts' device at the end
    lengths = ro.mask.sum(-1).long().tolist()
    completion = ro.completion.cpu()
    comps = [completion[i, :n].tolist() for i, n in enumerate(lengths)]
    scored = teacher_engine.score(teacher_prompts, comps)
    logp = torch.zeros(ro.mask.shape, dtype=ro.mask.dtype)  # (N, Tc)
    for i, lp in enumerate(scored):
        if lp:
            logp[i, :len(lp)] = torch.tensor(lp)
    return {"logp": logp.to(ro.mask.device), "hidden": None}
