"""Option listings in a response: echoed option lists and walks through every option
choose nothing (scorer 1.1; docs/scoring.md, LogicVista audit)."""
from __future__ import annotations

import re

from vold_bench.scoring.options import option_match

_LISTED = re.compile(r"(?:\(\s*([a-z])\s*\)|\b([a-z])\s*[).:])\s*$")


def strip_listing(text: str, labels: list[str], options: list[str]) -> str:
    """Remove echoed option listings ("(a) true (b) false (c) insufficient information",
    "A. True\nB. False"): restating the choices is not choosing one. An option counts as
    listed when its own label stands right before it; two or more make a listing."""
    low = text.lower()
    cuts, listed = [], set()
    for lab, opt in zip(labels, options):
        o = opt.strip().lower()
        if not o:
            continue
        i = low.find(o)
        while i != -1:
            m = _LISTED.search(low[max(0, i - 8): i])
            if m and (m.group(1) or m.group(2)) == lab.lower():
                cuts.append((max(0, i - 8) + m.start(), i + len(o)))
                listed.add(lab)
            i = low.find(o, i + 1)
    if len(listed) < 2:   # one "(B) Lower half" is an answer, not a listing
        return text
    for a, b in sorted(cuts, reverse=True):
        text = text[:a] + " " + text[b:]
    return text


_ITEM_PREFIX = re.compile(r"^\s*(?:[-*•‣]\s*)?(?:(?:\(?[A-Za-z]\)|[A-Za-z][.:]|\d{1,2}[.):])(?=\s|$))?\s*")


def echoes_options(text: str, labels: list[str], options: list[str], multi: bool = False) -> bool:
    """The response is nothing but option texts (or bare labels) listed one after another:
    "65.00, 49.59, 55.00, 59.49", "1. Set A\n2. Set B\n3. Neither", "1. A 2. B 3. C".
    Restating the choices is not choosing one, whatever labels the list puts in front."""
    text = text.replace("\u200b", "").strip()
    parts = [x for x in re.split(r"\n+|,\s+|;\s+|\s+(?=\d{1,2}[.)]\s)", text) if x.strip()]
    if len(parts) < 2 or len(parts) > 12:
        return False
    named, garbled = set(), False
    for part in parts:
        pre = _ITEM_PREFIX.match(part).group(0)
        body = part[len(pre):].strip().rstrip(".")
        if body in labels and not options:
            named.add(body)
            continue
        lab = option_match(body, options, labels, how="exact") if options and body else None
        if lab is None:
            return False
        named.add(lab)
        own = re.search(r"([A-Z])[.:)]", pre)
        garbled |= bool(own) and own.group(1) != lab   # "D) <option C's text>"
    # "B, D" answers a multiple-answer item; there only the whole list, or a list whose
    # labels do not match their texts, is an echo
    whole = len(named) >= (len(options) if options else len(labels))
    return len(named) >= 2 and (whole or garbled or not multi)


BULLET = re.compile(r"^\s*(?:[-*•‣]\s*)?\(?([A-Z])\)?(?:[.):]|\s*$)", re.M)


def enumerates_all(text: str, labels: list[str], options: list[str]) -> bool:
    """Every option, or at least three, gets its own bulleted line ("A) ...", "* B: ...",
    "‣ C"): the response walks through the choices; a line of that walk is not its
    conclusion."""
    n = len(options) if options else len(labels)
    want = set(labels[:n])
    got = want & set(BULLET.findall(text))
    return len(want) >= 2 and len(got) >= min(3, len(want))


def opens_with_walk(text: str, labels: list[str]) -> bool:
    """The response opens with two bulleted option lines in a row ("A) Ferret\nB) Owl"):
    its first line starts a listing, not an answer ("(A) Yes.\n\nExplanation: ..." is one)."""
    lines = [ln for ln in text.strip().splitlines() if ln.strip()][:2]
    labs = [m.group(1) for m in (BULLET.match(ln) for ln in lines) if m and m.group(1) in labels]
    return len(lines) == 2 and len(labs) == 2 and labs[0] != labs[1]
