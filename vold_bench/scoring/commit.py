"""Does the response commit to one answer? (scorer 1.3; docs/scoring.md, "Commitment").

Readings elsewhere find a label or a value; these checks decide whether it was chosen:
a refusal that mentions the image, an echoed run of labels, a follow-up question the model
invented and answered itself, two committed answers that contradict each other, a final
statement that declines to answer. Each returns the narrowest verdict it can justify and
otherwise stays out of the way (None / the text unchanged).
"""
from __future__ import annotations

import re

from vold_bench.scoring.grade import number_value

# ------------------------------------------------------------------ 1. refusals

# "As a text-based AI model, I'm unable to see the image": the opening sentence declines.
# The object must be the image (or the question's figure); "I can't see the hidden face
# in the figure, but ..." is reasoning, not a refusal.
_IMAGE = (r"(?:the\s+|this\s+|that\s+|an\s+|any\s+|your\s+|images?\s+or\s+)?"
          r"(?:images?|pictures?|figures?|diagrams?|graphs?|charts?|photos?|visual\s+content)\b(?!\s+(?:shows|has|in\b))")
_REFUSAL_OPENING = re.compile(
    r"\bas\s+an?\s+(?:[\w-]+\s+){0,3}(?:AI|language\s+model|assistant)\b"
    r"|\b(?:unable|not\s+able|can(?:no|['’])t|cannot|(?:do\s+not|don['’]t)\s+have\s+(?:the\s+)?(?:ability|access))\s+"
    r"(?:to\s+)?(?:directly\s+)?(?:see|view|access|display|analy[sz]e|interpret|process|look\s+at)\s+" + _IMAGE,
    re.I)


def refuses(stripped: str) -> bool:
    """The opening sentence (its first 300 characters) declines to look at the image."""
    head = re.split(r"(?<=[.!?])\s+|\n", stripped[:300], maxsplit=1)[0]
    return _REFUSAL_OPENING.search(head) is not None


# ------------------------------------------------------------------ 2. echoed label runs

_RUN = re.compile(r"[\s(]*([A-Z])[\s.,;:/\-–)]*")


def label_run(stripped: str, labels: list[str], multi: bool) -> bool:
    """The whole response is three or more labels in their own order and nothing else:
    "A-B-C-D-E", "A) B) C) D)", "(A) (B) (C)". That restates the choices. On a
    multiple-answer item "A, B, C" may be the answer: there only dashes, bare brackets or
    the complete label set make a run an echo."""
    if len(stripped) > 80:
        return False
    toks = []
    pos = 0
    while pos < len(stripped):
        m = _RUN.match(stripped, pos)
        if not m or m.end() == pos:
            return False
        toks.append(m.group(1))
        pos = m.end()
    if len(toks) < 3 or any(t not in labels for t in toks):
        return False
    idx = [labels.index(t) for t in toks]
    if any(b != a + 1 for a, b in zip(idx, idx[1:])):
        return False
    if not multi:
        return True
    return len(toks) == len(labels) or re.search(r"[-–)]", stripped) is not None


_BULLET_LINE = re.compile(r"^\s*\(?([A-Z])\)?[.):]\s+\S")
_BARE_LABEL_LINE = re.compile(r"^\s*\(?([A-Z])\)?[.):]?\s*$")


def cut_enumeration(stripped: str, labels: list[str]) -> bool:
    """The response ends in the middle of listing the options: "A) 12\\nB) 15\\nC) 18\\nD)".
    Its last line is a label without text that continues the bullets right above it (no
    blank line between): the next entry of the list, not a chosen answer."""
    lines = stripped.splitlines()
    if len(lines) < 3:
        return False
    m = _BARE_LABEL_LINE.match(lines[-1])
    if not m or m.group(1) not in labels:
        return False
    i = labels.index(m.group(1))
    prev = [_BULLET_LINE.match(ln) for ln in lines[-3:-1]]
    return i >= 2 and all(prev) and [p.group(1) for p in prev] == labels[i - 2: i]


# ------------------------------------------------------------------ 3. invented follow-ups

# A new turn the model writes itself: "Question: ...", "Q2:", "Human:", "### Instruction".
_FOLLOWUP = re.compile(r"\n[ \t]*(?:#+[ \t]*)?(?:\*\*)?(?:(?:next|new|another|follow-up)\s+)?"
                       r"(?:question|q|human|user|instruction|problem|exercise)[ \t]*\d*[ \t]*(?:\*\*)?[ \t]*[:：]",
                       re.I)


def followup_cut(text: str) -> int | None:
    """Where an invented follow-up turn starts (the first one after some answer text), or
    None. The caller keeps the head only when the head commits to an answer itself."""
    m = _FOLLOWUP.search(text)
    return m.start() if m and text[: m.start()].strip() else None


def _words(s: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", s.lower()))


def repeats_question(text: str, cut: int, question: str) -> bool:
    """The "Question:" at `cut` restates the item's own question (or one the head already
    quoted): the model answers the same question again, which is not an invented one."""
    line = text[cut:].lstrip().split("\n", 1)[0]
    line = _words(line.split(":", 1)[-1] if ":" in line else line.split("：", 1)[-1])
    words = " ".join(line.split()[:8])
    return bool(words) and (words in _words(text[:cut]) or words in _words(question))


# ------------------------------------------------------------------ 7. two committed answers

# "Both (C) and (G) can be considered correct", "either B or D is right"
_HEDGE = re.compile(
    r"\b(?i:both|either)\s+(?:options?\s+|choices?\s+)?\(?([A-Z])\)?\s+(?:and|or)\s+(?:options?\s+|choices?\s+)?"
    r"\(?([A-Z])\)?\s+(?:(?:can|could|may|might|would)\s+(?:both\s+)?be\s+(?:considered\s+|seen\s+as\s+)?"
    r"|(?:are|is)\s+(?:both\s+)?|seem\s+)(?:correct|valid|right|acceptable|reasonable|plausible)\b")
_REJECTS = (r"\s*\)?\s*(?:is|was|would\s+be)\s+(?:wrong|incorrect|not\s+(?:correct|right|valid))"
            r"|\s*\)?\s*(?:fails|is\s+ruled\s+out)")


def hedge_conflict(text: str, got: list[str], labels: list[str]) -> str | None:
    """The other label of a hedge "both X and Y are correct" that ends in one of them;
    None when there is no such hedge or the response then rejects the other one."""
    if len(got) != 1:
        return None
    for m in _HEDGE.finditer(text[-1500:]):
        pair = {m.group(1), m.group(2)}
        if got[0] in pair and len(pair) == 2 and pair <= set(labels):
            other = (pair - set(got)).pop()
            after = text[-1500:][m.end():]
            if re.search(rf"\(?\b{other}\b(?:{_REJECTS})", after):
                return None   # "... but (C) ignores friction, so (C) is wrong"
            return other
    return None


_NUMBER = re.compile(r"(?<![\w.^{])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w.]*\d)")
_STATED_NUM = re.compile(r"(?:\b(?:is|are|was|equals?|measures?|be)\b|=)\s*(?:about\s+|approximately\s+|exactly\s+|\$)?"
                         r"([-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(?![\d.,]*\d)", re.I)
# a stated value ends its sentence: only units or degree signs may follow ("180 degrees.")
_ENDS = re.compile(r"(?:\s*(?:\^\s*\{?\\circ\}?|°|%)|\s+[A-Za-z]+){0,4}\s*(?:[.!?;]|\n|$)")
_MAPPED = re.compile(r"\b(?:closest|nearest|approximately|round(?:ed|s|ing)?|rounding|close\s+to|"
                     r"wait|however|actually|mistake|recheck|re-check|re-?evaluat\w*|instead|correction)\b", re.I)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _option_values(label: str, labels: list[str], options: list[str]) -> tuple[list, float | None]:
    if not options or label not in labels or labels.index(label) >= len(options):
        return [], None
    if number_value(options[labels.index(label)]) is None:
        return [], None   # the common case, text options: no value to compare (and no cost)
    vals = [number_value(o) for o in options]
    if any(v is None for v in vals):   # only items whose options are all values
        return [], None
    return vals, vals[labels.index(label)]


def value_conflict(before: str, label: str, labels: list[str], options: list[str]) -> str | None:
    """The option whose value the sentence before a final label states, when that is not
    the label's own value: "angle CDE is 180 degrees. The answer is C" with C = 150 and
    D = 180 gives D. `before` is that sentence (and the one before it). None when the
    values agree, when the chosen value is stated too, when the response maps its value to
    an option on purpose ("the closest option"), or when the value is no option's."""
    if _MAPPED.search(before):
        return None
    # the value a sentence ends on ("angle CDE is 180 degrees."); a value followed by more
    # numbers or maths ("the denominator is 2, so ... \\frac{1}{2}") is a step
    stated = [m for m in _STATED_NUM.finditer(before) if _ENDS.match(before, m.end())]
    if not stated:
        return None
    vals, chosen = _option_values(label, labels, options)
    if chosen is None:
        return None
    v = number_value(stated[-1].group(1).replace("−", "-"))
    if v is None or _same(v, chosen):
        return None
    if any(_same(number_value(n) or float("nan"), chosen) for n in _NUMBER.findall(before)):
        return None   # the chosen value is said too: a step, not a contradiction
    others = [lab for lab, ov in zip(labels, vals) if _same(ov, v)]
    return others[0] if len(others) == 1 else None


def answer_conflict(earlier: str, between: str, label: str, labels: list[str],
                    options: list[str]) -> str | None:
    """An earlier answer anchor that committed to a plain value ("So the answer is 4.")
    which is not the finally chosen option's value ("The correct answer is (A) 5"): the
    option with that value, else "?" (a value no option has). None after a revision
    ("wait", "however", "the closest option") or when the values agree."""
    v = number_value(earlier) if earlier and len(earlier) <= 40 else None
    if v is None:
        return None
    vals, chosen = _option_values(label, labels, options)
    if chosen is None or _same(v, chosen) or _MAPPED.search(between):
        return None
    others = [lab for lab, ov in zip(labels, vals) if _same(ov, v)]
    return others[0] if len(others) == 1 else "?"


# ------------------------------------------------------------------ 9. declining to answer

# "... so it cannot be determined", "there is not enough information to find x"
ABSTAINS = re.compile(r"\b(?:cannot|can\s*not|can['’]t|could\s+not|couldn['’]t|unable\s+to|impossible\s+to|"
                      r"not\s+possible\s+to)\s+(?:be\s+)?(?:determined?|tell|say|calculated?|found|find|"
                      r"answer(?:ed)?|conclude[d]?|know)\b|\b(?:not\s+enough|insufficient)\s+information\b",
                      re.I)
# "none of the options A, B, C, D", "none of the given choices matches"
NONE_OF = re.compile(r"\bnone\s+of\s+the\s+(?:\w+\s+)?(?:options|choices|answers|answer\s+choices)\b"
                     r"(?![^.\n]{0,40}\b(?:except|other\s+than|but|besides)\b)", re.I)
