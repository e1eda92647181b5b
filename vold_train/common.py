"""Pieces every stage shares: loading models, the optimizer and schedule, checkpoints with
full resume state, metrics logging, and chat prompts for student and teacher."""
from __future__ import annotations

import json
import math
import random
import shutil
from pathlib import Path

import torch

from vold_bench.errors import VoldError
from vold_train.toy import resolve_model as model_path  # toy name -> its folder; else unchanged

# ---------------------------------------------------------------- models and prompts


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model_path(name))
    except (OSError, ValueError) as e:
        raise VoldError(f"cannot load a tokenizer from {name!r}: {str(e).splitlines()[0]}") from None
    tok.padding_side = "left"
    return tok


def load_model(name: str, kind: str, dtype=torch.float32):
    """kind "student": a Qwen-VL model (AutoModelForImageTextToText); "teacher": a causal LM.
    Placed on this rank's device (dist.device), before any sharding wraps it: FSDP2 builds its
    mesh on the device the parameters are on."""
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    from vold_train import dist

    cls = AutoModelForImageTextToText if kind == "student" else AutoModelForCausalLM
    try:
        model = cls.from_pretrained(model_path(name), dtype=dtype)
    except (OSError, ValueError) as e:
        raise VoldError(f"cannot load {kind} model {name!r}: {str(e).splitlines()[0]}") from None
    return model.to(dist.device())


def device_of(model) -> torch.device:
    """The device a model's inputs must be on (its parameters', placed by load_model)."""
    return next(model.parameters()).device


def student_prompt(tok, question: str) -> list[int]:
    # The student's chat format with text-only content parts (RL problems have no image).
    msgs = [{"role": "user", "content": [{"type": "text", "text": question}]}]
    return list(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True,
                                        return_dict=True)["input_ids"])


def teacher_prompt(tok, question: str) -> list[int]:
    # The teacher is text-only: its own chat template, plain-string content, no image parts.
    msgs = [{"role": "user", "content": question}]
    return list(tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=True,
                                        return_dict=True)["input_ids"])


def pad_left(rows: list[list[int]], pad_id: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded ids and attention mask, built on the host and moved to `device` in one copy."""
    n = max(len(r) for r in rows)
    ids = torch.full((len(rows), n), pad_id, dtype=torch.long)
    attn = torch.zeros((len(rows), n), dtype=torch.long)
    for i, r in enumerate(rows):
        if r:
            ids[i, n - len(r):] = torch.tensor(r)
            attn[i, n - len(r):] = 1
    return (ids, attn) if device is None else (ids.to(device), attn.to(device))


# ---------------------------------------------------------------- optimisation


def set_seed(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def make_optimizer(model, lr: float, weight_decay: float, betas=(0.9, 0.999)):
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]       # no weight decay on norms and biases
    no_decay = [p for p in params if p.ndim < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)


def cosine_schedule(opt, warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)


# ---------------------------------------------------------------- checkpoints


def checkpoint_dir(stage_dir: Path, step: int) -> Path:
    return stage_dir / f"ckpt-{step:06d}"


def save_checkpoint(stage_dir: Path, step: int, policy, tok, opt, sched, keep: int = 2) -> Path:
    """<stage>/ckpt-<step>/: the model (a save_pretrained folder) and everything needed to continue.

    Every rank calls it: under FSDP2 / ZeRO-3 the shards are gathered to rank 0, which alone
    writes. Each rank's RNG state is kept, so each resumes its own sampling stream; on a GPU
    that includes the CUDA generator, which samples the rollouts there."""
    from vold_train import dist, sharding

    model_state = sharding.full_model_state(policy)  # on CPU; None: save the module as it is
    fmt, optim = sharding.optimizer_state(policy, opt)
    rng = dist.gather_object((torch.get_rng_state(), random.getstate(), _cuda_rng()))
    ck = checkpoint_dir(stage_dir, step)
    if dist.is_main():
        tmp = stage_dir / f".tmp-ckpt-{step:06d}"
        shutil.rmtree(tmp, ignore_errors=True)
        sharding.base_model(policy).save_pretrained(str(tmp), state_dict=model_state)
        tok.save_pretrained(str(tmp))
        torch.save({"step": step, "optimizer": optim, "optimizer_format": fmt,
                    "scheduler": sched.state_dict(), "rng": rng}, tmp / "trainer_state.pt")
        shutil.rmtree(ck, ignore_errors=True)
        tmp.rename(ck)  # a kill mid-save leaves only the .tmp folder, never a half checkpoint
        for old in sorted(stage_dir.glob("ckpt-*"))[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    dist.barrier()
    sharding.after_checkpoint(policy, ck)
    return ck


def latest_checkpoint(stage_dir: Path) -> Path | None:
    cks = sorted(p for p in stage_dir.glob("ckpt-*") if (p / "trainer_state.pt").exists())
    return cks[-1] if cks else None


def restore_state(ck: Path, policy, opt, sched) -> int:
    """Optimizer, schedule and this rank's RNG from a checkpoint (the weights were loaded from
    its folder); the step to continue from."""
    from vold_train import dist, sharding

    # map_location: a checkpoint written on GPU opens on a CPU-only machine; the optimizer
    # moves its state to each parameter's device itself
    st = torch.load(ck / "trainer_state.pt", weights_only=False, map_location="cpu")
    sharding.load_optimizer_state(policy, opt, st.get("optimizer_format", "torch"), st["optimizer"], ck)
    sched.load_state_dict(st["scheduler"])
    # older checkpoints kept one RNG state; a rank past the saved ones takes rank 0's
    rng = st.get("rng") or [(st["rng_torch"], st["rng_python"])]
    rng_torch, rng_python, *rng_cuda = rng[dist.rank()] if dist.rank() < len(rng) else rng[0]
    torch.set_rng_state(rng_torch)
    random.setstate(rng_python)
    if rng_cuda and rng_cuda[0] is not None and dist.device().type == "cuda":
        torch.cuda.set_rng_state(rng_cuda[0])  # else: a CPU checkpoint, or resumed on CPU
    return int(st["step"])


def _cuda_rng():
    from vold_train import dist

    return torch.cuda.get_rng_state() if dist.device().type == "cuda" else None


def save_final(policy, tok, final: Path, src: str) -> None:
    """<stage>/final/: a plain save_pretrained folder, whatever the sharding (every rank calls
    it; rank 0 writes)."""
    from vold_train import dist, sharding

    model_state = sharding.full_model_state(policy)
    if dist.is_main():
        sharding.base_model(policy).save_pretrained(str(final), state_dict=model_state)
        tok.save_pretrained(str(final))
        copy_processor_files(model_path(src), final)
    dist.barrier()


def copy_processor_files(src: str, dst: Path) -> None:
    """Keep the student's processor/chat template next to its trained weights."""
    for name in ("preprocessor_config.json", "processor_config.json", "video_preprocessor_config.json",
                 "chat_template.jinja", "chat_template.json"):
        p = Path(src) / name
        if p.exists() and not (dst / name).exists():
            shutil.copy(p, dst / name)


# ---------------------------------------------------------------- metrics


class Metrics:
    """Appends one JSON object per step to metrics.jsonl; mirrors to TensorBoard if installed."""

    def __init__(self, run_dir: Path, stage: str, resume_step: int = 0):
        from vold_train import dist

        self.path = run_dir / "metrics.jsonl"
        self.stage = stage
        self.main = dist.is_main()  # under data parallelism only rank 0 writes
        self.tb = None
        if not self.main:
            return
        if self.path.exists():  # drop records past the checkpoint we resume from
            keep = [ln for ln in self.path.read_text().splitlines() if ln.strip()
                    and not (json.loads(ln).get("stage") == stage and json.loads(ln)["step"] > resume_step)]
            self.path.write_text("".join(k + "\n" for k in keep))
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter
            self.tb = SummaryWriter(str(run_dir / "tb"))
        except ImportError:
            pass

    def log(self, step: int, rec: dict) -> None:
        if not self.main:
            return
        rec = {"stage": self.stage, "step": step, **rec}
        with open(self.path, "a") as f:
            f.write(json.dumps(rec) + "\n")
        if self.tb is not None:
            for k, v in rec.items():
                if isinstance(v, (int, float)) and k != "step":
                    self.tb.add_scalar(f"{self.stage}/{k}", v, step)


def progress(total: int, desc: str, start: int = 0):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    p = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                 TimeRemainingColumn(), TextColumn("{task.fields[info]}"), transient=False)
    task = p.add_task(desc, total=total, completed=start, info="")
    return p, task
