"""How the student is spread over the ranks of an `accelerate launch` (or torchrun) job.

    policy, opt = prepare(student, vocab, chunk, make_opt, bf16=..., gradient_checkpointing=...,
                          max_grad_norm=...)                         # LogprobModel, wrapped
    logp, ent, kl = policy(ids, attn, completion)                 # every student forward
    backward(policy, loss, last); gnorm = step(policy, opt, sched, cfg.max_grad_norm)

The strategy comes from the launch environment, not from the recipe, so one recipe runs
unchanged under any launch config (recipes/accelerate/). `accelerate launch` exports its
config file as environment variables, and `strategy()` reads those:
  ACCELERATE_USE_FSDP=true and FSDP_VERSION=2   -> "fsdp2": torch FSDP2 `fully_shard` on every
        decoder layer / vision block, then on the whole student; params, grads and AdamW
        states live 1/world per rank (fsdp2.yaml, cpu_2proc_fsdp2.yaml)
  ACCELERATE_USE_DEEPSPEED=true (ZeRO stage 3)  -> "zero3": `deepspeed.initialize`
        (deepspeed_zero3.yaml; deepspeed is imported only then)
  more than one process, neither of the above   -> "ddp": every rank holds the whole model,
        gradients averaged by one all-reduce (dist.average_gradients; cpu_2proc.yaml, torchrun)
  one process                                   -> "single": the model as it is
Of the FSDP config vold also reads fsdp_transformer_layer_cls_to_wrap (default: the model's
`_no_split_modules`) and fsdp_reshard_after_forward; of DeepSpeed's, the offload devices.
Mixed precision and activation checkpointing come from the recipe (`bf16`,
`gradient_checkpointing`), not from accelerate's `mixed_precision`.

The teacher is never passed through here: it stays replicated and frozen on every rank.
Sharding a frozen model saves memory but all-gathers all of its weights on every scoring
pass, each step, for no gradient; a teacher too large to replicate belongs in the vLLM
teacher engine (rl.engine.teacher=vllm) instead.
"""
from __future__ import annotations

import importlib.util
import os

import torch

from vold_bench.errors import VoldError
from vold_train import dist
from vold_train.logprobs import LogprobModel

SHARDED = ("fsdp2", "zero3")


def _flag(env, name: str) -> bool:
    return str(env.get(name, "")).lower() in ("1", "true", "yes")


def strategy(env=None) -> str:
    """"single" | "ddp" | "fsdp2" | "zero3" for the launch described by `env` (os.environ)."""
    env = os.environ if env is None else env
    if int(env.get("WORLD_SIZE", "1")) <= 1:
        return "single"  # nothing to shard over
    if _flag(env, "ACCELERATE_USE_FSDP"):
        if env.get("FSDP_VERSION", "1") != "2":
            raise VoldError(f"FSDP version {env.get('FSDP_VERSION', '1')} is not supported; set "
                            f"fsdp_config.fsdp_version: 2 in the accelerate config")
        return "fsdp2"
    if _flag(env, "ACCELERATE_USE_DEEPSPEED"):
        stage = env.get("ACCELERATE_DEEPSPEED_ZERO_STAGE", "3")
        if stage != "3":
            raise VoldError(f"DeepSpeed ZeRO stage {stage} is not wired in; use zero_stage: 3 or FSDP2")
        if importlib.util.find_spec("deepspeed") is None:
            raise VoldError("the launch asks for DeepSpeed ZeRO-3 but deepspeed is not installed "
                            "(pip install deepspeed, or launch with recipes/accelerate/fsdp2.yaml)")
        return "zero3"
    return "ddp"


def synced_generation() -> bool:
    # Sharded weights are gathered by collectives inside every forward, so a rank whose
    # rollouts all ended early must keep stepping with the others (generate(synced_gpus=True)).
    return strategy() in SHARDED


def deepspeed_config(bf16: bool, max_grad_norm: float, env=None) -> dict:
    """The ZeRO-3 config handed to deepspeed.initialize. The trainer does its own micro-batching
    (one engine.backward per micro-batch, a boundary on the last), so DeepSpeed's batch sizes
    are 1 and it neither scales the loss nor counts accumulation steps."""
    env = os.environ if env is None else env
    return {"train_micro_batch_size_per_gpu": 1, "gradient_accumulation_steps": 1,
            "gradient_clipping": max_grad_norm, "bf16": {"enabled": bool(bf16)},
            "zero_optimization": {
                "stage": 3,
                "offload_param": {"device": env.get("ACCELERATE_DEEPSPEED_OFFLOAD_PARAM_DEVICE", "none")},
                "offload_optimizer": {"device": env.get("ACCELERATE_DEEPSPEED_OFFLOAD_OPTIMIZER_DEVICE", "none")},
                "stage3_gather_16bit_weights_on_model_save": True}}


def _fully_shard(policy: LogprobModel, bf16: bool) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard, register_fsdp_forward_method

    mesh = init_device_mesh(next(policy.parameters()).device.type, (dist.world(),))
    # bf16 compute, fp32 sharded master weights and fp32 gradient reduce-scatter
    mp = (MixedPrecisionPolicy(param_dtype=torch.bfloat16, reduce_dtype=torch.float32) if bf16
          else MixedPrecisionPolicy())
    reshard = os.environ.get("FSDP_RESHARD_AFTER_FORWARD", "true").lower() not in ("false", "0", "no")
    wrap = os.environ.get("FSDP_TRANSFORMER_CLS_TO_WRAP", "")
    names = {n.strip() for n in wrap.split(",") if n.strip()} or set(policy.model._no_split_modules or [])
    units = [m for m in policy.model.modules() if type(m).__name__ in names]
    if not units:
        raise VoldError(f"FSDP2: no module of the student is one of {sorted(names)}; set "
                        f"fsdp_transformer_layer_cls_to_wrap to its decoder layer class")
    for m in units:  # one all-gather unit per layer: only ~2 layers are ever whole at once
        fully_shard(m, mesh=mesh, mp_policy=mp, reshard_after_forward=reshard)
    fully_shard(policy, mesh=mesh, mp_policy=mp, reshard_after_forward=reshard)  # embeddings, norm, head
    register_fsdp_forward_method(policy, "generate")  # gather the root's weights for rollouts too


def _deepspeed(policy: LogprobModel, opt, bf16: bool, max_grad_norm: float):
    import deepspeed

    # The head's weight is read inside policy.forward, not through lm_head's own forward, so
    # ZeRO-3 must be told to gather it whenever the policy runs.
    deepspeed.zero.register_external_parameter(policy, policy.model.get_output_embeddings().weight)
    engine, _, _, _ = deepspeed.initialize(model=policy, optimizer=opt,
                                           config=deepspeed_config(bf16, max_grad_norm))
    return engine


def enable_checkpointing(model) -> None:
    """Recompute each decoder layer in backward (non-reentrant: composes with FSDP2's hooks)."""
    kw = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):  # transformers >= 5.x; the old name warns
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kw)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kw)


def prepare(model, vocab: int, chunk: int, make_opt, *, bf16: bool = False,
            gradient_checkpointing: bool = False, max_grad_norm: float = 1.0):
    """(policy, optimizer) for the strategy in force, with the stage's precision (bf16),
    activation recomputation and gradient clipping (DeepSpeed clips inside its step);
    `make_opt(module)` builds the AdamW over the module's trainable parameters, after FSDP2 has
    replaced them by their shards."""
    kind = strategy()
    if gradient_checkpointing:
        enable_checkpointing(model)
    autocast = torch.bfloat16 if bf16 and kind in ("single", "ddp") else None
    policy = LogprobModel(model, vocab, chunk, autocast)
    if kind == "fsdp2":
        _fully_shard(policy, bf16)
    opt = make_opt(policy)
    if kind == "zero3":
        return _deepspeed(policy, opt, bf16, max_grad_norm), opt
    return policy, opt


def base_model(policy):
    """The Hugging Face model inside a policy (the DeepSpeed engine holds it as .module)."""
    return (policy.module if strategy() == "zero3" else policy).model


def backward(policy, loss, last: bool = True) -> None:
    if strategy() == "zero3":
        policy.set_gradient_accumulation_boundary(last)  # reduce-scatter only after the last micro-batch
        policy.backward(loss)
    else:
        loss.backward()  # FSDP2 reduce-scatters in its post-backward hooks


def step(policy, opt, sched, max_grad_norm: float) -> float:
    """Average gradients across ranks where needed, clip, step optimizer and schedule (none
    when `sched` is None); the pre-clip gradient norm over the whole model."""
    kind = strategy()
    if kind == "zero3":
        policy.step()  # clips (gradient_clipping), steps the AdamW, zeroes the gradients
        gnorm = policy.get_global_grad_norm()
        if sched is not None:
            sched.step()
        return float(gnorm)
    if kind == "ddp":
        dist.average_gradients(policy)
    gnorm = torch.nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)
    if hasattr(gnorm, "full_tensor"):  # FSDP2: a DTensor over the shards
        gnorm = gnorm.full_tensor()
    opt.step()
    if sched is not None:
        sched.step()
    opt.zero_grad(set_to_none=True)
    return float(gnorm)


def _strip(sd: dict) -> dict:
    return {k.removeprefix("model."): v for k, v in sd.items()}  # policy.model.X -> X


def full_model_state(policy) -> dict | None:
    """The whole model's state dict in Hugging Face names, on rank 0's CPU (an empty dict on the
    others); None where the module itself can be saved (single, ddp on CPU). Collective when
    sharded."""
    kind = strategy()
    if kind == "fsdp2":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)  # gathered shard by shard to rank 0's CPU
        return _strip(get_model_state_dict(policy, options=opts))
    if kind == "zero3":
        return _strip(policy._zero3_consolidated_16bit_state_dict() or {})
    return _cpu_state(base_model(policy))  # single, ddp


def _cpu_state(model) -> dict | None:
    if next(model.parameters()).device == torch.device("cpu"):
        return None  # save_pretrained writes the module's own tensors
    if not dist.is_main():
        return {}
    # one host copy per tensor, so tied weights (embeddings / head) still share storage and
    # save_pretrained drops the alias as it does for the module itself
    copies, out = {}, {}
    for k, v in model.state_dict(keep_vars=True).items():
        if id(v) not in copies:
            copies[id(v)] = v.detach().cpu()
        out[k] = copies[id(v)]
    return out


def optimizer_state(policy, opt) -> tuple[str, dict | None]:
    """(format, state) for the checkpoint: "fqn", the full AdamW state keyed by parameter name
    (the same file whether it was written by 1 process, ddp or FSDP2 shards, so a run can resume
    under another launch; collective under FSDP2, empty off rank 0), or "deepspeed" (its own
    per-rank files, `after_checkpoint`)."""
    if strategy() == "zero3":
        return "deepspeed", None
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    opts = StateDictOptions(full_state_dict=True, cpu_offload=True)  # gathered to rank 0's CPU
    return "fqn", get_optimizer_state_dict(policy, opt, options=opts)


def after_checkpoint(policy, ck) -> None:
    """ZeRO-3 only: every rank adds its optimizer partition under <ckpt>/deepspeed/."""
    if strategy() == "zero3":
        policy.save_checkpoint(str(ck), tag="deepspeed")


def load_optimizer_state(policy, opt, fmt: str, state, ck) -> None:
    if fmt == "torch":  # checkpoints written before the "fqn" format: one process or ddp only
        if strategy() in SHARDED:
            raise VoldError(f"{ck}: an older single-process checkpoint; resume it without FSDP2 / ZeRO-3")
        opt.load_state_dict(state)
    elif fmt == "fqn":  # every rank holds the full state and keeps its own shards of it
        from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

        set_optimizer_state_dict(policy, opt, state, options=StateDictOptions(full_state_dict=True))
    elif strategy() != "zero3" or not (ck / "deepspeed").is_dir():
        raise VoldError(f"{ck}: its optimizer state is DeepSpeed's; resume it under the ZeRO-3 launch "
                        f"(or delete the checkpoint)")
    else:
        policy.load_checkpoint(str(ck), tag="deepspeed", load_module_strict=True,
                               load_optimizer_states=True, load_lr_scheduler_states=False)
