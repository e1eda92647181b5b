"""The argument conventions of lm-evaluation-harness and lmms-eval, mapped onto vold's options, so
their users can type what they know: `--tasks a,b`, `--model-args pretrained=X,...`,
`--gen-kwargs max_new_tokens=N,...`, `--limit 0.1`, `--output-path`. vold's own names
(`--bench`, `--model`, `--max-new-tokens`, `--out`) keep working; where both are given, the
lm-eval form wins, as it is the more specific one.
"""
from __future__ import annotations

import math
from dataclasses import replace

from vold_bench.errors import VoldError

# --model-args key -> EvalOptions field ("pretrained" is lm-eval's, "model" lmms-eval's openai).
MODEL_ARGS = {"pretrained": "model", "model": "model", "base_url": "base_url",
              "num_concurrent": "concurrency", "concurrency": "concurrency", "api_key": "api_key",
              "tensor_parallel_size": "tensor_parallel_size", "batch_size": "batch_size"}
GEN_KWARGS = {"max_new_tokens": "max_new_tokens", "max_gen_toks": "max_new_tokens",
              "temperature": "temperature", "top_p": "top_p", "seed": "seed", "do_sample": None}
INT_FIELDS = {"concurrency", "tensor_parallel_size", "batch_size", "max_new_tokens", "seed"}
FLOAT_FIELDS = {"temperature", "top_p"}


def parse_kv(text: str, flag: str) -> dict[str, str]:
    """'a=1,b=x' -> {"a": "1", "b": "x"}; a bare word is an error naming the flag."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise VoldError(f"{flag}: {part!r} is not key=value (e.g. {flag} a=1,b=2)")
        out[key.strip()] = value.strip()
    return out


def _coerce(field: str, value: str, flag: str, key: str):
    try:
        if field in INT_FIELDS:
            return int(value)
        if field in FLOAT_FIELDS:
            return float(value)
    except ValueError:
        raise VoldError(f"{flag}: {key}={value!r} is not a number") from None
    return value


def _apply(opts, text: str | None, table: dict, flag: str):
    if not text:
        return opts
    changes = {}
    for key, value in parse_kv(text, flag).items():
        if key not in table:
            raise VoldError(f"{flag}: unknown key {key!r}; valid: {', '.join(table)}")
        field = table[key]
        if field is None:   # do_sample=false is greedy; =true keeps the given temperature
            if value.lower() in ("false", "0", "no"):
                changes["temperature"] = 0.0
            continue
        changes[field] = _coerce(field, value, flag, key)
    return replace(opts, **changes)


def apply_conventions(opts, model_args: str | None = None, gen_kwargs: str | None = None):
    """EvalOptions with --model-args and --gen-kwargs folded in."""
    opts = _apply(opts, model_args, MODEL_ARGS, "--model-args")
    return _apply(opts, gen_kwargs, GEN_KWARGS, "--gen-kwargs")


def split_tasks(spec: str) -> list[str]:
    names = [t.strip() for t in spec.split(",") if t.strip()]
    if not names:
        raise VoldError("--tasks/--bench: no benchmark named")
    return names


def check_limit(limit: float | None) -> float | None:
    """An integer count, or a fraction of the split in (0, 1) as lm-eval reads `--limit 0.1`."""
    if limit is None:
        return None
    if limit <= 0 or (limit > 1 and not float(limit).is_integer()):
        raise VoldError(f"--limit {limit}: give a count (5) or a fraction of the split (0.1)")
    return limit


def limit_count(limit: float | None, n_items: int) -> int | None:
    """Items to evaluate: a fraction rounds up (lm-eval's rule), so --limit 0.001 is never 0."""
    if limit is None:
        return None
    if limit < 1:
        return min(n_items, math.ceil(limit * n_items))
    return int(limit)
