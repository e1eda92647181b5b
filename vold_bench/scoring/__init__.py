"""All answer extraction and grading in vold: evaluation and the RL reward use this module.

    score(response, item, scorer="default", compat=False) -> Score
    reward(response, item) -> 1.0 | 0.0
    scorer_version(name) -> str         (written into every results.json)

Deterministic and rule-based: reasoning (<think>...</think>) is stripped, an unclosed block
scores 0 as "truncated"; multiple choice is read from the LAST explicit anchor and restricted
to the item's labels, never guessing; free-form answers are reduced to a short answer before
any numeric or symbolic check (math-verify, time-limited). Model output is never executed.

Layout: extract.py (response -> short answer), options.py (option texts and label tokens in
a segment, option_match), listing.py (echoed option lists), choice.py (the multiple-choice
parser, a table of named rules), commit.py (does the response commit to one answer), prose.py
and statements.py (last-resort prose readings), grade.py (short answer vs gold),
numeric.py (safe number/LaTeX evaluator), mathcheck.py (math-verify in a killable worker),
compat.py (the official MATH-V and MMMU-Pro scorers, for compat=True).
"""
from __future__ import annotations

from collections.abc import Callable

from vold_bench.errors import VoldError
from vold_bench.schema import Item, Score
from vold_bench.scoring.choice import extract_choice
from vold_bench.scoring.compat import mathv_extract, mathv_is_equal, mmmu_pro_parse
from vold_bench.scoring.extract import boxed_all, extract_free, final_number, strip_reasoning
from vold_bench.scoring.grade import grade_math, grade_number, grade_text, normalize, number_value
from vold_bench.scoring.numeric import strip_thousands, to_float

# Bump a scorer's version on ANY change of its behaviour: results.json records it, and
# `vold compare` refuses to rank runs scored by different versions side by side.
_CORE = "1"
# .1: echoed option lists, walks through every option and rejected/conditional labels choose
# nothing; "BFalse", "... is A." openings, "is option B", "the conclusion is that <option>";
# free form: the only bold number; "the other choices are" is no anchor
# .2: last-resort prose readings of multiple choice (prose.py: "3B", "A is the most stable",
# a stated option value, a misspelt option ending the response, "The answer is A regions.");
# a bare first-line label contradicting the final answer makes two answers
# .3: issue 13 (docs/scoring.md, "Scorer 1.3"): image refusals, echoed label runs, invented
# follow-up questions cut off, an option in other words, more letter wordings, number words,
# two committed answers (hedges, another option's stated value), yes/no statements,
# abstaining final statements, hyphen-insensitive option text, options named in passing
SCORER_VERSIONS = {
    "default": f"{_CORE}.3",
    "mathvista": f"{_CORE}.3",
    "mathvision": f"{_CORE}.3",
    "logicvista": f"{_CORE}.3",
    "mmmu_pro": f"{_CORE}.3",
    "geo3k": f"{_CORE}.3",     # geo3k-mc goes through the multiple-choice parser
    "toy": f"{_CORE}.0",    # boxed integers only: untouched by the choice extractor
}
_COMPAT = {"mathvision": "mathv-a1f5cc3", "mmmu_pro": "mmmu-pro-bb0b95a-seed42"}


def _labels(item: Item) -> list[str]:
    if item.labels:
        return list(item.labels)
    n = len(item.options) or 4
    return [chr(ord("A") + i) for i in range(n)]


def _options(item: Item) -> list[str]:
    # MMMU-Pro vision keeps its options out of the prompt, but a model may still write them
    return list(item.options or item.meta.get("hidden_options") or [])


def _gold_labels(item: Item, labels: list[str], options: list[str]) -> list[str]:
    """Gold as labels. For single choice, every label whose option text equals the gold
    option's text counts (MathVista has items listing the same value twice)."""
    gold = item.gold.strip()
    if gold not in labels and gold in options:   # a gold given as option text
        gold = labels[options.index(gold)]
    if gold in labels:
        if len(options) == len(labels):
            text = options[labels.index(gold)].strip()
            return [lab for lab, o in zip(labels, options) if o.strip() == text]
        return [gold]
    return [g.strip() for g in gold.split(",") if g.strip()]


def _grade_choice(body: str, item: Item) -> Score:
    labels, options = _labels(item), _options(item)
    multi = item.answer_type == "multi_choice"
    # the question only guards the prose readings (what it asks, which values it gives);
    # MMMU-Pro vision keeps it out of the prompt but a model still reads it in the image
    question = item.question or str(item.meta.get("hidden_question") or "")
    got, rule = extract_choice(body, labels, options, multi=multi, question=question)
    if not got:
        return Score(None, item.gold, False, "no_answer", rule)
    gold = _gold_labels(item, labels, options)
    if multi:
        # "E ... Answer: C" is two contradicting answers, not the set {C, E}
        correct = bool(gold) and set(got) == set(gold) and not rule.endswith("+conflict")
        return Score(", ".join(got), item.gold, correct, "ok", rule)
    if len(got) > 1:   # "Answer: A, E" on a single-answer item: not one answer, not correct
        return Score(", ".join(got), item.gold, False, "ok", rule + "+several")
    if rule.endswith("+conflict"):   # "So the answer is 4. ... The answer is (A) 5"
        return Score(got[0], item.gold, False, "ok", rule)
    return Score(got[0], item.gold, got[0] in gold, "ok", rule)


def _grade_free(body: str, item: Item) -> Score:
    at = item.answer_type
    short, rule = extract_free(body, numeric=at in ("integer", "float"))
    if short is None or not short.strip():
        return Score(None, item.gold, False, "no_answer", rule)
    if at in ("integer", "float") and number_value(short) is None:
        short = final_number(short) or short   # "? 2013", "There are 5 objects left"
    if at == "integer":
        ok = grade_number(short, item.gold, integer=True)
    elif at == "float":
        ok = grade_number(short, item.gold, precision=item.precision)
    elif at == "text":
        ok = grade_text(short, item.gold)
    else:
        ok = grade_math(short, item.gold)
    shown = normalize(short) or short.strip()
    if at in ("integer", "float"):
        shown = strip_thousands(shown)
    return Score(shown, item.gold, ok, "ok", rule)


def _prepare(response: str | None, item: Item) -> tuple[str | None, Score | None]:
    """(answer part of the response, or the early Score for empty/truncated ones)."""
    if response is None or not str(response).strip():
        return None, Score(None, item.gold, False, "empty", "empty")
    body, truncated = strip_reasoning(str(response))
    if truncated:
        return None, Score(None, item.gold, False, "truncated", "unclosed <think>")
    if not body.strip():
        return None, Score(None, item.gold, False, "no_answer", "nothing after </think>")
    return body, None


def _score_default(response: str | None, item: Item, compat: bool = False) -> Score:
    body, early = _prepare(response, item)
    if early is not None:
        return early
    if item.answer_type in ("choice", "multi_choice"):
        return _grade_choice(body, item)
    return _grade_free(body, item)


def _score_mathvision(response: str | None, item: Item, compat: bool = False) -> Score:
    if not compat:
        return _score_default(response, item)
    if response is None or not str(response).strip():
        return Score(None, item.gold, False, "empty", "compat:mathv")
    ans = mathv_extract(str(response))
    gold_value = item.options[ord(item.gold) - ord("A")] if item.options and len(item.gold) == 1 \
        and item.gold in _labels(item) else ""
    ok = mathv_is_equal(item.gold, ans) or mathv_is_equal(gold_value, ans)
    return Score(ans or None, item.gold, ok, "ok" if ans else "no_answer", "compat:mathv")


def _score_mmmu_pro(response: str | None, item: Item, compat: bool = False) -> Score:
    if not compat:
        return _score_default(response, item)
    text = "" if response is None else str(response)
    letter, guessed = mmmu_pro_parse(text, _labels(item), _options(item), item.id)
    return Score(letter, item.gold, letter == item.gold, "no_answer" if guessed else "ok",
                 "compat:mmmu-pro" + (" random" if guessed else ""))


def _last_boxed(response: str | None, item: Item) -> tuple[str, Score | None]:
    """Content of the last \\boxed{} for the scorers that accept nothing else (Geo3K free
    form, toy); a Score instead when the response is empty, truncated or has no box."""
    body, early = _prepare(response, item)
    if early is not None:
        return "", early
    boxes = boxed_all(body[-20_000:])
    if not boxes:
        return "", Score(None, item.gold, False, "no_answer", "no \\boxed{}")
    return boxes[-1][1], None


def _score_geo3k(response: str | None, item: Item, compat: bool = False) -> Score:
    """Geometry3K as the RL papers grade it (EasyR1/verl geo3k reward): only the content of
    the last \\boxed{} counts, compared by math equivalence. The 4-choice protocol
    (geo3k-mc, answer_type "choice") uses the common multiple-choice parser."""
    if item.answer_type in ("choice", "multi_choice"):
        return _score_default(response, item)
    short, early = _last_boxed(response, item)
    if early is not None:
        return early
    return Score(normalize(short) or short.strip(), item.gold, grade_math(short, item.gold), "ok", "boxed")


def _score_toy(response: str | None, item: Item, compat: bool = False) -> Score:
    """Toy world: the answer is an integer and must be in \\boxed{} (the format is taught)."""
    short, early = _last_boxed(response, item)
    if early is not None:
        return early
    short = normalize(short)
    pv, gv = to_float(short), to_float(item.gold)
    ok = pv is not None and gv is not None and pv == gv
    return Score(short, item.gold, ok, "ok", "boxed")


SCORERS: dict[str, Callable[..., Score]] = {
    "default": _score_default,
    "mathvista": _score_default,
    "mathvision": _score_mathvision,
    "logicvista": _score_default,
    "mmmu_pro": _score_mmmu_pro,
    "geo3k": _score_geo3k,
    "toy": _score_toy,
}
_ALIASES = {"mmmu-pro": "mmmu_pro", "geo3k-mc": "geo3k"}


def _resolve(scorer: str) -> str:
    name = _ALIASES.get(scorer, scorer)
    if name not in SCORERS:
        raise VoldError(f"unknown scorer {scorer!r}; known: {', '.join(sorted(SCORERS))}")
    return name


def scorer_version(scorer: str, compat: bool = False) -> str:
    name = _resolve(scorer)
    v = f"{name}-{SCORER_VERSIONS[name]}"
    return f"{v}+compat:{_COMPAT[name]}" if compat and name in _COMPAT else v


def score(response: str | None, item: Item, scorer: str = "default", compat: bool = False) -> Score:
    """Grade one response. Never raises on response content: an internal failure becomes
    parse_status "error" (counted by the harness), so one odd response cannot stop a run."""
    fn = SCORERS[_resolve(scorer)]
    try:
        return fn(response, item, compat)
    except Exception as e:  # noqa: BLE001 - untrusted text must not crash an eval or RL step
        return Score(None, item.gold, False, "error", f"{type(e).__name__}: {e}"[:200])


def reward(response: str, item: Item) -> float:
    """The RL reward: 1.0 if the response is correct under the item's scorer, else 0.0."""
    return 1.0 if score(response, item, item.meta.get("scorer", "default")).correct else 0.0


__all__ = ["SCORERS", "SCORER_VERSIONS", "score", "reward", "scorer_version", "normalize"]
