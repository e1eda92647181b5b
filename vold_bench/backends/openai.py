"""`openai` backend: any OpenAI-compatible chat-completions server (`vllm serve`, SGLang, an API).

This is how models too large for one machine get evaluated: the server holds the model, vold
sends requests with a bound on how many are in flight. Standard library only (urllib + threads),
so it works in every virtualenv vold runs in and adds no dependency.

Retries: 429, 5xx, 408 and network errors/timeouts are retried with exponential backoff and
jitter (honouring Retry-After); other 4xx mean the request itself is wrong and fail at once.
When a request keeps failing the whole call raises VoldError: the harness has already flushed
earlier batches, so a rerun resumes after the outage instead of scoring empty responses.
"""
from __future__ import annotations

import base64
import io
import json
import os
import random
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest, GenResult

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class ChatClient:
    """POSTs chat-completion bodies with retries; shared by OpenAIBackend and the LLM judge."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 600.0, max_retries: int = 6, backoff: float = 1.0,
                 max_backoff: float = 60.0):
        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        if not base_url:
            raise VoldError("openai backend: no server URL; pass --base-url (or set OPENAI_BASE_URL)")
        base_url = base_url.rstrip("/")
        # Accept both "http://host:8000" and "http://host:8000/v1", as vllm serve users type either.
        self.url = base_url + ("/chat/completions" if base_url.endswith("/v1") else "/v1/chat/completions")
        # Local servers ignore the key; "EMPTY" is what vLLM's docs use.
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff

    def post(self, body: dict, what: str = "request") -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after = None
            try:
                req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode())
            except urllib.error.HTTPError as e:
                detail = e.read().decode(errors="replace")[:300]
                last = f"HTTP {e.code}: {detail}"
                if e.code not in RETRY_STATUS:
                    raise VoldError(f"{self.url}: {what} rejected ({last})") from None
                retry_after = _retry_after(e.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                last = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except json.JSONDecodeError as e:
                last = f"reply is not JSON ({e})"
            if attempt < self.max_retries:
                wait = min(self.max_backoff, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
                time.sleep(max(wait, retry_after or 0.0))
        raise VoldError(f"{self.url}: {what} failed after {self.max_retries + 1} attempts ({last})")


def _retry_after(value: str | None) -> float | None:
    try:
        return min(float(value), 300.0) if value else None
    except ValueError:  # an HTTP date; fall back to our own backoff
        return None


def image_data_url(image: Any) -> str:
    """PIL image or file path -> base64 PNG data URL (PNG: lossless, so the server sees our pixels)."""
    from PIL import Image

    if isinstance(image, (str, Path)):
        try:
            image = Image.open(image)
        except (OSError, ValueError) as e:
            raise VoldError(f"{image}: cannot read image ({e})") from None
    if image.mode not in ("RGB", "RGBA", "L"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def to_openai_messages(messages: list[dict], images: list[Any]) -> list[dict]:
    """HF chat format ({"type": "image"} placeholders + GenRequest.images in order) -> OpenAI parts."""
    out, k = [], 0
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            out.append({"role": m["role"], "content": content})
            continue
        parts = []
        for p in content:
            if p["type"] == "text":
                parts.append({"type": "text", "text": p["text"]})
            elif p["type"] == "image":
                img = p.get("image") if p.get("image") is not None else (images[k] if k < len(images) else None)
                if img is None:
                    raise VoldError(f"message has more image placeholders than images ({len(images)})")
                k += 1
                parts.append({"type": "image_url", "image_url": {"url": image_data_url(img)}})
            else:
                raise VoldError(f"unsupported message part type {p['type']!r}")
        out.append({"role": m["role"], "content": parts})
    return out


class OpenAIBackend:
    def __init__(self, model: str, base_url: str | None = None, concurrency: int = 8,
                 api_key: str | None = None, timeout: float = 600.0, max_retries: int = 6,
                 backoff: float = 1.0, extra_body: dict | None = None, **_ignored):
        self.model = model
        self.client = ChatClient(base_url, api_key, timeout, max_retries, backoff)
        self.concurrency = max(1, int(concurrency))
        # e.g. {"top_k": 20} or {"chat_template_kwargs": {"enable_thinking": False}} for vLLM.
        self.extra_body = extra_body or {}

    def _one(self, r: GenRequest, cfg: GenConfig) -> GenResult:
        body = {"model": self.model, "messages": to_openai_messages(r.messages, r.images),
                "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature,
                "top_p": cfg.top_p, "seed": cfg.seed, "n": 1, **self.extra_body}
        reply = self.client.post(body, what=f"item {r.id}")
        try:
            choice = reply["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise VoldError(f"{self.client.url}: item {r.id}: reply has no choices[0].message "
                            f"({str(reply)[:200]})") from None
        usage = reply.get("usage") or {}
        # Servers that omit usage get a whitespace count: approximate, only feeds tokens/s.
        n_tok = usage.get("completion_tokens")
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return GenResult(id=r.id, text=text, gen_tokens=int(n_tok if n_tok is not None else len(text.split())),
                         finish_reason=finish)

    def generate(self, requests: list[GenRequest], cfg: GenConfig) -> list[GenResult]:
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            futures = [pool.submit(self._one, r, cfg) for r in requests]
            try:
                return [f.result() for f in futures]  # request order, whatever the finish order
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
