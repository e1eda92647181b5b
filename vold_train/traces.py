"""Stage 1: the text-only teacher writes reasoning traces for text prompts.

The paper (arXiv 2510.23497) has Qwen3-8B answer Mixture-of-Thoughts prompts and keeps traces
under 8,192 tokens without checking their answers; here the length filter and an optional
answer check (the same scorer as `vold eval`) are switches. Output is jsonl, one record per
kept trace; rejected prompts go to a side file so a re-run skips every prompt already tried.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from vold_train.common import device_of, load_model, load_tokenizer, pad_left, progress, set_seed, teacher_prompt
from vold_train.config import TracesConfig, load_recipe
from vold_train.data import load_problems


def _done_ids(*paths: Path) -> set[str]:
    ids = set()
    for p in paths:
        if p.exists():
            for line in p.read_text().splitlines():
                try:
                    ids.add(json.loads(line)["id"])
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue  # a line cut by a kill: that prompt is simply redone
    return ids


def _verdict(text: str, ntok: int, finished: bool, item, cfg: TracesConfig) -> str:
    """"ok" or why the trace is dropped."""
    if not finished:
        return "truncated"
    if ntok > cfg.max_trace_tokens:
        return "too_long"
    if ntok < cfg.min_trace_tokens:
        return "too_short"
    if cfg.require_boxed and "\\boxed{" not in text:
        return "no_boxed"
    if cfg.verify:
        from vold_bench.scoring import score

        if not score(text, item, scorer=cfg.scorer).correct:
            return "wrong"
    return "ok"


def write_traces(cfg: TracesConfig, out: Path) -> dict:
    """Generate (or finish generating) traces into `out`; returns counts by verdict."""
    set_seed(cfg.seed)
    rejected = out.with_suffix(".rejected.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    items = load_problems(cfg.prompts, cfg.split, cfg.n_prompts, cfg.seed + 7)
    tok = load_tokenizer(cfg.teacher)
    done = _done_ids(out, rejected)
    todo = [(it, k) for it in items for k in range(cfg.samples_per_prompt)
            if f"{it.id}#{k}" not in done]
    counts: dict[str, int] = {"skipped_done": len(done)}
    if not todo:
        return counts
    model = load_model(cfg.teacher, "teacher").eval()
    bar, task = progress(len(todo), "traces")
    with bar, open(out, "a") as f_ok, open(rejected, "a") as f_bad:
        for s in range(0, len(todo), cfg.batch_size):
            chunk = todo[s:s + cfg.batch_size]
            # Seed per batch so a resumed run samples what an uninterrupted one would have.
            torch.manual_seed(cfg.seed * 1_000_003 + s)
            prompts = [teacher_prompt(tok, it.question) for it, _ in chunk]
            ids, attn = pad_left(prompts, tok.pad_token_id, device_of(model))
            with torch.no_grad():
                gen = model.generate(input_ids=ids, attention_mask=attn, do_sample=cfg.temperature > 0,
                                     temperature=cfg.temperature if cfg.temperature > 0 else None,
                                     top_p=cfg.top_p, top_k=0, max_new_tokens=cfg.max_new_tokens,
                                     pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            for (it, k), row in zip(chunk, gen[:, ids.shape[1]:].tolist()):
                finished = tok.eos_token_id in row
                row = row[:row.index(tok.eos_token_id)] if finished else row
                text = tok.decode(row, skip_special_tokens=False).replace(tok.pad_token, "")
                v = _verdict(text, len(row), finished, it, cfg)
                counts[v] = counts.get(v, 0) + 1
                rec = {"id": f"{it.id}#{k}", "question": it.question, "response": text.strip(),
                       "gold": it.gold, "n_tokens": len(row), "teacher": cfg.teacher}
                if v != "ok":
                    rec["rejected"] = v
                (f_ok if v == "ok" else f_bad).write(json.dumps(rec) + "\n")
            f_ok.flush()
            f_bad.flush()
            bar.update(task, advance=len(chunk), info=f"kept {counts.get('ok', 0)}")
    return counts


def traces_recipe(recipe: str = "vold", overrides: list[str] | None = None) -> Path:
    """`vold traces`: the recipe's traces section alone, written to traces.out or
    results/traces/<recipe>.jsonl."""
    r = load_recipe(recipe, overrides)
    if r.threads > 0:
        torch.set_num_threads(r.threads)
    out = Path(r.traces.out or f"results/traces/{r.name}-s{r.seed}.jsonl")
    counts = write_traces(r.traces, out)
    print(f"traces -> {out}: {counts}")
    return out
