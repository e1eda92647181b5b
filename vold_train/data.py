"""Training data: text problems with gold answers (RL, trace prompts) and SFT trace records.

Sources are names: "toy" (the embedded toy world) or a local .jsonl file. A bad jsonl record
is skipped and counted, never silently dropped; a missing file is a VoldError at start-up.
"""
from __future__ import annotations

import json
from pathlib import Path

from vold_bench.errors import VoldError
from vold_bench.schema import Item


def read_jsonl(path: Path, required: tuple[str, ...]) -> tuple[list[dict], int]:
    """Records that have every `required` key, and how many lines were unusable."""
    if not path.exists():
        raise VoldError(f"data file {path} not found")
    out, bad = [], 0
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError:
            bad += 1
            continue
        if not isinstance(rec, dict) or any(not isinstance(rec.get(k), str) or not rec.get(k) for k in required):
            bad += 1
            continue
        rec.setdefault("id", f"{path.stem}-{n}")
        out.append(rec)
    if not out:
        raise VoldError(f"{path}: no usable records (each needs string keys {', '.join(required)})")
    return out, bad


def pooled(items: list, n: int, seed: int) -> list:
    """`n` picks from a fixed pool, one whole pass (epoch) after another, each pass in a new
    seeded order, so every problem comes back once per epoch."""
    import random

    out, epoch = [], 0
    while len(out) < n:
        order = list(range(len(items)))
        random.Random(f"pool:{seed}:{epoch}").shuffle(order)
        out += [items[i] for i in order]
        epoch += 1
    return out[:n]


def load_problems(source: str, split: str, n: int, seed: int, pool: int = 0, form: str = "text") -> list[Item]:
    """`n` text problems (question + gold) in training order; the same seed gives the same list.

    Toy: pool=0 (the default) is the world's seeded train stream. It never asks a test problem,
    and most of its problems are new, but not all: cells with few problems outside the test set
    (rect: 64 width-height pairs per level; cards L1) come back again and again, so 42-46% of the
    prompts of a 1,920-prompt run ask a question it asked before (logged per step as
    prompt_revisit_frac; docs/toy-world.md, "Stop 27"). pool=N revisits N problems each epoch
    (toy-v2 needed one: its student could not learn from a stream, and its rising reward on a
    pool of 64 was indistinguishable from memorisation). form="image": the same problems, in
    the same order, as pictures (VA-OPD's teacher reads them); toy only."""
    if form != "text" and source != "toy":
        raise VoldError(f"{source}: problems in {form} form exist for the toy world only")
    if source == "toy":
        from vold_bench.toy.world import toy_problems

        items = toy_problems(split, n=pool or n, seed=seed, form=form)
        if pool:
            items = pooled(items, n, seed)
        for it in items:  # the reward grades as `vold eval --bench toy` does (boxed integer)
            it.meta.setdefault("scorer", "toy")
        return items
    recs, bad = read_jsonl(Path(source), ("question", "gold"))
    if bad:
        print(f"{source}: skipped {bad} malformed records")
    import random

    order = list(range(len(recs)))
    random.Random(seed).shuffle(order)
    items = []
    for i in range(n):  # cycle through the file when more problems are asked for than it holds
        r = recs[order[i % len(recs)]]
        items.append(Item(id=str(r["id"]), question=r["question"], gold=r["gold"],
                          answer_type=r.get("answer_type", "math"), meta={"source": source}))
    return items


def load_sft_records(source: str, run_dir: Path, n: int, seed: int) -> list[dict]:
    """SFT examples {id, question, response}. "traces": this run's traces.jsonl;
    "toy:teacher" / "toy:mismatched": the toy world's trace corpora; else a jsonl path."""
    if source.startswith("toy:"):
        from vold_bench.toy.world import toy_traces

        style = source.split(":", 1)[1]
        if style not in ("teacher", "mismatched"):
            raise VoldError(f"sft.data {source!r}: valid toy corpora are toy:teacher, toy:mismatched")
        return toy_traces("train", style=style, n=n or 2000, seed=seed + 1000)
    path = run_dir / "traces.jsonl" if source == "traces" else Path(source)
    recs, bad = read_jsonl(path, ("question", "response"))
    if bad:
        print(f"{path}: skipped {bad} malformed records")
    return recs[:n] if n else recs
