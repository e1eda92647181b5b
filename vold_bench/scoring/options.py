"""Option texts and labels in a segment of a response: markup-free forms of a segment
(`clean`, `norm_text`, `latex_key`), the labels standing in it as tokens (`label_tokens`) and
the option it states (`option_match`). Shared by extract.py, listing.py and choice.py."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from vold_bench.scoring.grade import number_value

_MARKUP = re.compile(r"\\(?:text|textbf|mathrm|mathbf|boxed|fbox|mbox|emph)\s*\{|\*\*|__|`|\$|\\[()\[\]]")


def clean(seg: str) -> str:
    seg = unicodedata.normalize("NFKC", seg)
    seg = _MARKUP.sub(" ", seg)
    return seg.replace("{", " ").replace("}", " ").strip()


# Words after a bare "A"/"I" that still make it a label ("A is correct"), not an article or
# the pronoun ("A clock", "I think").
_LABEL_FOLLOWERS = {"is", "and", "or", "fits", "matches", "corresponds", "completes",
                    "represents", "shows", "follows", "because", "since", "as", "seems", "appears"}
# a quote may close a label ("'Answer: A'"), an apostrophe before a letter makes a word ("A's")
_TOKEN = re.compile(r"(?<![A-Za-z0-9\\])(?<![A-Za-z]['’])(\()?([A-Z]|\d{1,2})(\))?(?![A-Za-z0-9]|['’][A-Za-z])")


def label_tokens(seg: str, labels: list[str]) -> list[tuple[int, str]]:
    """Labels standing as tokens in `seg` (position, label), skipping article/pronoun A, I."""
    out = []
    for m in _TOKEN.finditer(seg):
        lab = m.group(2)
        if lab not in labels:
            continue
        # a variable in an equation ("A = C", "x+y=a") is not a label
        if re.match(r"\s*[=+*/^<>]", seg[m.end(): m.end() + 4]) or \
                re.search(r"[=+*/^<>]\s*$", seg[max(0, m.start() - 4): m.start()]):
            continue
        if lab in ("A", "I") and not (m.group(1) and m.group(3)):
            nxt = re.match(r"\s+([a-z][a-z'’]*)", seg[m.end(): m.end() + 40])
            if nxt and nxt.group(1) not in _LABEL_FOLLOWERS:
                continue
            if lab == "I" and re.match(r"['’]", seg[m.end():]):
                continue
        out.append((m.start(2), lab))   # position of the label character itself
    return out


@lru_cache(maxsize=8192)
def norm_text(s: str) -> str:
    """Word-level form for prose options ("Basket 5", "Set A"): lowercase, no markup."""
    s = clean(s).lower()
    s = re.sub(r"\\(?:mathrm|text|textbf|mathbf|left|right|displaystyle|quad)\b", " ", s)
    s = s.replace("\\", " ").replace("~", " ")
    s = re.sub(r"[^\w.%/+\-^<>=]+", " ", s)
    return re.sub(r"\s+", " ", s).strip(" .")


@lru_cache(maxsize=8192)
def latex_key(s: str) -> str:
    """Exact-match form for LaTeX options: '$8 \\mathrm{~kg}$' and '8 kg' both give '8kg'."""
    s = unicodedata.normalize("NFKC", s).lower().replace("**", "")
    s = re.sub(r"\\(?:mathrm|text|textbf|mathbf|mbox|left|right|displaystyle|quad|qquad|,|;|!)", "", s)
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cdot", "*").replace("\\times", "*")
    s = s.replace("×", "*").replace("·", "*")
    s = re.sub(r"\^\s*\{?\s*\\circ\s*\}?|°|\\degree", "", s)
    s = re.sub(r"[\s${}~]|\\[()\[\]]", "", s)
    return s.rstrip(".")


_RATIO_OPT = re.compile(r"(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)")


def contains_word(s: str, o: str) -> bool:
    i = s.find(o)
    while i != -1:
        before = s[i - 1] if i > 0 else " "
        after = s[i + len(o)] if i + len(o) < len(s) else " "
        if not (before.isalnum() or before in "._") and not (after.isalnum() or after == "_"):
            return True
        i = s.find(o, i + 1)
    return False


def _fold(s: str) -> str:
    """Hyphens and underscores between letters read as spaces ("PDE Refiner" = `PDE-Refiner`);
    between digits they stay (a minus, a range: "3-4" is not "3 4")."""
    return re.sub(r"(?<=[a-z])[-_](?=[a-z])", " ", s)


def option_match(seg: str, options: list[str], labels: list[str], how: str = "start") -> str | None:
    """Label of the option the segment states. how="exact": the same LaTeX/text up to markup
    and units, or the same numeric value; "start": also prose the segment starts with;
    "end": prose the segment ends with ("... is May."); "anywhere": the one option text it
    contains. Longest text wins; ambiguity gives None."""
    if not options or not seg.strip():
        return None
    pairs, seen = [], set()
    for o, lab in zip(options, labels):     # a duplicated option text keeps its first label
        if o.strip() not in seen:
            seen.add(o.strip())
            pairs.append((o, lab))
    k = latex_key(seg)
    hits = {lab for o, lab in pairs if latex_key(o) and latex_key(o) == k}
    if len(hits) == 1:
        return hits.pop()
    v = number_value(seg) if len(seg) <= 80 else None
    if v is not None:
        vals = [(number_value(o), lab) for o, lab in pairs]
        ratios = [_RATIO_OPT.fullmatch(latex_key(o)) for o, _ in pairs]
        if all(ratios):   # every option a ratio "6:5": a plain number means a/b
            vals = [(float(m.group(1)) / float(m.group(2)) if float(m.group(2)) else None, lab)
                    for m, (_, lab) in zip(ratios, pairs)]
        hits = {lab for ov, lab in vals if ov is not None and abs(ov - v) <= 1e-9 * max(1.0, abs(v))}
        if len(hits) == 1:
            return hits.pop()
        if any(ov is not None for ov, _ in vals):
            return None   # a number that is no option's value: do not fall back to prose
    if how == "exact":
        return None
    s = _fold(norm_text(seg))
    # an option whose text is one letter ("A", "b") is said only where that capital stands as
    # a label token ("planted in section C."): in lowercase or as the article ("a circle",
    # "A cube has six faces") it is no option
    normed = [(_fold(norm_text(o)), lab) for o, lab in pairs]
    letters = [o.upper() for o, _ in normed if len(o) == 1 and o.isalpha()]
    caps = {t for _, t in label_tokens(clean(seg), letters)} if letters else set()
    normed = sorted([(o, lab) for o, lab in normed
                     if o and not (len(o) == 1 and o.isalpha() and o.upper() not in caps)],
                    key=lambda x: -len(x[0]))
    if len(s) >= 5 and not re.search(r"\d", s):   # "PDERefiner" for `PDE-Refiner`: spacing only
        hits = {lab for o, lab in normed if o.replace(" ", "") == s.replace(" ", "")}
        if len(hits) == 1:
            return hits.pop()
    for o, lab in normed:
        if s == o or (how == "start" and s.startswith(o) and not s[len(o): len(o) + 1].isalnum()):
            return lab
        if (how == "end" and s.endswith(o) and not s[-len(o) - 1: -len(o)].isalnum()
                and not re.search(r"\b(?:or|and|nor|between|not)\s*$", s[: -len(o)])):
            return lab
    if how == "anywhere":
        hits = [(o, lab) for o, lab in normed if contains_word(s, o)]
        hits = [(o, lab) for o, lab in hits if not any(o != o2 and o in o2 for o2, _ in hits)]
        if len({lab for _, lab in hits}) == 1:
            return hits[0][1]
    return None
