"""Answers given as statements (scorer 1.3; docs/scoring.md, "Statements").

Two readings, both last resorts (choice.py and prose.py call them only where no label and
no option text was found) and both giving up on any doubt:

- `yes_no`: a Yes/No item answered by a statement that settles it ("The function is not
  convex." for "Is the function convex?"; "X is less than Y." for "Is X greater than Y?").
- `paraphrase`: the final answer sentence names one option in other words: its content
  words inflected ("the population would decrease" for `It decreases`), a direction word
  ("slow" for `Decreases`), or one distinctive word of it ("answer : northern" for
  `Northern hemisphere`).
"""
from __future__ import annotations

import re

_STOP = frozenset("""a an the of in on at to by for from with and or is are was were be been being does do
did can could will would shall should may might must has have had it its this that these those there
their they them he she his her we you your i me my our as than then so very much many also which what
who whom whose how when where why if whether not no yes answer option choice correct""".split())
_PRONOUN = frozenset("it this that they he she these those".split())
_HEDGE = re.compile(r"\b(?:may|might|possibly|perhaps|probably|unclear|uncertain|not\s+sure|cannot|can['’]t|"
                    r"impossible|difficult|depends?|whether|if|either|or\s+not|approximately\s+equal)\b|\?", re.I)
_NEG = frozenset("not no never neither nor".split())

# comparatives and superlatives by direction: +1 up, -1 down
_DIRECTION = {w: 1 for w in """greater larger bigger more higher taller longer wider heavier faster older above
greatest largest biggest most highest tallest longest widest heaviest fastest oldest maximum""".split()}
_DIRECTION.update({w: -1 for w in """less smaller fewer lower shorter narrower lighter slower younger below
least smallest fewest lowest shortest narrowest lightest slowest youngest minimum""".split()})


def _words(s: str) -> list[str]:
    s = re.sub(r"n['’]t\b", " not", s.lower())
    return re.findall(r"[a-z0-9]+(?:\.\d+)?", s)


def _stem(w: str) -> str:
    for suf in ("ing", "ed", "es", "e", "s"):
        if w.endswith(suf) and len(w) - len(suf) >= 4:
            return w[: -len(suf)]
    return w


def _content(words: list[str]) -> list[str]:
    return [w for w in words if w not in _STOP and w not in _NEG]


# ------------------------------------------------------------------ yes / no

_VERB = re.compile(r"\b(?:is|are|was|were|has|have|does|do|did|lies|lie|appears?|seems?)\b|n['’]t\b", re.I)
_YN_QUESTION = re.compile(r"(?:^|(?<=[.?!:\n]))\s*((?:is|are|does|do|did|was|were|can|could|will|has|have|should)"
                          r"\b[^?.\n]{3,200}\?)", re.I)


def _yes_no_labels(labels: list[str], options: list[str]) -> dict[str, str] | None:
    got = {o.strip().lower().rstrip("."): lab for o, lab in zip(options, labels)}
    return got if set(got) == {"yes", "no"} else None


def _comparative(qw: list[str], sw: list[str]) -> bool | None:
    """Yes/no for "Is X greater than Y?" from "Y is less than X" style statements."""
    qi = next((i for i, w in enumerate(qw) if w in _DIRECTION), None)
    si = next((i for i, w in enumerate(sw) if w in _DIRECTION), None)
    if qi is None or si is None or any(w in _DIRECTION for w in sw[si + 1:]):
        return None
    subj_q, obj_q = set(_content(qw[1:qi])), set(_content(qw[qi + 1:]))
    subj_s, obj_s = set(_content(sw[:si])), set(_content(sw[si + 1:]))
    if subj_s & subj_q and not subj_s & obj_q and (not obj_s or obj_s & obj_q):
        swapped = False
    elif subj_s & obj_q and obj_s & subj_q and not subj_s & subj_q:
        swapped = True
    else:
        return None
    negs = [i for i, w in enumerate(sw) if w in _NEG]
    if any(i < si - 3 or i > si for i in negs):
        return None   # "... that most houses do not have": the negation is about something else
    same = _DIRECTION[qw[qi]] == _DIRECTION[sw[si]]
    return same ^ swapped ^ bool(negs)


def _predicate(qw: list[str], sw: list[str]) -> bool | None:
    """Yes/no for "Is the function convex?" from "The function is (not) convex."."""
    content = _content(qw[1:])
    if not content:
        return None
    key = _stem(content[-1])
    stems = [_stem(w) for w in sw]
    if stems.count(key) != 1:
        return None
    k = stems.index(key)
    rest = set(content[:-1])
    # the question's subject is the statement's: all its words said before the predicate
    # ("The high median of Cadet Blue is 20" answers no "Is Cadet Blue the high median?")
    # ("... so it is not the smoothest": a pronoun right before the predicate stands for it)
    if not (rest <= set(sw[:k]) or _PRONOUN & set(sw[max(0, k - 4): k])) or any(w.isdigit() for w in sw):
        return None
    negs = [i for i, w in enumerate(sw) if w in _NEG]
    if any(i < k - 3 or i > k for i in negs):
        return None   # a negation elsewhere ("... that most houses do not have") is not about it
    return not negs


def yes_no(statement: str, question: str, labels: list[str], options: list[str]) -> str | None:
    """The Yes or No label a statement settles, for an item whose options are Yes and No
    and whose question is a yes/no question; None on any hedge or doubt."""
    yn = _yes_no_labels(labels, options)
    qs = _YN_QUESTION.findall(question or "")
    if not yn or not qs or not statement or len(statement) > 300 or _HEDGE.search(statement):
        return None
    qw, sw = _words(qs[-1]), _words(statement)
    if "yes" in sw or "no" in sw or not _VERB.search(statement):
        return None   # a worded yes/no is read by the option rules; a statement has a verb
    verdict = _comparative(qw, sw) if any(w in _DIRECTION for w in qw) else _predicate(qw, sw)
    if verdict is None:
        return None
    return yn["yes" if verdict else "no"]


# ------------------------------------------------------------------ paraphrase

# direction words: an option about a change ("It decreases") read from a synonym
_UP = "increas rise rises rising rose grow grows growing grew gain faster speed higher"
_DOWN = "decreas fall falls falling fell drop dropp declin reduc slow slower lower shrink"
_CHANGE = {**{w: 1 for w in _UP.split()}, **{w: -1 for w in _DOWN.split()}}


def _change(words: list[str]) -> set[int]:
    return {_CHANGE[_stem(w)] if _stem(w) in _CHANGE else _CHANGE[w] for w in words
            if w in _CHANGE or _stem(w) in _CHANGE}


def _negated_before(words: list[str], i: int) -> bool:
    return bool(_NEG & set(words[max(0, i - 3): i]))


_CONTRAST = re.compile(r"\b(?:while|whereas|but|however|although|though)\b", re.I)
_WORDY = re.compile(r"[A-Za-z][A-Za-z ,;'’-]*\.?")


def _phrase_at(low: str, phrase: str) -> bool:
    """The phrase stands in the sentence as whole words, not right after a negation."""
    for m in re.finditer(rf"(?<![a-z0-9]){re.escape(phrase)}(?![a-z0-9])", low):
        if not _NEG & set(low[: m.start()].split()[-3:]):
            return True
    return False


def paraphrase(sentence: str, labels: list[str], options: list[str], short: bool = False) -> str | None:
    """The one option the sentence names in other words, or None. `short`: the sentence is
    an answer slot's content ("northern", "slow"), so one distinctive word of an option
    is enough."""
    if not options or not sentence or _HEDGE.search(sentence) or len(sentence) > 300:
        return None
    if re.search(r"[\\$^{}=]", sentence) or (short and re.search(r"\d", sentence)) or _CONTRAST.search(sentence):
        return None   # maths is a value, read by the option rules; "X, while Y" asserts two things
    sw = _words(sentence)
    low = " ".join(sw)
    # an option of several words said as a phrase: "... belongs to set C because ..."
    said = [(o, lab) for o, lab in zip(options, labels)
            if _WORDY.fullmatch(o.strip()) and _phrase_at(low, " ".join(_words(o)))]
    if len(said) == 1 and len(_words(said[0][0])) >= 2:   # a one-word option in a sentence is too weak
        return said[0][1]
    if len(said) > 1:
        return None   # "... 6 o'clock position, ... half past three": two options said
    hits = set()
    for clause in re.split(r"[,;:]|\b(?:and|so|because|leading\s+to|which)\b", sentence.lower()):
        cw = _words(clause)
        stems = [_stem(w) for w in cw]
        for o, lab in zip(options, labels):
            if not _WORDY.fullmatch(o.strip()):
                continue   # only options in words: "$\\frac{1}{2}$" has no paraphrase
            oc = [w for w in _content(_words(o)) if len(w) >= 3]
            if len(oc) < 2 and len(cw) > 8 or not oc or not (_NEG & set(_words(o))) <= set(cw):
                continue   # "It will never stop" is not said by "... will stop at T1"
            idx = [stems.index(_stem(w)) if _stem(w) in stems else -1 for w in oc]
            if all(i >= 0 and not _negated_before(cw, i) for i in idx):
                hits.add(lab)   # all its words in one clause: "the population ... would decrease"
    if len(hits) == 1:
        return hits.pop()
    if hits:
        return None
    # a direction word for a change option ("slow" for `Decreases`) only in an answer slot:
    # in a sentence, "lower" may describe anything
    said = _change([w for i, w in enumerate(sw) if not _negated_before(sw, i)]) if short else set()
    if len(said) == 1 and not _change([w for i, w in enumerate(sw) if _negated_before(sw, i)]):
        d = said.pop()
        own = [lab for o, lab in zip(options, labels) if _change(_words(o)) == {d}]
        if len(own) == 1:
            return own[0]
    if short and 0 < len(_content(sw)) <= 3:
        words = set(_content(sw))
        own = [lab for o, lab in zip(options, labels)
               if _WORDY.fullmatch(o.strip()) and words <= set(_content(_words(o)))]
        if len(own) == 1 and all(len(w) >= 4 for w in words):
            return own[0]
    return None
