"""Who scores the student's rollouts: the teacher an objective's record names (objectives.py).

    teacher = load(kind, cfg, student, tok, ck)     # its weights; teacher.V, the shared vocabulary
    sig = teacher.score(batch, ro, rewards, step)   # Signal: log p_teacher of the student's tokens, ...
    teacher.after_update(student); teacher.save(ckpt_dir)

  "text"   rl.teacher, text-only (VOLD; SRPO with an external teacher): its own chat prompt for
           the problem, then exactly the student's completion ids. HF forward, or with
           rl.engine.teacher=vllm, vLLM's prompt_logprobs (log-probs only, so kd=k2).
  "self"   SRPO's self-teacher (arXiv 2604.02288): an EMA copy of the student, re-prompted with
           a correct sibling rollout as a worked example. The EMA moves after every optimizer
           step and is saved with each checkpoint (part of the resume state).
  "image"  VA-OPD's image-seeing teacher (arXiv 2605.21924; rl.teacher): each group's problem as
           a picture, scored with the full and a degraded picture (vaopd.py); the difference is
           the visual advantage.

All three score the very rollouts the student sampled (text-form problems, no image).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, fields, replace

import torch

from vold_train import losses
from vold_train.common import load_model, load_tokenizer, model_path, student_prompt, teacher_prompt
from vold_train.logprobs import check_completion, check_tokenizers, shared_vocab_size
from vold_train.rollout import teacher_scores

Tensor = torch.Tensor


@dataclass
class Signal:
    """What a teacher says about N rollouts; None where this teacher does not give it."""
    logp: Tensor | None = None       # (N, Tc) log p_teacher of each completion token
    hidden: Tensor | None = None     # (N, Tc, H') its hidden states, for the exact KL (HF text teacher)
    head: torch.nn.Module | None = None  # its LM head, with `hidden`
    entropy: Tensor | None = None    # (N, Tc) its entropy per position (SRPO's token weights)
    va: Tensor | None = None         # (N, Tc) visual advantage (VA-OPD)

    def rows(self, sl: slice) -> Signal:
        """The rollouts `sl` (a micro-batch); the head is shared."""
        return replace(self, **{f.name: getattr(self, f.name)[sl] for f in fields(self)
                                if f.name != "head" and getattr(self, f.name) is not None})


def _student_vocab(student, tok) -> int:
    return min(len(tok), student.get_output_embeddings().weight.shape[0])


class Teacher:
    """What every objective's teacher has besides `score`: hooks after each update, at each
    checkpoint and at the end of the stage; by default they do nothing."""

    def after_update(self, student) -> None:
        pass

    def save(self, ck) -> None:
        pass

    def close(self) -> None:
        pass


class TextTeacher(Teacher):
    def __init__(self, cfg, student, tok, ck=None):
        self.cfg, self.tok = cfg, tok
        self.model = self.engine = self.ttok = None
        self.V = cfg.engine.shared_vocab or _student_vocab(student, tok)
        if not (cfg.beta > 0 or cfg.engine.teacher_metrics):  # no gradient and no metrics asked from it
            return
        self.ttok = load_tokenizer(cfg.teacher)
        if cfg.engine.teacher == "hf":
            # Replicated on every rank, never sharded (sharding.py says why); bf16 halves it.
            dtype = torch.bfloat16 if cfg.engine.bf16 else torch.float32
            self.model = load_model(cfg.teacher, "teacher", dtype).eval().requires_grad_(False)
            self.V = cfg.engine.shared_vocab or shared_vocab_size(student, self.model, tok, self.ttok, cfg.teacher)
        else:
            from vold_train.engines.trainer_engines import check_vocab_rows, teacher_vocab_rows, vllm_options
            from vold_train.engines.vllm_teacher import VLLMTeacher

            # the coverage check shared_vocab_size makes, from the config of a head not in this process
            check_vocab_rows(self.V, len(self.ttok), teacher_vocab_rows(cfg.teacher), cfg.teacher)
            self.engine = VLLMTeacher(cfg.teacher, token_budget=cfg.engine.teacher_token_budget, **vllm_options(cfg))
        check_tokenizers(tok, self.ttok, self.V, cfg.teacher)

    def score(self, batch, ro, rewards, step: int) -> Signal:
        if self.ttok is None:
            return Signal()
        G = self.cfg.group_size
        prompts = [teacher_prompt(self.ttok, it.question) for it in batch]
        prompts = [prompts[i // G] for i in range(len(ro.texts))]
        for row, m in zip(ro.completion[:2].cpu(), ro.mask[:2].cpu()):  # cheap per-step guard
            check_completion(row[m.bool()].tolist(), self.tok, self.ttok, self.V, self.cfg.teacher)
        if self.engine is not None:
            from vold_train.engines.for_trainer import vllm_teacher_scores

            return Signal(logp=vllm_teacher_scores(self.engine, prompts, ro)["logp"].to(ro.mask.device))
        keep = self.cfg.kd == "full" or self.cfg.engine.log_exact_kl
        sc = teacher_scores(self.model, prompts, ro, self.ttok.pad_token_id, self.V, self.cfg.engine.logprob_chunk,
                            keep_hidden=keep)
        return Signal(logp=sc["logp"].to(ro.mask.device), hidden=sc["hidden"],
                      head=self.model.get_output_embeddings(), entropy=sc["entropy"])

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None


def self_teacher_question(question: str, solution: str) -> str:
    # The paper re-prompts the policy with a successful sibling; it then scores the failed
    # rollout's tokens as if it had seen how the problem is solved.
    return (f"{question}\n\nHere is a correct solution to this problem:\n{solution}\n\n"
            f"Solve the problem again.")


def self_teacher_prompts(tok, batch, texts: list[str], rewards: Tensor, group_size: int) -> list[list[int]]:
    """One prompt per rollout: the question plus the first correct sibling, when there is one
    (the rollouts SRPO distils); otherwise the plain question (never distilled)."""
    out, r = [], rewards.tolist()  # host floats: no device sync per comparison
    for i in range(len(texts)):
        g = i // group_size
        ok = [j for j in range(g * group_size, (g + 1) * group_size) if r[j] > 0.5]
        q = batch[g].question if not ok else self_teacher_question(batch[g].question, texts[ok[0]])
        out.append(student_prompt(tok, q))
    return out


@torch.no_grad()
def ema_update(ema, model, rate: float) -> None:
    """ema <- (1 - rate) * ema + rate * model (paper: rate 0.05)."""
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach(), rate)


class SelfTeacher(Teacher):
    def __init__(self, cfg, student, tok, ck=None):
        self.cfg, self.tok = cfg, tok
        self.V = cfg.engine.shared_vocab or _student_vocab(student, tok)
        self.ema = copy.deepcopy(student).eval().requires_grad_(False)
        if ck is not None and (ck / "ema.pt").exists():  # the EMA is part of the resume state
            # map_location: written on either device, copied into the EMA's own
            self.ema.load_state_dict(torch.load(ck / "ema.pt", weights_only=True, map_location="cpu"))

    def score(self, batch, ro, rewards, step: int) -> Signal:
        prompts = self_teacher_prompts(self.tok, batch, ro.texts, rewards, self.cfg.group_size)
        sc = teacher_scores(self.ema, prompts, ro, self.tok.pad_token_id, self.V, self.cfg.engine.logprob_chunk)
        return Signal(logp=sc["logp"], entropy=sc["entropy"])

    def after_update(self, student) -> None:
        ema_update(self.ema, student, self.cfg.family.ema_rate)

    def save(self, ck) -> None:
        torch.save({k: v.cpu() for k, v in self.ema.state_dict().items()}, ck / "ema.pt")


class ImageTeacher(Teacher):
    def __init__(self, cfg, student, tok, ck=None):
        from transformers import AutoProcessor

        from vold_train.data import load_problems

        self.cfg = cfg
        self.V = cfg.engine.shared_vocab or _student_vocab(student, tok)
        self.model = load_model(cfg.teacher, "student").eval().requires_grad_(False)
        self.processor = AutoProcessor.from_pretrained(model_path(cfg.teacher))
        check_tokenizers(tok, load_tokenizer(cfg.teacher), self.V, cfg.teacher)
        # item i is the picture form of rl.train's problem i (rl.family.curation=none keeps the order)
        self.items = load_problems(cfg.data, cfg.split, cfg.steps * cfg.prompts_per_step, cfg.seed, cfg.pool,
                                   form="image")

    def score(self, batch, ro, rewards, step: int) -> Signal:
        from vold_train.vaopd import va_teacher_scores

        P, c = self.cfg.prompts_per_step, self.cfg
        sc = va_teacher_scores(self.model, self.processor, self.items[step * P:(step + 1) * P], ro, c.group_size,
                               self.V, c.engine.logprob_chunk, c.family.va_degrade)
        return Signal(logp=sc["logp"], va=losses.visual_advantage(sc["logp"], sc["logp_degraded"], ro.mask))


KINDS = {"text": TextTeacher, "self": SelfTeacher, "image": ImageTeacher}


def load(kind: str, cfg, student, tok, ck=None):
    """The teacher of kind `kind` (objectives.Objective.teacher), loaded; `ck` is the checkpoint
    the run resumes from."""
    return KINDS[kind](cfg, student, tok, ck)
