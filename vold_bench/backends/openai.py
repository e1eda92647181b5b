"""`openai` backend: any OpenAI-compatible chat-completions server (`vllm serve`, SGLang, an API).

This is how models too large for one machine get evaluated: the server holds the model, vold
sends requests with a bound on how many are in flight. Standard library only (urllib + threads),
so it works in every virtualenv vold runs in and adds no dependency.

Retries: 429, 5xx, 408 and network errors/timeouts are retried with exponential backoff and
jitter (honouring Retry-After). 400/413/422 mean this one request is wrong for this server (an
item too long for the context, say): `generate_stream` yields it as that item's RequestRejected,
which the harness records as the item's error sample, and the run goes on. Other 4xx (401, 403,
404) are about the server or the credentials, and end the run. When a request keeps failing the
run ends too: the harness writes every sample the moment it arrives, so a rerun resumes after
the outage instead of scoring empty responses. `check_server` asks GET /v1/models first, so a
down server or a wrong model name is reported in seconds, not after a minute of retries.
"""
from __future__ import annotations

import base64
import io
import json
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest, GenResult

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
ITEM_STATUS = {400, 413, 422}   # the request, not the server, is at fault


class RequestRejected(VoldError):
    """The server refused one request for what it holds; only that item fails."""


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
        self.base = base_url if base_url.endswith("/v1") else base_url + "/v1"
        self.url = self.base + "/chat/completions"
        # Local servers ignore the key; "EMPTY" is what vLLM's docs use.
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.timeout, self.max_retries = timeout, max_retries
        self.backoff, self.max_backoff = backoff, max_backoff

    def post(self, body: dict, what: str = "request", stop: threading.Event | None = None) -> dict:
        """`stop`, once set, ends the retries at once: when one request has failed for good the
        run is over, and the others must not keep the process alive retrying for minutes."""
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
                if e.code in ITEM_STATUS:
                    raise RequestRejected(f"{self.url}: {what} rejected ({last})") from None
                if e.code not in RETRY_STATUS:
                    raise VoldError(f"{self.url}: {what} rejected ({last})") from None
                retry_after = _retry_after(e.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
                last = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except json.JSONDecodeError as e:
                last = f"reply is not JSON ({e})"
            if attempt < self.max_retries:
                wait = min(self.max_backoff, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
                if stop is None:
                    time.sleep(max(wait, retry_after or 0.0))
                elif stop.wait(max(wait, retry_after or 0.0)):
                    break
        raise VoldError(f"{self.url}: {what} failed after {self.max_retries + 1} attempts ({last})")

    def served_models(self, timeout: float = 10.0) -> list[str] | None:
        """Model ids from GET /v1/models; None when the server has no such route. One try with
        a short timeout: this runs before any work, to fail in seconds on a down server."""
        req = urllib.request.Request(self.base + "/models", headers={"Authorization": f"Bearer {self.api_key}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                reply = json.loads(resp.read().decode())
        except urllib.error.HTTPError as e:
            if e.code in (401, 403):
                raise VoldError(f"{self.base}/models: HTTP {e.code}; check --api-key (or OPENAI_API_KEY)") from None
            return None   # 404/405: a server without the route; the first request will tell
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            raise VoldError(f"{self.base}: server not reachable ({type(e).__name__}: "
                            f"{getattr(e, 'reason', e)}); is it running? (--base-url)") from None
        except json.JSONDecodeError:
            return None
        data = reply.get("data") if isinstance(reply, dict) else None
        return [str(m.get("id")) for m in data if isinstance(m, dict)] if isinstance(data, list) else None


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
        self._stop: threading.Event | None = None
        # e.g. {"top_k": 20} or {"chat_template_kwargs": {"enable_thinking": False}} for vLLM.
        self.extra_body = extra_body or {}

    def check_server(self) -> None:
        served = self.client.served_models()
        if served is not None and self.model not in served:
            raise VoldError(f"{self.client.base}: model {self.model!r} is not served there; "
                            f"served: {', '.join(served) or '(none)'}")

    def _one(self, r: GenRequest, cfg: GenConfig) -> GenResult:
        body = {"model": self.model, "messages": to_openai_messages(r.messages, r.images),
                "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature,
                "top_p": cfg.top_p, "seed": cfg.seed, "n": 1, **self.extra_body}
        reply = self.client.post(body, what=f"item {r.id}", stop=self._stop)
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

    def generate_stream(self, requests: list[GenRequest], cfg: GenConfig):
        """(request, GenResult | RequestRejected) in the order answers arrive. Any other error
        (server gone after the retries) ends the stream and cancels what has not started."""
        if not requests:
            return
        self._stop = threading.Event()
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests)))
        futures = {pool.submit(self._one, r, cfg): r for r in requests}
        try:
            for f in as_completed(futures):
                try:
                    yield futures[f], f.result()
                except RequestRejected as e:
                    yield futures[f], e
        finally:
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def generate(self, requests: list[GenRequest], cfg: GenConfig) -> list[GenResult]:
        """All answers in request order; a rejected request raises."""
        got = {}
        for r, res in self.generate_stream(requests, cfg):
            if isinstance(res, Exception):
                raise res
            got[id(r)] = res
        return [got[id(r)] for r in requests]
