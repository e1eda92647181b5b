"""Start-up sanity check: parameter counts and a per-GPU memory estimate, before any weight loads.

    plan = Plan(gpus=8, gpu_mem_gb=80, strategy="fsdp", micro_batch=4, seq_len=9216)
    report = preflight("Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen3-8B", plan)  # VoldError if it cannot fit
    print(format_report(report))

Parameters are counted by building the model from its config on the meta device (no download
of weights, no memory). Configs come from a local folder, the hub (config.json only), or the
built-in copies of the paper's two models below, so the check also works offline.

The memory model is deliberately simple and errs high; its terms (bytes per parameter):
- trained student, mixed precision AdamW: fp32 master weights 4 + fp32 grads 4 + Adam m, v 8
  = 16, divided by the GPU count under FSDP / ZeRO-3, whole under DDP; plus the bf16 copy of
  the largest layers gathered for compute (FSDP) or a full bf16 copy (DDP);
- frozen parts of the student (the vision tower in VOLD): bf16 weights, 2 bytes/param, sharded
  like the student;
- the HF teacher: bf16 weights, whole on every GPU under every strategy: the trainer never
  shards it (vold_train/sharding.py: all-gathering a frozen model on every scoring pass costs
  more than it saves; a teacher too large to replicate goes to the vLLM teacher engine);
- activations: per token and layer 2*hidden bytes with gradient checkpointing (one bf16 hidden
  state kept per layer) plus one layer recomputed at 34*hidden (Korthikanti et al. 2022,
  arXiv 2205.05198, with flash attention), 34*hidden per layer without checkpointing;
- without bf16 (plan.bf16 false) the weight copies and activations above take 4 bytes, not 2;
- the log-prob chunk: micro_batch * chunk * vocab * 4 bytes for student and teacher
  (vold_train/logprobs.py never materialises full (B, T, V) fp32 logits);
- a vLLM engine colocated on the same GPU holds `vllm_mem_fraction` of it while awake; with
  sleep mode (level 1) it gives that back during the train phase, so the peak is the larger phase;
- 2 GB of CUDA context and allocator slack per GPU.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from vold_bench.errors import VoldError

GB = 1024 ** 3

# Public config.json values of the paper's models (the architecture numbers only), so the
# check runs without the hub.
KNOWN_CONFIGS = {
    "Qwen/Qwen2.5-VL-3B-Instruct": {
        "architectures": ["Qwen2_5_VLForConditionalGeneration"], "model_type": "qwen2_5_vl",
        "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36,
        "num_attention_heads": 16, "num_key_value_heads": 2, "vocab_size": 151936,
        "max_position_embeddings": 128000, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
        "tie_word_embeddings": True, "hidden_act": "silu", "bos_token_id": 151643,
        "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653,
        "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
        "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]},
        "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280,
                          "intermediate_size": 3420, "num_heads": 16, "in_chans": 3,
                          "out_hidden_size": 2048, "patch_size": 14, "spatial_merge_size": 2,
                          "spatial_patch_size": 14, "window_size": 112,
                          "fullatt_block_indexes": [7, 15, 23, 31], "tokens_per_second": 2,
                          "temporal_patch_size": 2},
    },
    "Qwen/Qwen3-8B": {
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "attention_bias": False,
        "head_dim": 128, "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
        "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 151936,
        "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
        "tie_word_embeddings": False, "hidden_act": "silu", "bos_token_id": 151643,
        "eos_token_id": 151645,
    },
}


@dataclass
class Plan:
    gpus: int = 8                    # GPUs the trainer shards over
    gpu_mem_gb: float = 80.0
    strategy: str = "fsdp"           # "fsdp" (FSDP2) | "zero3" (DeepSpeed ZeRO-3) | "ddp"
    micro_batch: int = 4             # sequences per forward/backward per GPU
    seq_len: int = 4096              # prompt + completion tokens
    grad_ckpt: bool = True           # the recipe's gradient_checkpointing
    bf16: bool = True                # the recipe's bf16
    logprob_chunk: int = 1024
    freeze_vision: bool = True
    teacher_engine: str = "hf"       # "hf": teacher weights on the training GPUs | "vllm"
    rollout_engine: str = "vllm"     # "vllm" colocated (sleep mode) | "hf"
    vllm_mem_fraction: float = 0.4   # share of the GPU a colocated vLLM engine reserves
    overhead_gb: float = 2.0


def load_config(model: str):
    """A transformers config from a local folder, the built-in copies, or the hub (config only)."""
    from transformers import AutoConfig

    if Path(model, "config.json").is_file():
        return AutoConfig.from_pretrained(model)
    if model in KNOWN_CONFIGS:
        d = dict(KNOWN_CONFIGS[model])
        return AutoConfig.for_model(d.pop("model_type"), **d)
    try:
        return AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as e:
        raise VoldError(f"cannot read the config of {model!r} ({str(e).splitlines()[0]})") from None


def param_counts(config) -> dict[str, int]:
    """{total, vision, language, embedding} from a model built on the meta device."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText

    vlm = getattr(config, "vision_config", None) is not None
    with torch.device("meta"):
        model = (AutoModelForImageTextToText if vlm else AutoModelForCausalLM).from_config(config)
    counts = {"total": 0, "vision": 0, "language": 0, "embedding": 0}
    seen = set()
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in seen:  # tied input/output embeddings count once
            continue
        seen.add(id(p))
        counts["total"] += p.numel()
        counts["vision" if "visual" in name else "language"] += p.numel()
        if "embed_tokens" in name or "lm_head" in name:
            counts["embedding"] += p.numel()
    return counts


def _text(config):
    return getattr(config, "text_config", None) or config


def estimate(student_cfg, teacher_cfg, plan: Plan) -> dict:
    """Per-GPU memory (GB) of the train phase and the rollout phase; `peak_gb` the larger."""
    if plan.strategy not in ("fsdp", "zero3", "ddp"):
        raise VoldError(f"plan.strategy {plan.strategy!r}: valid are fsdp, zero3, ddp")
    s, t = param_counts(student_cfg), param_counts(teacher_cfg)
    shard = plan.gpus if plan.strategy in ("fsdp", "zero3") else 1
    trained = s["language"] + (0 if plan.freeze_vision else s["vision"])
    frozen = s["total"] - trained
    st, tt = _text(student_cfg), _text(teacher_cfg)
    layers = st.num_hidden_layers
    # bf16 compute copy: DDP keeps all of it; FSDP/ZeRO-3 gather about two layers at a time.
    wb = 2 if plan.bf16 else 4  # bytes of a weight copy / activation element
    compute_copy = wb * s["total"] if shard == 1 else wb * 2 * s["total"] / max(layers, 1)
    tokens = plan.micro_batch * plan.seq_len
    h = st.hidden_size
    act = tokens * layers * 2 * h + tokens * 34 * h if plan.grad_ckpt else tokens * layers * 34 * h
    act = act * wb / 2
    chunk = plan.micro_batch * plan.logprob_chunk * st.vocab_size * 4
    train = {
        "student_states": 16 * trained / shard,
        "student_frozen": wb * frozen / shard,
        "student_compute_copy": compute_copy,
        "activations": act,
        "logprob_chunks": 2 * chunk,
        "teacher_weights": wb * t["total"] if plan.teacher_engine == "hf" else 0,  # replicated
        "teacher_activations": (plan.micro_batch * plan.seq_len * 2 * wb * tt.hidden_size
                                if plan.teacher_engine == "hf" else 0),
        "overhead": plan.overhead_gb * GB,
    }
    train_gb = {k: v / GB for k, v in train.items()}
    rollout_gb = {"vllm_engine": plan.vllm_mem_fraction * plan.gpu_mem_gb if plan.rollout_engine == "vllm" else 0.0,
                  # sleep level 1 offloads vLLM weights and drops its KV cache, but the trainer's
                  # sharded states stay resident while rollouts run
                  "student_states": train_gb["student_states"] + train_gb["student_frozen"],
                  "teacher_weights": train_gb["teacher_weights"],
                  "overhead": plan.overhead_gb}
    report = {"plan": asdict(plan), "student_params": s, "teacher_params": t,
              "train_phase_gb": train_gb, "rollout_phase_gb": rollout_gb,
              "train_gb": sum(train_gb.values()), "rollout_gb": sum(rollout_gb.values())}
    report["peak_gb"] = max(report["train_gb"], report["rollout_gb"])
    report["fits"] = report["peak_gb"] <= plan.gpu_mem_gb
    return report


def format_report(r: dict) -> str:
    s, t, p = r["student_params"], r["teacher_params"], r["plan"]
    lines = [f"student {s['total'] / 1e9:.2f}B params (vision {s['vision'] / 1e9:.2f}B, "
             f"language {s['language'] / 1e9:.2f}B); teacher {t['total'] / 1e9:.2f}B",
             f"plan: {p['gpus']} x {p['gpu_mem_gb']:.0f} GB, {p['strategy']}, micro_batch {p['micro_batch']}, "
             f"seq_len {p['seq_len']}, grad_ckpt {p['grad_ckpt']}, bf16 {p['bf16']}, "
             f"teacher on {p['teacher_engine']} (replicated)",
             "train phase per GPU: " + ", ".join(f"{k} {v:.1f}" for k, v in r["train_phase_gb"].items() if v)
             + f" = {r['train_gb']:.1f} GB",
             "rollout phase per GPU: " + ", ".join(f"{k} {v:.1f}" for k, v in r["rollout_phase_gb"].items() if v)
             + f" = {r['rollout_gb']:.1f} GB"]
    return "\n".join(lines)


def preflight(student: str, teacher: str, plan: Plan) -> dict:
    """Estimate before loading anything; VoldError naming the biggest terms if it cannot fit."""
    r = estimate(load_config(student), load_config(teacher), plan)
    if not r["fits"]:
        phase = "train_phase_gb" if r["train_gb"] >= r["rollout_gb"] else "rollout_phase_gb"
        top = sorted(r[phase].items(), key=lambda kv: -kv[1])[:3]
        raise VoldError(
            f"{student} + {teacher} need about {r['peak_gb']:.0f} GB per GPU with {plan.strategy} on "
            f"{plan.gpus} GPU(s), more than {plan.gpu_mem_gb:.0f} GB (largest: "
            + ", ".join(f"{k} {v:.0f} GB" for k, v in top)
            + "); use more GPUs, fsdp/zero3, gradient checkpointing or a smaller micro_batch")
    return r


if __name__ == "__main__":
    import sys

    student, teacher = (sys.argv[1:3] + ["Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen3-8B"][len(sys.argv[1:3]):])[:2]
    rep = estimate(load_config(student), load_config(teacher), Plan())
    print(format_report(rep))
    print(json.dumps({k: rep[k] for k in ("train_gb", "rollout_gb", "peak_gb", "fits")}))
