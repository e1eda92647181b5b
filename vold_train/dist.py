"""Process-group plumbing for the trainer under `accelerate launch` (or torchrun).

One process per device; each rank takes its share of each step's prompts (RL) or examples
(SFT). GRPO groups never straddle ranks: a prompt's G rollouts are sampled, rewarded and
normalised on the rank that owns the prompt. Only rank 0 writes files (metrics, checkpoints,
final model, run.json). How the weights are spread (replicated, FSDP2, ZeRO-3) is
vold_train/sharding.py's business; the replicated "ddp" case averages gradients here.

Single process (no WORLD_SIZE > 1 in the environment): nothing here imports accelerate or
touches torch.distributed, and every helper is the identity, so a plain `vold train` runs
exactly the code it ran before.

Device: `device()` is the one place that says where this rank computes; models are moved
there after loading (common.load_model) and every tensor the loops build follows them.
  VOLD_DEVICE unset or "auto"  cuda:<LOCAL_RANK> when CUDA is available (and
                               torch.cuda.set_device to it), else cpu; cpu as well when
                               accelerate's use_cpu is on (ACCELERATE_USE_CPU=1)
  VOLD_DEVICE=cpu              cpu even on a GPU machine (the process group is then gloo)
  VOLD_DEVICE=cuda | cuda:<i>  that GPU; plain "cuda" means cuda:<LOCAL_RANK>
Checkpoints do not depend on it: weights and optimizer state are written from CPU copies and
read back to CPU first, so a GPU run resumes on CPU and the other way round.

Why an explicit gradient all-reduce instead of a DDP wrapper for the replicated case: the
trainer accumulates micro-batches and steps once, and one flattened all-reduce right before
the step is what DDP's buckets would do, without no_sync() bookkeeping around the micro-batches.
"""
from __future__ import annotations

import atexit
import os

import torch

from vold_bench.errors import VoldError

_state = None


def _world_env() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def init():
    """Join the process group the launcher describes (WORLD_SIZE, RANK, MASTER_ADDR from
    torchrun / accelerate launch) once: nccl on GPU, gloo on CPU. False if single-process."""
    global _state
    if _state is None:
        _state = _world_env() > 1
        if _state and not torch.distributed.is_initialized():
            # Not accelerate's PartialState: with ACCELERATE_USE_CPU=1 under the torchrun
            # launcher it reports DistributedType.NO (measured, accelerate 1.15), i.e. two
            # unconnected single processes racing on the same files.
            cuda = device().type == "cuda"  # sets this rank's current GPU first
            torch.distributed.init_process_group("nccl" if cuda else "gloo")
            atexit.register(_leave)
    return _state


def _leave() -> None:
    """Leave the process group before interpreter teardown: a group left to the finalisers
    can take its rank down at exit with "terminate called without an active exception"
    (seen once on CPU/gloo, after both stages of a 2-process run had finished)."""
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def device(env=None) -> torch.device:
    """Where this rank's models and tensors live (module docstring: VOLD_DEVICE)."""
    env = os.environ if env is None else env
    want = str(env.get("VOLD_DEVICE", "")).strip().lower()
    if want in ("", "auto"):
        cpu_asked = str(env.get("ACCELERATE_USE_CPU", "")).lower() in ("1", "true", "yes")
        want = "cuda" if torch.cuda.is_available() and not cpu_asked else "cpu"
    if want == "cpu":
        return torch.device("cpu")
    if want != "cuda" and not want.startswith("cuda:"):
        raise VoldError(f"VOLD_DEVICE={want!r}: expected auto, cpu, cuda or cuda:<index>")
    if not torch.cuda.is_available():
        raise VoldError(f"VOLD_DEVICE={want!r} but CUDA is not available here (set VOLD_DEVICE=cpu)")
    d = torch.device(want)
    if d.index is None:  # one process per GPU: the launcher numbers them LOCAL_RANK
        d = torch.device("cuda", int(env.get("LOCAL_RANK", "0")))
    n = torch.cuda.device_count()
    if d.index >= n:
        raise VoldError(f"device {d} asked for, but only {n} CUDA device(s) are visible "
                        f"(more processes than GPUs?)")
    torch.cuda.set_device(d)  # collectives and bare .cuda() calls use the current device
    return d


def world() -> int:
    return torch.distributed.get_world_size() if init() else 1


def launched_world() -> int:
    """The number of processes the launcher started (WORLD_SIZE), read without joining the
    process group: config checks run before anything else and must not start it."""
    return _world_env()


def rank() -> int:
    return torch.distributed.get_rank() if init() else 0


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if world() > 1:
        d = device()  # nccl: name the GPU, or it guesses one and warns
        torch.distributed.barrier(device_ids=[d.index] if d.type == "cuda" else None)


def shard(items: list) -> list:
    """This rank's share: items rank, rank + world, ... (whole prompts, so whole GRPO groups)."""
    return items[rank()::world()] if world() > 1 else items


def average_gradients(model) -> None:
    """Mean of every trainable gradient over ranks, in one flattened all-reduce."""
    if world() == 1:
        return
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:  # a parameter unused on this rank still takes part in the sum
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    torch.distributed.all_reduce(flat)
    flat /= world()
    off = 0
    for p in params:
        n = p.numel()
        p.grad.copy_(flat[off:off + n].view_as(p.grad))
        off += n


def gather_object(obj) -> list:
    """[obj of rank 0, obj of rank 1, ...] on every rank ([obj] in one process)."""
    if world() == 1:
        return [obj]
    out = [None] * world()
    torch.distributed.all_gather_object(out, obj)
    return out


def mean_metrics(rec: dict) -> dict:
    """Every numeric metric averaged over ranks (rank-local figures such as rewards of its groups)."""
    if world() == 1:
        return rec
    keys = [k for k, v in rec.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    t = torch.tensor([float(rec[k]) for k in keys], dtype=torch.float64, device=device())  # nccl: GPU only
    torch.distributed.all_reduce(t)
    out = dict(rec)
    out.update({k: float(v) / world() for k, v in zip(keys, t.tolist())})
    out["world_size"] = world()
    return out
