"""Process-group plumbing for the trainer under `accelerate launch` (or torchrun).

One process per device; each rank takes its share of each step's prompts (RL) or examples
(SFT). GRPO groups never straddle ranks: a prompt's G rollouts are sampled, rewarded and
normalised on the rank that owns the prompt. Only rank 0 writes files (metrics, checkpoints,
final model, run.json). How the weights are spread (replicated, FSDP2, ZeRO-3) is
vold_train/sharding.py's business; the replicated "ddp" case averages gradients here.

Single process (no WORLD_SIZE > 1 in the environment): nothing here imports accelerate or
touches torch.distributed, and every helper is the identity, so a plain `vold train` runs
exactly the code it ran before.

Why an explicit gradient all-reduce instead of a DDP wrapper for the replicated case: the
trainer accumulates micro-batches and steps once, and one flattened all-reduce right before
the step is what DDP's buckets would do, without no_sync() bookkeeping around the micro-batches.
"""
from __future__ import annotations

import os

import torch

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
            cuda = torch.cuda.is_available()
            if cuda:
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
            torch.distributed.init_process_group("nccl" if cuda else "gloo")
    return _state


def world() -> int:
    return torch.distributed.get_world_size() if init() else 1


def rank() -> int:
    return torch.distributed.get_rank() if init() else 0


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if world() > 1:
        torch.distributed.barrier()


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
    t = torch.tensor([float(rec[k]) for k in keys], dtype=torch.float64)
    torch.distributed.all_reduce(t)
    out = dict(rec)
    out.update({k: float(v) / world() for k, v in zip(keys, t.tolist())})
    out["world_size"] = world()
    return out
