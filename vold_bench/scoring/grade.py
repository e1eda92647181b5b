"""Grading a SHORT answer against the gold one: normalisation, numbers, math expressions.

Order of checks for free-form answers: normalised string equality, then numeric value
(with the benchmark's precision for floats), then math-verify under a time limit for
symbolic expressions that have no numeric value (`x^2+1`, intervals).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from vold_bench.scoring.mathcheck import math_equivalent
from vold_bench.scoring.numeric import close, decimals, evaluate, to_float

# Units stripped from the end of an answer. One-letter units need a space before them so
# that "2a" or "3x" keep their variable.
_UNIT_LONG = (r"(?:(?:square|sq\.?|cubic)\s*)?(?:cm|mm|km|kg|mg|sec|seconds?|minutes?|min|hours?|days?|"
              r"weeks?|months?|years?|degrees?|deg|radians?|rad|units?|meters?|metres?|centimeters?|"
              r"centimetres?|inch(?:es)?|feet|foot|ft|miles?|mph|dollars?|cents?|points?|times|people|"
              r"persons|students|pieces|ways|liters?|ml|hz|kpa|°c|°f|°)")
_UNIT_SHORT = r"(?:m|g|s|h|l|n|j|w|v|pa)"
_UNIT_WORDS = rf"(?:{_UNIT_LONG}|{_UNIT_SHORT})"
_TRAIL_UNIT = re.compile(rf"(?:(?:\s*~?\s*{_UNIT_LONG}|(?:\s+|~){_UNIT_SHORT})"
                         rf"(?:\s*\^?\s*\{{?[23]\}}?|²|³)?\.?)+\s*$", re.I)
_TEXT_CMD = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")


@lru_cache(maxsize=8192)
def normalize(s: str) -> str:
    """LaTeX/markdown-light form of a short answer: no $, no \\text, no units or degree signs,
    the right-hand side of a final '=' or '\\approx'."""
    s = unicodedata.normalize("NFKC", s[:500]).strip()
    s = s.replace("\\$", "").replace("$", "").replace("**", "")
    s = re.sub(r"\\[()\[\]]", "", s)
    for _ in range(3):   # nested \text{\mathrm{..}}
        s = _TEXT_CMD.sub(r"\1", s)
    s = re.sub(r"\\(?:left|right|displaystyle|,|;|!|quad)", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree", "", s)
    s = s.replace("\\%", "").replace("%", "")
    for sep in ("=", "\\approx", "≈"):
        if sep in s:
            s = s.split(sep)[-1]
    s = s.strip().rstrip(".").strip()
    s = _TRAIL_UNIT.sub("", s).strip() if not re.fullmatch(_UNIT_WORDS, s, re.I) else s
    return s.strip(" ,;:")


def _flat(s: str) -> str:
    return re.sub(r"\s+", "", s).lower()


_LEAD_NUM = re.compile(r"^\s*([-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|[-+−]?\.\d+)(?:\s+[A-Za-z][\w\s]*)?$")


@lru_cache(maxsize=8192)
def number_value(pred: str) -> float | None:
    """Numeric value of a short answer: a plain number, a small LaTeX expression, or a
    number followed only by words ("12 apples")."""
    n = normalize(pred)
    v = to_float(n)
    if v is None:
        v = evaluate(n)
    if v is None:
        m = _LEAD_NUM.match(n)
        if m:
            v = to_float(m.group(1))
    return v


def grade_number(pred: str, gold: str, precision: int | None = None,
                 integer: bool = False) -> bool:
    pv, gv = number_value(pred), number_value(gold)
    if pv is None or gv is None:
        return False
    if integer:
        return close(pv, gv, 1e-9)
    if precision is not None:
        return round(pv, precision) == round(gv, precision) or close(pv, gv, 1e-9)
    return close(pv, gv, 1e-6)


def grade_text(pred: str, gold: str) -> bool:
    return _flat(normalize(pred)) == _flat(normalize(gold))


def grade_math(pred: str, gold: str, symbolic: bool = True) -> bool:
    """Free-form math: string, then numeric (a rounded prediction counts when it shows at
    least 2 decimals and matches the gold value to that many), then math-verify."""
    p, g = normalize(pred), normalize(gold)
    if not p:
        return False
    if _flat(p) == _flat(g):
        return True
    gv, pv = evaluate(g) if to_float(g) is None else to_float(g), number_value(p)
    if gv is not None and pv is not None:
        if close(pv, gv, 1e-6):
            return True
        d = decimals(p) if to_float(p) is not None else 0
        return d >= 2 and round(gv, d) == pv
    if gv is not None and pv is None and re.search(r"[a-zA-Z]{2,}", re.sub(r"\\[a-zA-Z]+", "", p)):
        return False   # prose where a number was expected: not worth a symbolic check
    if not symbolic or _HUGE.search(p) or _HUGE.search(g):
        return False
    return bool(math_equivalent(g, p))


# Towers and long exponents would make sympy compute astronomically large integers: a model
# answer like 10^{10^{10}} is never checked symbolically (the worker would only time out).
_HUGE = re.compile(r"\^\s*\{[^{}]*\^|\^\s*\{?\s*\d{4,}|\*\*\s*\d{4,}|!\s*!")
