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
        from vold_bench.backends.vllm import VLLMBackend  # says itself when vllm is missing
        return VLLMBackend(model, **opts)
    if name == "openai":
        from vold_bench.backends.openai import OpenAIBackend  # standard library only
        return OpenAIBackend(model, **opts)
    raise VoldError(f"unknown backend {name!r}; valid: {', '.join(BACKENDS)}")
