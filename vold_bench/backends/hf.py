"""`hf` backend: plain transformers generation, batched, CPU or GPU.

A config with a vision tower loads as AutoModelForImageTextToText + AutoProcessor (Qwen2.5-VL);
anything else as AutoModelForCausalLM + AutoTokenizer (a text-only teacher). Requests are
sorted by length so a batch pads little, padded on the left so every row's generation starts
at the same column, and returned in the caller's order.
"""
from __future__ import annotations

import torch

from vold_bench.backends.resolve import resolve_model
from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest, GenResult


def _text_only(messages: list[dict]) -> list[dict]:
    # Text-only chat templates (Qwen3) expect a string content, not a list of parts.
    out = []
    for m in messages:
        c = m["content"]
        if isinstance(c, list):
            c = "\n".join(p["text"] for p in c if p.get("type") == "text")
        out.append({"role": m["role"], "content": c})
    return out


class HFBackend:
    def __init__(self, model: str, device: str | None = None, dtype: str | None = None,
                 attn_implementation: str | None = None, **_ignored):
        from transformers import (
            AutoConfig,
            AutoModelForCausalLM,
            AutoModelForImageTextToText,
            AutoProcessor,
            AutoTokenizer,
        )

        self.name = model
        path = resolve_model(model)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        # bf16 on GPU as every VLM eval does; fp32 on CPU, where bf16 matmuls are slow and lossy.
        torch_dtype = getattr(torch, dtype) if dtype else (
            torch.bfloat16 if self.device.startswith("cuda") else torch.float32)
        try:
            config = AutoConfig.from_pretrained(path)
        except (OSError, ValueError) as e:
            raise VoldError(f"model {model!r}: cannot load its config ({str(e).splitlines()[0]})") from None
        self.vision = getattr(config, "vision_config", None) is not None
        kw = {"dtype": torch_dtype}
        if attn_implementation:
            kw["attn_implementation"] = attn_implementation
        if self.vision:
            self.model = AutoModelForImageTextToText.from_pretrained(path, **kw)
            self.processor = AutoProcessor.from_pretrained(path)
            self.tokenizer = self.processor.tokenizer
        else:
            self.model = AutoModelForCausalLM.from_pretrained(path, **kw)
            self.processor = None
            self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model.to(self.device).eval()
        self.eos_ids = self._eos_ids()

    def _eos_ids(self) -> set[int]:
        ids = set()
        for v in (self.model.generation_config.eos_token_id, self.tokenizer.eos_token_id):
            ids.update(v if isinstance(v, (list, tuple)) else [v] if v is not None else [])
        im_end = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
        if isinstance(im_end, int) and im_end != self.tokenizer.unk_token_id:
            ids.add(im_end)
        return ids

    def _chat_text(self, r: GenRequest) -> str:
        if self.vision:
            return self.processor.apply_chat_template(r.messages, add_generation_prompt=True, tokenize=False)
        if r.images:
            raise VoldError(f"request {r.id}: model {self.name} is text-only but the prompt has images")
        return self.tokenizer.apply_chat_template(_text_only(r.messages), add_generation_prompt=True,
                                                  tokenize=False)

    def _cost(self, r: GenRequest, text: str) -> float:
        """Approximate prompt tokens, without running the processor: ~4 characters per text
        token, and one visual token per 28x28 pixels after the processor's resize bounds."""
        cost = len(text) / 4
        if self.vision and r.images:
            size = getattr(self.processor.image_processor, "size", None) or {}
            lo, hi = size.get("shortest_edge", 0), size.get("longest_edge", float("inf"))
            cost += sum(min(hi, max(lo, im.width * im.height)) / 784 for im in r.images)
        return cost

    @torch.inference_mode()
    def generate(self, requests: list[GenRequest], cfg: GenConfig) -> list[GenResult]:
        texts = [self._chat_text(r) for r in requests]
        order = sorted(range(len(requests)), key=lambda i: self._cost(requests[i], texts[i]))
        results: dict[int, GenResult] = {}
        torch.manual_seed(cfg.seed)
        for s in range(0, len(order), max(1, cfg.batch_size)):
            idx = order[s: s + cfg.batch_size]
            batch_texts = [texts[i] for i in idx]
            if self.vision:
                images = [im for i in idx for im in requests[i].images]
                inputs = self.processor(text=batch_texts, images=images or None,
                                        return_tensors="pt", padding=True)
            else:
                inputs = self.tokenizer(batch_texts, return_tensors="pt", padding=True,
                                        add_special_tokens=False)
            inputs = inputs.to(self.device)
            sample = cfg.temperature > 0
            gen_kw = dict(max_new_tokens=cfg.max_new_tokens, do_sample=sample,
                          pad_token_id=self.tokenizer.pad_token_id, eos_token_id=sorted(self.eos_ids))
            if sample:
                gen_kw.update(temperature=cfg.temperature, top_p=cfg.top_p)
            else:   # silence generation_config sampling defaults under greedy decoding
                gen_kw.update(temperature=None, top_p=None, top_k=None)
            out = self.model.generate(**inputs, **gen_kw)
            new = out[:, inputs["input_ids"].shape[1]:].tolist()
            for i, toks in zip(idx, new):
                results[i] = self._result(requests[i].id, toks)
        return [results[i] for i in range(len(requests))]

    def _result(self, rid: str, toks: list[int]) -> GenResult:
        stop = next((k for k, t in enumerate(toks) if t in self.eos_ids), None)
        if stop is None:   # never emitted an end token: cut by the length limit
            body, n, reason = toks, len(toks), "length"
        else:              # the end token counts as generated, as vLLM and OpenAI count it
            body, n, reason = toks[:stop], stop + 1, "stop"
        # Keep special tokens such as <think> (a truncated reasoning block must stay visible to
        # the scorer); the end token and padding are already cut off.
        text = self.tokenizer.decode(body, skip_special_tokens=False)
        return GenResult(id=rid, text=text, gen_tokens=n, finish_reason=reason)
