"""Pure record -> Item converters, one per benchmark, in the upstream schemas.

The same functions serve the hub datasets and the local GitHub copies (their field names
agree), the dataset loaders (`vold_bench/data.py`) and the scoring-fidelity readers
(`vold_bench/published.py`). They never open files: image paths are joined, not read, so a
missing image is reported by whoever loads it.
"""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

from vold_bench.errors import VoldError
from vold_bench.schema import Item

LETTERS = string.ascii_uppercase


def _need(rec: dict, key: str, where: str) -> Any:
    if key not in rec or rec[key] is None:
        raise VoldError(f"{where}: record is missing key '{key}'")
    return rec[key]


def _images(rec: dict, image_root: str | Path | None, key: str = "image") -> list[Any]:
    img = rec.get(key)
    if img is None or img == "":
        return []
    if isinstance(img, str):  # a relative path in the GitHub release
        return [str(Path(image_root) / img) if image_root is not None else img]
    return [img]  # already a PIL image (hub datasets decode them)


# ---------------------------------------------------------------- MathVista


def mathvista_item(rec: dict, image_root: str | Path | None = None) -> Item:
    """MathVista testmini/test record. MC gold is the option *text*; we store its letter as
    `gold` and keep the text in meta["gold_text"], the scorer accepts either."""
    pid = str(_need(rec, "pid", "mathvista"))
    where = f"mathvista record {pid}"
    answer = str(rec.get("answer", ""))
    qtype = _need(rec, "question_type", where)
    md = rec.get("metadata") or {}
    meta = {
        "question_type": qtype,
        "answer_type_raw": rec.get("answer_type"),
        "category": md.get("category"),
        "task": md.get("task"),
        "context": md.get("context"),
        "grade": md.get("grade"),
        "source": md.get("source"),
        "language": md.get("language"),
        "skills": list(md.get("skills") or []),
    }
    # The hub rows carry a decoded PIL image; the GitHub release only a relative path.
    imgs = [rec["decoded_image"]] if rec.get("decoded_image") is not None else _images(rec, image_root)
    common = dict(id=pid, question=str(rec.get("question", "")), unit=rec.get("unit") or None,
                  images=imgs, official_prompt=rec.get("query"))
    if qtype == "multi_choice":
        options = [str(c) for c in (rec.get("choices") or [])]
        if not options:
            raise VoldError(f"{where}: multi_choice record has no 'choices'")
        labels = list(LETTERS[: len(options)])
        # The test split has no answers; testmini's answer is always one of the choices.
        gold = labels[options.index(answer)] if answer in options else ""
        meta["gold_text"] = answer
        return Item(gold=gold, answer_type="choice", options=options, labels=labels,
                    meta=meta, **common)
    at = rec.get("answer_type")
    if at == "float":
        prec = rec.get("precision")
        return Item(gold=answer, answer_type="float", precision=int(prec) if prec is not None else None,
                    meta=meta, **common)
    if at == "integer":
        return Item(gold=answer, answer_type="integer", meta=meta, **common)
    return Item(gold=answer, answer_type="text", meta=meta, **common)   # "list" answers


# ---------------------------------------------------------------- MathVision


def mathvision_item(rec: dict, image_root: str | Path | None = None) -> Item:
    """MATH-V record: `answer` is a letter when `options` is non-empty, else free-form LaTeX."""
    rid = str(_need(rec, "id", "mathvision"))
    where = f"mathvision record {rid}"
    answer = str(_need(rec, "answer", where)).strip()
    options = [str(o) for o in (rec.get("options") or [])]
    meta = {"subject": rec.get("subject"), "level": rec.get("level")}
    imgs = [rec["decoded_image"]] if rec.get("decoded_image") is not None else _images(rec, image_root)
    common = dict(id=rid, question=str(rec.get("question", "")), images=imgs, meta=meta)
    if options:
        labels = list(LETTERS[: len(options)])
        if answer not in labels:
            raise VoldError(f"{where}: answer {answer!r} is not one of the labels {labels}")
        return Item(gold=answer, answer_type="choice", options=options, labels=labels, **common)
    return Item(gold=answer, answer_type="math", **common)


# ---------------------------------------------------------------- LogicVista

# Label ranges start at A or 1 ("A-I", "options A to F", "1-5"); lists "A, B, C, or D".
_RANGE = re.compile(r"\b([A1])\s*(?:-|–|to|through)\s*([A-Z]|\d)\b")
_PAREN = re.compile(r"\(([A-Z])\)")
_LIST = re.compile(r"\bA\s*,\s*B(?:\s*,\s*[C-Z])*,?\s*(?:or|and)\s*([B-Z])\b")


def logicvista_labels(question: str, gold: str) -> list[str]:
    """Valid labels of a LogicVista question. The options live in the image, so the label
    range is read from the question ("A-I", "options A to F", "(A) ... (E)", "1-5"); at least
    A-D, and always every gold label."""
    top, digits = "D", 0
    parens = _PAREN.findall(question)
    for a, b in _RANGE.findall(question):
        # "(1-5)" next to "(A) 1 (B) 2 ..." names option texts, not labels
        if a == "1" and b.isdigit() and not parens:
            digits = max(digits, int(b))
        elif a == "A" and b.isalpha():
            top = max(top, b)
    for m in parens:
        top = max(top, m)
    for m in _LIST.findall(question):
        top = max(top, m)
    for g in (x.strip() for x in gold.split(",") if x.strip()):
        if g.isdigit():
            digits = max(digits, int(g))
        elif g.isalpha():
            top = max(top, g.upper())
    labels = list(LETTERS[: LETTERS.index(top) + 1])
    return labels + [str(i) for i in range(1, digits + 1)]


def _inline_options(question: str, labels: list[str]) -> list[str]:
    """'... (A) 4cm, (B) 6cm, (C) 8cm' -> option texts, when the question spells them out."""
    parts = re.split(r"\(([A-Z])\)", question)
    found = {parts[i]: parts[i + 1].strip(" ,.;\n") for i in range(1, len(parts) - 1, 2)}
    letters = [lab for lab in labels if lab.isalpha()]
    if len(found) >= 2 and all(found.get(lab) for lab in letters[: len(found)]):
        return [found[lab] for lab in letters if lab in found]
    return []


def logicvista_item(key: str, rec: dict, image_root: str | Path | None = None) -> Item:
    """LogicVista record keyed 'v1_0'...: answers are compared as sets of labels ("A, C")."""
    where = f"logicvista record {key}"
    question = str(_need(rec, "question", where))
    gold_raw = str(rec.get("answer", "")).strip()
    gold = ", ".join(sorted(g.strip().upper() for g in gold_raw.split(",") if g.strip()))
    labels = logicvista_labels(question, gold)
    meta = {
        "skill": list(rec.get("skill") or []),
        "broad_capability": list(rec.get("broad_capability") or []),
        "specific_capability": list(rec.get("specific_capability") or []),
        "gold_missing": not gold,   # one upstream record (v1_382) ships an empty answer
    }
    imgs = _images(rec, image_root, key="imagename")
    return Item(id=key, question=question, gold=gold, answer_type="multi_choice",
                options=_inline_options(question, labels), labels=labels, images=imgs, meta=meta)


# ---------------------------------------------------------------- MMMU-Pro


def _parse_options(raw: Any, where: str) -> list[str]:
    if isinstance(raw, list):
        return [str(o) for o in raw]
    try:   # the release stores a Python list literal as a string; literal_eval never executes
        val = ast.literal_eval(str(raw))
    except (ValueError, SyntaxError) as e:
        raise VoldError(f"{where}: 'options' is not a list literal ({e})") from None
    if not isinstance(val, (list, tuple)):
        raise VoldError(f"{where}: 'options' is not a list")
    if len(val) == 1 and isinstance(val[0], (list, tuple)):   # a few records nest the list once
        val = val[0]
    return [str(o) for o in val]


def mmmu_pro_item(rec: dict, setting: str = "standard10") -> Item:
    """MMMU-Pro record. setting: "standard10" (question + 10 options in text) or "vision"
    (question and options only inside the screenshot: they go to meta, never the prompt, but
    the scorer may still match option text the model writes out)."""
    rid = str(_need(rec, "id", "mmmu_pro"))
    where = f"mmmu_pro record {rid}"
    if setting not in ("standard10", "standard4", "vision"):
        raise VoldError(f"{where}: unknown MMMU-Pro setting {setting!r} (standard10, standard4, vision)")
    options = _parse_options(_need(rec, "options", where), where)
    labels = list(LETTERS[: len(options)])
    answer = str(_need(rec, "answer", where)).strip()
    if answer not in labels:
        raise VoldError(f"{where}: answer {answer!r} is not one of the labels {labels}")
    meta = {"subject": rec.get("subject"), "topic_difficulty": rec.get("topic_difficulty"),
            "img_type": rec.get("img_type"), "setting": setting}
    if setting == "vision":
        imgs = [rec["image"]] if rec.get("image") is not None else []
        meta.update(hidden_question=str(rec.get("question", "")), hidden_options=options)
        return Item(id=rid, question="", gold=answer, answer_type="choice", options=[],
                    labels=labels, images=imgs, meta=meta)
    imgs = [rec[f"image_{i}"] for i in range(1, 8) if rec.get(f"image_{i}") is not None]
    return Item(id=rid, question=str(rec.get("question", "")), gold=answer, answer_type="choice",
                options=options, labels=labels, images=imgs, meta=meta)


# ---------------------------------------------------------------- Geometry3K


def geo3k_item(rec: dict, idx: int | None = None) -> Item:
    """hiyouga/geometry3k record {problem, answer, images}: free-form answer, graded as the
    RL papers do (\\boxed{} + math-verify)."""
    rid = str(rec.get("id", idx if idx is not None else ""))
    where = f"geo3k record {rid}"
    problem = str(_need(rec, "problem", where))
    answer = str(_need(rec, "answer", where)).strip()
    imgs = list(rec.get("images") or [])
    return Item(id=rid, question=problem.replace("<image>", "").strip(), gold=answer,
                answer_type="math", images=imgs, meta={})


def geo3k_mc_item(rec: dict, idx: int | None = None) -> Item:
    """4-choice Geometry3K (the protocol lmms-eval uses): `choices` (or `options`) plus a
    letter or option-text `answer`."""
    rid = str(rec.get("id", idx if idx is not None else ""))
    where = f"geo3k-mc record {rid}"
    problem = str(rec.get("problem", rec.get("question", "")))
    options = [str(o) for o in (rec.get("choices") or rec.get("options") or [])]
    if not options:
        raise VoldError(f"{where}: record has no 'choices'")
    labels = list(LETTERS[: len(options)])
    answer = str(_need(rec, "answer", where)).strip()
    gold = answer if answer in labels else (labels[options.index(answer)] if answer in options else "")
    if not gold:
        raise VoldError(f"{where}: answer {answer!r} is neither a label nor an option")
    return Item(id=rid, question=problem.replace("<image>", "").strip(), gold=gold,
                answer_type="choice", options=options, labels=labels,
                images=list(rec.get("images") or []), meta={"gold_text": options[labels.index(gold)]})
