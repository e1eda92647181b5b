"""Generation backends behind one call: `make_backend(name, model, **opts).generate(requests, cfg)`.

Each backend is imported only when asked for, so `hf` works without vLLM or an HTTP client
installed, and `vold --help` stays instant.
"""
from __future__ import annotations

from vold_bench.errors import VoldError

BACKENDS = ("hf", "vllm", "openai")


def make_backend(name: str, model: str, **opts):
    if name == "hf":
        from vold_bench.backends.hf import HFBackend
        return HFBackend(model, **opts)
    if name == "vllm":
        try:
            from vold_bench.backends.vllm import VLLMBackend
        except ImportError as e:
            raise VoldError(f"vllm backend unavailable ({e}); install vold[vllm] or use --backend hf") from None
        return VLLMBackend(model, **opts)
    if name == "openai":
        try:
            from vold_bench.backends.openai import OpenAIBackend
        except ImportError as e:
            raise VoldError(f"openai backend unavailable ({e})") from None
        return OpenAIBackend(model, **opts)
    raise VoldError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
