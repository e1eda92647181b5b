"""Readers for ../shared/benchmarks/published/: real model responses with the official
per-item judgement, for measuring how far vold's scorer agrees with the benchmark authors.

Each reader yields `Published(item, response, official_correct, trusted, official_extracted)`.
"trusted" marks items whose official judgement can be relied on (issue 3):
- MathVista: GPT-4's extraction occurs verbatim in the response, as a token of its own, and
  is an option or a label (multiple choice) or a number (free form) (otherwise the official
  scorer maps refusals to the nearest option by edit distance and may call them correct);
- MMMU-Pro: the official letter actually stands in the response and the official parser did
  not reach its random fallback;
- MathVision, LogicVista: the official extraction is non-empty (LogicVista's extractor writes
  'zzzzz' for "no answer": that counts as empty).
"""
from __future__ import annotations

import ast
import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from vold_bench.errors import VoldError
from vold_bench.records import logicvista_item, mathvision_item, mathvista_item, mmmu_pro_item
from vold_bench.schema import Item
from vold_bench.scoring.compat import mmmu_pro_parse
from vold_bench.scoring.listing import enumerates_all
from vold_bench.scoring.numeric import to_float


@dataclass
class Published:
    item: Item
    response: str
    official_correct: bool
    trusted: bool
    official_extracted: str = ""
    source: str = ""    # the published file's stem, for the hand audit below


def shared_root() -> Path:
    """$VOLD_SHARED, else <repo>/../shared (the checkout sits beside it in CI)."""
    env = os.environ.get("VOLD_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared"


def _load_json(path: Path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise VoldError(f"{path}: file not found") from None
    except json.JSONDecodeError as e:
        raise VoldError(f"{path}: not valid JSON ({e})") from None


def _load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        raise VoldError(f"{path}: file not found")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise VoldError(f"{path}:{n}: not valid JSON ({e})") from None
    return out


# ------------------------------------------------------------------ MathVista


def read_mathvista(path: Path) -> Iterator[Published]:
    """output_<model>.json: {pid: record + response, extraction, prediction, true_false}."""
    for rec in _load_json(path).values():
        item = mathvista_item(rec)
        resp = str(rec.get("response") or "")
        ext = str(rec.get("extraction") or "").strip()
        # an MC extraction must be an option or a label, a free-form one a number
        valid = (ext in item.options or ext in item.labels) if item.options else to_float(ext) is not None
        occurs = bool(ext) and re.search(rf"(?<![A-Za-z0-9]){re.escape(ext)}(?![A-Za-z0-9])", resp) is not None
        yield Published(item, resp, bool(rec.get("true_false")), occurs and valid, ext)


# ------------------------------------------------------------------ MathVision


def read_mathvision(path: Path, bench_dir: Path) -> Iterator[Published]:
    """<model>.jsonl: {id, response, model_answer, correct}; items from test.jsonl by id."""
    items = {str(r["id"]): r for r in _load_jsonl(bench_dir / "test.jsonl")}
    for n, rec in enumerate(_load_jsonl(path), 1):
        rid = str(rec.get("id"))
        if rid not in items:
            raise VoldError(f"{path}:{n}: id {rid!r} is not in {bench_dir / 'test.jsonl'}")
        item = mathvision_item(items[rid], bench_dir)
        ext = str(rec.get("model_answer") or "").strip()
        yield Published(item, str(rec.get("response") or ""), bool(rec.get("correct")), bool(ext), ext)


# ------------------------------------------------------------------ LogicVista


def read_logicvista(path: Path, bench_dir: Path) -> Iterator[Published]:
    """<model>-accuracy-results.csv: id, '<model> answer raw' (the response), '<model> answer
    extracted' (GPT-4's letters, a Python list literal), 'match?'."""
    data = _load_json(bench_dir / "dataset.json")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise VoldError(f"{path}: no rows")
    raw_col = next((k for k in rows[0] if k.endswith("answer raw")), None)
    ext_col = next((k for k in rows[0] if k.endswith("answer extracted")), None)
    if raw_col is None or ext_col is None or "match?" not in rows[0]:
        raise VoldError(f"{path}: expected columns '<model> answer raw', '<model> answer extracted', 'match?'")
    for n, row in enumerate(rows, 2):
        key = row["id"]
        if key not in data:
            raise VoldError(f"{path}:{n}: id {key!r} is not in {bench_dir / 'dataset.json'}")
        item = logicvista_item(key, data[key], bench_dir / "images")
        try:
            ext = [str(x).strip() for x in ast.literal_eval(row[ext_col] or "[]")]
        except (ValueError, SyntaxError):
            ext = [row[ext_col]]
        ext = [x for x in ext if x and x != "zzzzz"]
        yield Published(item, row[raw_col] or "", row["match?"].strip() == "1", bool(ext), ", ".join(ext),
                        path.stem)


# ------------------------------------------------------------------ MMMU-Pro


def _letter_stands(letter: str, response: str) -> bool:
    return re.search(rf"(?<![A-Za-z]){re.escape(letter)}(?![A-Za-z])", response) is not None


def read_mmmu_pro(path: Path) -> Iterator[Published]:
    """gpt-4o_<setting>_<mode>.jsonl: the benchmark record plus response, pred_indexs, if_right.
    The setting (standard10 / vision) comes from the file name."""
    setting = "vision" if "vision" in path.name else "standard10"
    for rec in _load_jsonl(path):
        item = mmmu_pro_item(rec, setting)
        resp = rec.get("response")
        resp = resp if isinstance(resp, str) else ""   # the release has a few dict responses
        pred = str(rec.get("pred_indexs") or "")
        _, guessed = mmmu_pro_parse(resp, item.labels, item.meta.get("hidden_options") or item.options, item.id)
        trusted = bool(pred) and not guessed and _letter_stands(pred, resp)
        yield Published(item, resp, bool(rec.get("if_right")), trusted, pred)


# ------------------------------------------------------------------ all files


def published_files(root: Path | None = None) -> list[tuple[str, Path]]:
    """(benchmark, path) of every judged response file under <shared>/benchmarks/published."""
    pub = (root or shared_root()) / "benchmarks" / "published"
    if not pub.is_dir():
        raise VoldError(f"{pub}: folder not found (set VOLD_SHARED)")
    out = [("mathvista", p) for p in sorted((pub / "mathvista").glob("output_*.json"))]
    out += [("mathvision", p) for p in sorted((pub / "mathvision").glob("*.jsonl"))]
    out += [("logicvista", p) for p in sorted((pub / "logicvista").glob("*-accuracy-results.csv"))]
    out += [("mmmu_pro", p) for p in sorted((pub / "mmmu_pro").glob("*.jsonl"))]
    return out


def read_published(bench: str, path: Path, root: Path | None = None) -> list[Published]:
    bdir = (root or shared_root()) / "benchmarks" / bench
    if bench == "mathvista":
        return list(read_mathvista(path))
    if bench == "mathvision":
        return list(read_mathvision(path, bdir))
    if bench == "logicvista":
        return list(read_logicvista(path, bdir))
    if bench == "mmmu_pro":
        return list(read_mmmu_pro(path))
    raise VoldError(f"{path}: no published reader for benchmark {bench!r}")


# ------------------------------------------------------------------ disagreement audit

# Classes of disagreement between vold and the official judgement, each with who is right,
# as decided by reading the items (docs/scoring.md shows one real example per class).
# "vold": the official judgement is wrong; "official": vold's rules miss the answer;
# "unclear": the response does not settle it.
AUDIT_CLASSES = {
    "pronoun_or_article": ("official reads the pronoun 'I' / article 'A' as a label", "vold"),
    "refusal": ("a refusal or non-answer counted correct by the official scorer", "vold"),
    "echoed_choices": ("the response only echoes the option list; official picks a letter", "vold"),
    "option_value_written": ("the answer is the option's value/text (units, LaTeX, degrees)", "vold"),
    "label_in_markup": ("official garbles a label in markup: \\textbf{A}, '(D) 105', 'C)'", "vold"),
    "rounding_2dp": ("official equates values that agree only to 2 decimals", "vold"),
    "letter_from_expression": ("official takes a letter out of an expression ('x+y=a' -> a)", "vold"),
    "several_labels": ("the response names several options for a single-answer item", "vold"),
    "duplicate_option": ("two options have the same text; official accepts only one label", "vold"),
    "free_form_units": ("official keeps units/%/degrees/markup in a free-form answer", "vold"),
    "no_choice": ("the response picks no option (describes the image, says it is unclear); "
                  "official invents a letter", "vold"),
    # scorer 1.3 (issue 13; every changed verdict read by hand, docs/scoring.md)
    "invented_followup": ("the response answers, then invents a new question and answers it; official "
                          "reads the invented answer", "vold"),
    "two_answers": ("the response commits to two different answers (an earlier value, a hedge); "
                    "official takes one of them", "vold"),
    "semantic_prose": ("the answer is stated in prose only; GPT-4 reads it, rules abstain", "official"),
    "other": ("anything else (inspected by hand; see docs)", "unclear"),
}

_REFUSAL = re.compile(r"\b(?:I'm sorry|I am sorry|I can(?:no|')t|I cannot|unable to (?:determine|"
                      r"answer|identify)|as an AI)\b", re.I)


def _num(s: str) -> float | None:
    from vold_bench.scoring.grade import number_value
    return number_value(s) if s else None


# Items read one by one whose class no rule can tell (docs/scoring.md, LogicVista audit):
# (benchmark, file stem, item id) -> class.
HAND_AUDIT = {
    # "There are three balls on a table ... It's not clear which ball will reach the floor
    # first": no option chosen; official reads (C) "if equal, mark C"
    ("logicvista", "miniGPTvicuna7B-accuracy-results", "v1_154"): "no_choice",
    # describes bags A, B, C and a silo; never says which granary holds more
    ("logicvista", "miniGPTvicuna7B-accuracy-results", "v1_156"): "no_choice",
    # "3\n\n(B) Figure belongs to set B\n\n(C) Figure does not belong to either set A or B"
    ("logicvista", "miniGPTvicuna7B-accuracy-results", "v1_84"): "several_labels",
}


def classify_disagreement(bench: str, pub: Published, ours) -> str:
    """Class name (a key of AUDIT_CLASSES) of one item where vold and the official differ."""
    off, resp = pub.official_extracted.strip(), pub.response
    item, ext = pub.item, (ours.extracted or "")
    hand = HAND_AUDIT.get((bench, pub.source, item.id))
    if hand:
        return hand
    if "+followup_cut" in ours.detail:
        return "invented_followup"
    if ours.detail.endswith("+several"):
        return "several_labels"
    if ours.detail.endswith("+conflict"):
        return "two_answers"
    opts = item.options or item.meta.get("hidden_options") or []
    if ours.correct and ext in item.labels and item.gold in item.labels and ext != item.gold \
            and len(opts) == len(item.labels) and opts[item.labels.index(ext)] == opts[item.labels.index(item.gold)]:
        return "duplicate_option"
    if pub.official_correct and off in ("I", "A") and ours.extracted is None and _REFUSAL.search(resp):
        return "pronoun_or_article"
    if pub.official_correct and _REFUSAL.search(resp[:200]) and ours.parse_status != "ok":
        return "refusal"
    if pub.official_correct and ours.parse_status != "ok" and (
            len(set(re.findall(r"\(([A-Z])\)", resp))) >= 4 or ours.detail in ("echo", "enumerated")
            or enumerates_all(resp, list(item.labels), list(item.options))):
        return "echoed_choices"
    if bench == "mathvision":
        gold_vals = [item.gold] + ([item.options[ord(item.gold) - 65]] if item.options else [])
        if pub.official_correct and not ours.correct:
            if len(off) == 1 and off.isalpha() and ext.upper() not in item.labels:
                return "letter_from_expression"
            pv = _num(ext) if ext not in item.labels else _num(item.options[item.labels.index(ext)])
            pv = _num(off) if pv is None else pv
            for g in gold_vals:
                gv = _num(g)
                if pv is not None and gv is not None and pv != gv and round(pv, 2) == round(gv, 2):
                    return "rounding_2dp"
        if ours.correct and not pub.official_correct:
            lab = ext if ext in item.labels else ""
            if lab and len(off) > 1 and (off[:1] == lab.lower() or re.fullmatch(rf"(?:bf|\()?{lab.lower()}\)?", off)):
                return "label_in_markup"
            if lab and ("option" in ours.detail or off.lower() not in {x.lower() for x in item.labels}):
                return "option_value_written"
            from vold_bench.scoring.grade import normalize
            if not item.options and _num(ext) is not None and (_num(off) is None or normalize(off) != off):
                return "free_form_units"
    if ours.parse_status != "ok" and pub.official_correct:
        return "semantic_prose"
    return "other"
