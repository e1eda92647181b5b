"""The paper's training data, fetched from the hub into the jsonl files recipes/paper/ read.

    python -m vold_train.paper_data data/paper            # all of it (needs the hub)
    python -m vold_train.paper_data data/paper --limit 1000

writes
    mot_prompts.jsonl          {id, question, gold}      trace prompts (Mixture-of-Thoughts, math)
    mot_r1_mismatched.jsonl    {id, question, response}  MoT's own DeepSeek-R1 traces: the
                                                         mismatched cold-start ablation's SFT data
    orz57k.jsonl               {id, question, gold}      RL problems (Open-Reasoner-Zero 57k)

The trainer reads plain jsonl (vold_train/data.py), so hub-specific field handling lives here,
once. Geo3K validation is an eval, not a training file: `vold eval --bench geo3k --split
validation --model <run>/rl/final`.

Choices: MoT's `math` config, keeping prompts whose reference solution ends in a \\boxed{}
answer (that answer becomes `gold`, so `traces.verify` can check the teacher); the paper says
only "Mixture-of-Thoughts prompts". Revisions are "main" until pinned: the hub is unreachable
from where this was written and we do not invent commit shas.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from vold_bench.errors import VoldError

SOURCES = {
    "mot": {"hub_id": "open-r1/Mixture-of-Thoughts", "config": "math", "split": "train", "revision": "main"},
    "orz": {"hub_id": "Open-Reasoner-Zero/orz_math_57k_collection", "config": None, "split": "train",
            "revision": "main"},
}


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...}, braces balanced (answers like \\frac{1}{2})."""
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j].strip() or None
    return None  # unbalanced: a truncated solution


def mot_records(row: dict, idx: int) -> tuple[dict | None, dict | None]:
    """MoT row {messages: [{role: user}, {role: assistant}], ...} -> (prompt, R1 trace) records."""
    msgs = row.get("messages") or []
    user = next((m.get("content") for m in msgs if m.get("role") == "user"), None)
    reply = next((m.get("content") for m in msgs if m.get("role") == "assistant"), None)
    if not user or not reply:
        return None, None
    gold = last_boxed(reply)
    if gold is None:
        return None, None
    rid = f"mot-{idx}"
    return ({"id": rid, "question": user, "gold": gold},
            {"id": rid, "question": user, "response": reply})


def orz_record(row: Any, idx: int) -> dict | None:
    """ORZ pair [{"from": "human", "value": q}, {"from": "assistant", "ground_truth": {"value": a}}],
    as in the project's orz_math_57k_collected.json; hub rows may carry it as columns "0"/"1"."""
    pair = row if isinstance(row, (list, tuple)) else [row.get("0"), row.get("1")] if "0" in row else None
    if pair is None:  # a flat schema
        q, a = row.get("question") or row.get("problem"), row.get("answer") or row.get("gold")
    else:
        human, assistant = (pair + [None, None])[:2]
        q = (human or {}).get("value")
        gt = (assistant or {}).get("ground_truth") or {}
        a = gt.get("value") if isinstance(gt, dict) else gt
    if not q or a is None or str(a).strip() == "":
        return None
    return {"id": f"orz-{idx}", "question": str(q), "gold": str(a).strip()}


def _write(path: Path, recs: Iterable[dict]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
            n += 1
    return n


def _load(key: str):
    import datasets

    s = SOURCES[key]
    try:
        return datasets.load_dataset(s["hub_id"], s["config"], split=s["split"], revision=s["revision"])
    except Exception as e:  # network, auth, schema: one line naming the dataset
        raise VoldError(f"could not load {s['hub_id']} ({s['config']}, {s['split']}@{s['revision']}): "
                        f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None


def prepare(out_dir: str | Path, limit: int | None = None) -> dict[str, int]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prompts, traces, skipped = [], [], {"mot": 0, "orz": 0}
    for i, row in enumerate(_load("mot")):
        if limit is not None and len(prompts) >= limit:
            break
        p, t = mot_records(row, i)
        if p is None:
            skipped["mot"] += 1
            continue
        prompts.append(p)
        traces.append(t)
    orz = []
    for i, row in enumerate(_load("orz")):
        if limit is not None and len(orz) >= limit:
            break
        r = orz_record(row, i)
        if r is None:
            skipped["orz"] += 1
        else:
            orz.append(r)
    counts = {"mot_prompts": _write(out / "mot_prompts.jsonl", prompts),
              "mot_r1_mismatched": _write(out / "mot_r1_mismatched.jsonl", traces),
              "orz57k": _write(out / "orz57k.jsonl", orz),
              "skipped_mot": skipped["mot"], "skipped_orz": skipped["orz"]}
    (out / "sources.json").write_text(json.dumps({"sources": SOURCES, "counts": counts}, indent=2))
    return counts


if __name__ == "__main__":
    args = sys.argv[1:]
    lim = int(args[args.index("--limit") + 1]) if "--limit" in args else None
    target = next((a for a in args if not a.startswith("--") and a != str(lim)), "data/paper")
    try:
        print(prepare(target, lim))
    except VoldError as e:
        sys.exit(f"error: {e}")
