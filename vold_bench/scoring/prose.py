"""Last-resort readings of a multiple-choice response that states its answer only in prose
(scorer 1.2; docs/scoring.md, "Prose readings").

extract.py calls these only after every anchor and every explicit fallback came up empty.
A response with an answer slot ("Answer: 40", "\\boxed{67.5}") answered, if with no option:
only its last anchor is read again ("The answer is A regions."), its prose never. Each
reading is narrow on purpose: it fires on one shape of sentence and gives up on any
ambiguity (two candidate options mean no answer), because a wrong reading costs more than
an abstention.

`conflicting_lead` is the exception: it runs on an anchored answer and can only take a
reading away (a bare label opening the response against a different final answer).
"""
from __future__ import annotations

import difflib
import re

import vold_bench.scoring.statements as statements
from vold_bench.scoring.grade import number_value

# ------------------------------------------------------------------ "3B"

# A whole response of one digit glued to one letter: degenerate decoding ("3B", "4F") where
# the letter is the choice. Only read when labels are letters, else "3" may be a label too.
_GLUED = re.compile(r"\d([A-Z])\.?")


def glued_label(stripped: str, labels: list[str]) -> str | None:
    if any(lab.isdigit() for lab in labels):
        return None
    m = _GLUED.fullmatch(stripped)
    return m.group(1) if m and m.group(1) in labels else None


# ------------------------------------------------------------------ "A is the most stable"

# "Which parcel would be the most stable?": the superlative the question asks for. Only
# "the most/least X" and "the X-est" after "which" count, so the phrase names the property
# the answer must have, not any word of the question.
_ASKED = re.compile(r"\bwhich\b[^?.]{0,120}?\bthe\s+((?:most|least)\s+[a-z]{3,}|[a-z]{2,}est)\b", re.I)


def superlative_label(text: str, question: str, labels: list[str]) -> str | None:
    """The one label the response says has the asked superlative: "A is the most stable"
    or "the most stable is (A)". Two labels so named (a response comparing, then
    contradicting itself) give nothing."""
    m = _ASKED.search(question or "")
    if not m:
        return None
    # words are matched in any case, the label only as a capital (so "a is" is no label)
    phrase = r"(?i:" + r"\s+".join(map(re.escape, m.group(1).lower().split())) + ")"
    copula = r"(?i:is|would\s+be|will\s+be|seems\s+to\s+be|appears\s+to\s+be)"
    named = re.compile(
        # label then property: "A is the most stable", "(B) would be the fastest"
        rf"(?<![A-Za-z'’\\])\(?([A-Z])\)?\s+{copula}\s+(?i:the\s+)?{phrase}\b"
        # property then label: "the most stable is A." (the label ends the clause)
        rf"|(?i:\bthe\s+){phrase}(?:\s+[a-z]+)?\s+{copula}\s+(?i:option\s+|choice\s+)?\(?([A-Z])\)?"
        r"(?=\s*[.,;!]|\s*$)")
    said = {g for mm in named.finditer(text) for g in mm.groups() if g and g in labels}
    return said.pop() if len(said) == 1 else None


# ------------------------------------------------------------------ "$1,170,000" in a paragraph

_NUM = re.compile(r"(?<![\w.])[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w])")
# a response that rejects the options states none of the values it then mentions
_NONE_OF = re.compile(r"\bnone\s+of\s+the\s+(?:options|choices|answers|above|given)|\bnot\s+(?:one\s+of\s+)?"
                      r"(?:an?\s+|the\s+)?(?:options?|choices?)\b", re.I)
# a number next to an arithmetic operator (a unit word may sit between) is an operand
_OPERAND_AFTER = re.compile(r"\s*(?:[A-Za-z]+\s+)?(?:\\?\*|×|÷|/|\+|−|x\s|-\s)")
_OPERAND_BEFORE = re.compile(r"(?:\\?\*|×|÷|/|\+|−|\bx|\s-)\s*\$?$")


def _digits(s: str) -> int:
    return sum(c.isdigit() for c in s)


def stated_value(text: str, question: str, labels: list[str], options: list[str]) -> str | None:
    """The label of the single option whose value (3+ digits: "$1,170,000", "1,230") the
    response states somewhere. Small numbers are everywhere in prose (counts, steps), so
    only long values are distinctive enough; values the question itself gives (outside
    its option list) are the premise, not the answer."""
    if not options or _NONE_OF.search(text):
        return None
    vals = [(number_value(o), lab) for o, lab in zip(options, labels)]
    if any(v is None for v, _ in vals):   # only items whose options are all numbers
        return None
    stem = question or ""
    for o, lab in zip(options, labels):   # LogicVista and MathVista list "(A) 1,200" in the question
        stem = re.sub(rf"\(?\b{re.escape(lab)}\)?[.:]?\s*{re.escape(o.strip())}", " ", stem, count=1)
    given = {number_value(n) for n in _NUM.findall(stem)}
    said = set()
    for m in _NUM.finditer(text):
        n = m.group(0)
        # an operand ("1.02 million \* 1.011", "2 x 1,170") is a step of a computation, not a
        # stated result
        if _digits(n) < 3 or _OPERAND_AFTER.match(text, m.end()) or _OPERAND_BEFORE.search(text[:m.start()][-4:]):
            continue
        v = number_value(n)
        if v is None or v in given:
            continue
        said |= {lab for ov, lab in vals if ov == v and _digits(options[labels.index(lab)]) >= 3}
    return said.pop() if len(said) == 1 else None


# ------------------------------------------------------------------ "... called a capacitor."

_WORD = re.compile(r"[a-z0-9]+")


def _same_word(a: str, b: str) -> bool:
    # a plural, or a misspelling of a long word; short words one letter apart are other
    # words ("rides" is not "rises", "tree" is not "true")
    if a == b or a == b + "s" or b == a + "s":
        return True
    return min(len(a), len(b)) >= 6 and difflib.SequenceMatcher(None, a, b).ratio() >= 0.75


def fuzzy_final(last: str, labels: list[str], options: list[str]) -> str | None:
    """The label of the one option whose words end the final sentence up to misspellings
    ("... is called a capacitor." for `Capacitator`, "... the diodes." for `Diode`):
    word by word (each similar, ratio >= 0.75) and as a whole (ratio >= 0.85). Exact
    endings are read by extract.py already; a negated or listed ending is no choice."""
    if re.match(r"\s*\([A-Za-z]\)", last):   # "(U) 44.2%-64.6": a listing entry, not a conclusion
        return None
    words = _WORD.findall(last.lower())
    hits = set()
    for o, lab in zip(options, labels):
        ow = _WORD.findall(o.lower())
        if not ow or len(ow) > len(words) or sum(map(len, ow)) < 5:
            continue
        tail, head = words[len(words) - len(ow):], words[: len(words) - len(ow)]
        while head and head[-1] in ("a", "an", "the"):   # "is not a capacitor"
            head.pop()
        if head and head[-1] in ("not", "no", "nor", "or", "and", "between", "than"):
            continue
        if all(map(_same_word, tail, ow)) and \
                difflib.SequenceMatcher(None, " ".join(tail), " ".join(ow)).ratio() >= 0.85:
            hits.add(lab)
    return hits.pop() if len(hits) == 1 else None


# ------------------------------------------------------------------ "The answer is A regions."


def article_label(segment: str, labels: list[str], options: list[str]) -> str | None:
    """An anchor segment "A regions." / "A clockwise 60mm.": "A" before a lowercase word is
    read as the article, but an answer slot followed by "A <word>" that no option can
    explain as an article is the label A. Without option texts there is no telling."""
    if "A" not in labels or not options or any(re.match(r"\s*\(?A\b", o) for o in options):
        return None
    return "A" if re.match(r"[\s:*]*A\s+[a-z]", segment) else None


def read_prose(stripped: str, text: str, last: str, anchor: str | None, question: str,
               labels: list[str], options: list[str], conditional: bool = False) -> tuple[str | None, str]:
    """(label, rule) from the first prose reading that fires, else (None, "none").
    `anchor` is the clause after the response's last answer anchor, None when it has none."""
    if anchor is not None and conditional:   # "If ..., the answer would be E (Not possible)"
        lab = article_label(anchor, labels, options)
        return (lab, "anchor_article") if lab else (None, "none")
    if anchor is not None:
        return read_slot(anchor, question, labels, options)
    for rule, read in (("glued_label", lambda: glued_label(stripped, labels)),
                       ("superlative", lambda: superlative_label(text, question, labels)),
                       ("stated_value", lambda: stated_value(text, question, labels, options)),
                       ("fuzzy_final", lambda: fuzzy_final(last, labels, options)),
                       # scorer 1.3: statements (statements.py)
                       ("yes_no", lambda: statements.yes_no(last, question, labels, options)),
                       ("paraphrase", lambda: statements.paraphrase(last, labels, options))):
        lab = read()
        if lab:
            return lab, "prose_" + rule
    return None, "none"


def read_slot(clause: str, question: str, labels: list[str], options: list[str]) -> tuple[str | None, str]:
    """(label, rule) from the clause of an answer anchor no option rule could read: "A
    regions." (the article form), "The function is not convex." (a yes/no statement),
    "northern" / "slow" (an option in other words)."""
    lab = article_label(clause, labels, options)
    if lab:
        return lab, "anchor_article"
    lab = statements.yes_no(clause, question, labels, options)
    if lab:
        return lab, "anchor_yes_no"
    lab = statements.paraphrase(clause, labels, options, short=True)
    return (lab, "anchor_paraphrase") if lab else (None, "none")


# ------------------------------------------------------------------ "E\n\n... Answer: C"

_BARE_LINE = re.compile(r"\**\(?([A-Z]|\d{1,2})\)?[.:)]?\**")


def conflicting_lead(text: str, labels: list[str], got: list[str]) -> str | None:
    """A bare label alone on the first line that the final answer contradicts: the response
    gave two answers (often a label, then a hallucinated new question with its own
    "Answer:"). Returns that first label, which the caller adds to the answer."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    if len(lines) < 2:
        return None
    m = _BARE_LINE.fullmatch(lines[0])
    return m.group(1) if m and m.group(1) in labels and m.group(1) not in got else None
