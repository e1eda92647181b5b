"""The one multiple-choice parser: `extract_choice` tries a table of named rules in order.

Each rule reads the response (through `_Ctx`, which computes shared views once) and either
passes (None) or decides: `(labels, rule)`, where an empty label list means "no answer" and
stops the search (a refusal, an echoed option list). The rule names are the `rule` strings
written into every Score, so a reading in samples.jsonl points at the rule that made it.

Order of evidence: the last explicit anchor; then refusals and echoes (which choose
nothing); then a bare answer, a label or option leading the response, the final statement,
a sole parenthesised label, a short response naming one option, an abstention option; last,
the prose readings of prose.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import vold_bench.scoring.commit as commit
import vold_bench.scoring.prose as prose
from vold_bench.scoring.extract import (
    NEAR,
    TAIL,
    anchors,
    choice_from_segment,
    final_number,
    final_statement,
    first_clause,
    strip_eos,
)
from vold_bench.scoring.listing import BULLET, echoes_options, enumerates_all, opens_with_walk, strip_listing
from vold_bench.scoring.options import clean, label_tokens, option_match

REFUSAL = re.compile(r"\W*(?:I'm sorry|I am sorry|Sorry|I can(?:no|['’])t|I cannot|I am unable|"
                     r"I'm unable|As an AI)\b", re.I)
_LEAD = re.compile(r"^\s*(?:\*\*)?\(?([A-Z]|\d{1,2})(?:\)|\.|:|\*\*|\s*$|\s*\n)")
_NUMBERED = re.compile(r"\s*1[.)]\s+\(?([A-Z])\)?[.)]?\s*$")
# "Select A from the options", "I would choose (C)": a verb of choosing and one label. An
# "A" followed by a lowercase word other than these is the article ("choose a new ...").
_CHOOSE = re.compile(r"\b(?i:select|choose|pick|go\s+with|opt\s+for)\s+(?i:option\s+|choice\s+|answer\s+)?"
                     r"\(?([A-Z])\)?(?![A-Za-z0-9'’])(?!\s*(?:,|/|-|\bor\b|\band\b|\bto\b|\bthrough\b)\s*\(?[A-Z]\b)"
                     r"(?!\s+(?!(?:from|as|because|since|here|then|in|for)\b)[a-z])")
# "The diagram that replaces the question mark is A." as the opening sentence
_OPENING_IS = re.compile(r"^[^.\n]{0,200}?\b(?:is|be|are)\s+(?:option\s+|choice\s+)?\(?([A-Z])\)?\s*[.!]?\s*$")
# "option B" stated as what something is: "the best plan ... is option B, the Owl plan"
_IS_OPTION = re.compile(r"\b(?:is|be)\s+(?:option|choice)\s+\(?([A-Z])\)?(?![A-Za-z])")
# a label the response rejects: "(D) $760k is not an option"
_REJECTED = re.compile(r"^[^.\n]{0,80}?\b(?:is\s+not|isn't|is\s+(?:incorrect|wrong))\b", re.I)
_ABSTAIN = re.compile(r"(?:not|impossible|unable|cannot|can't|can ?not)\s+(?:possible\s+)?(?:to\s+)?"
                      r"(?:be\s+)?(?:determine|determined|tell|say|know|conclude)|insufficient|"
                      r"not enough information", re.I)
_ABSTAIN_OPTION = re.compile(r"insufficient|impossible to (?:tell|say|determine)|cannot be determined|"
                             r"not enough information|none of (?:these|the above)", re.I)

Decision = tuple[list[str], str] | None


def _conditional(text: str, pos: int) -> bool:
    """The anchor at `pos` sits in an "If ..., then the answer would be A" sentence."""
    head = re.split(r"(?<=[.!?])\s+|\n", text[max(0, pos - 200): pos])[-1]
    return re.match(r"\s*(?:if|assuming|suppose|when)\b", head, re.I) is not None


def _abstain_labels(labels: list[str], options: list[str]) -> list[str]:
    """The item's one abstention option ("Impossible to tell", "None of the above"), if any."""
    hits = [lab for o, lab in zip(options, labels) if _ABSTAIN_OPTION.search(o)]
    return hits if len(hits) == 1 else []


def _abstain(text: str, labels: list[str], options: list[str]) -> list[str]:
    return _abstain_labels(labels, options) if options and _ABSTAIN.search(text) else []


@dataclass
class _Ctx:
    """One response and one item, with the views several rules share computed once."""
    text: str
    labels: list[str]
    options: list[str]
    multi: bool
    question: str

    @cached_property
    def near(self) -> list[tuple[int, str, str]]:   # most answers sit in the last lines
        return anchors(self.text[-NEAR:])

    @cached_property
    def far(self) -> list[tuple[int, str, str]]:
        return anchors(self.text) if len(self.text) > NEAR else []

    @cached_property
    def stripped(self) -> str:
        return self.text.strip().strip("*").strip()

    @cached_property
    def first(self) -> str:
        return self.stripped.split("\n", 1)[0]

    @cached_property
    def walk(self) -> bool:
        # "A) Ferret\nB) Owl\n...": the first line of a walk through every option leads nothing
        return enumerates_all(self.text, self.labels, self.options) and opens_with_walk(self.text, self.labels)

    @cached_property
    def last_anchor(self) -> int:
        return len(self.text) - min(len(self.text), NEAR) + self.near[-1][0] if self.near else -1

    @cached_property
    def body(self) -> str:
        """The response without echoed option listings (for the fallbacks after them)."""
        return strip_listing(self.text, self.labels, self.options)

    @cached_property
    def last(self) -> str:
        return final_statement(self.body)


# ------------------------------------------------------------------ the rules, in order


def _anchor(c: _Ctx) -> Decision:
    for found in (c.near, c.far):
        base = len(c.text) - min(len(c.text), NEAR) if found is c.near else 0
        for pos, kind, seg in reversed(found):
            if kind == "anchor" and _conditional(c.text, base + pos):
                continue
            if commit.NONE_OF.match(clean(first_clause(seg))):
                # "The answer is none of the options A, B, C, D": declined, not A
                got = _abstain_labels(c.labels, c.options)
                return (got, "none_of_options")
            got = choice_from_segment(seg, c.labels, c.options, c.multi)
            lead = prose.conflicting_lead(c.text, c.labels, got) if got else None
            if not lead and got and not c.multi and found is c.near:
                lead = _second_answer(c, base + pos, got, seg)
            if lead:
                return sorted(set(got + [lead]) - {"?"}, key=c.labels.index), kind + "+conflict"
            if got:
                return got, kind
    return None


def _second_answer(c: _Ctx, pos: int, got: list[str], seg: str) -> str | None:
    """Another answer the response committed to: the other half of a hedge ("both (C) and
    (G) can be considered correct"), or the option (or "?", no option) named by the value
    stated right before a bare final label."""
    other = commit.hedge_conflict(c.text[: pos + 200], got, c.labels)
    if other:
        return other
    bare = re.fullmatch(r"[^A-Za-z0-9]{0,10}\(?[A-Z]\)?[.)]?", clean(first_clause(seg))) is not None
    if bare:   # "... is 180 degrees. The answer is C": only a bare label can contradict it
        head = c.text[max(0, pos - 300): pos]
        head = " ".join(re.split(r"(?<=[.!?])\s+|\n+", head)[-2:])   # the sentence before, this one's start
        other = commit.value_conflict(head, got[0], c.labels, c.options)
        if other:
            return other
    earlier = [a for a in c.near if a[1] == "anchor" and a[0] < pos - base_of(c) and
               pos - base_of(c) - a[0] <= 600]
    if earlier:
        p0, _, seg = earlier[-1]
        between = c.text[base_of(c) + p0: pos]
        return commit.answer_conflict(first_clause(seg).strip(), between, got[0], c.labels, c.options)
    return None


def base_of(c: _Ctx) -> int:
    """Offset of the `near` window in the text (anchor positions there are relative)."""
    return len(c.text) - min(len(c.text), NEAR)


def _refusal(c: _Ctx) -> Decision:
    # "I'm sorry, I can't ...", "As a text-based AI model, I'm unable to see the image"
    return ([], "refusal") if REFUSAL.match(c.stripped) or commit.refuses(c.stripped) else None


def _echo(c: _Ctx) -> Decision:
    if echoes_options(c.stripped, c.labels, c.options, c.multi):
        return [], "echo"
    if commit.label_run(c.stripped, c.labels, c.multi) or commit.cut_enumeration(c.stripped, c.labels):
        return [], "echo"   # "A-B-C-D-E", "A) 12\nB) 15\nC) 18\nD)"
    return None


def _bare(c: _Ctx) -> Decision:
    # a bare answer: "B", "(B)", "B.", "B, D", or an option's text
    if len(c.stripped) <= 40:
        got = choice_from_segment(c.stripped, c.labels, c.options, c.multi)
        if got:
            return got, "bare"
    return None


def _leading(c: _Ctx) -> Decision:
    m = _LEAD.match(c.text)
    if m and m.group(1) in c.labels and not c.walk:
        return [m.group(1)], "leading"
    # "1. D" alone on the first line: the first item of a numbering, holding a label
    m = _NUMBERED.match(c.first)
    listed = re.search(r"^\s*2[.)]\s", c.stripped, re.M)   # "1. A\n2. B\n...": a numbered list
    if m and "1" not in c.labels and m.group(1) in c.labels and not c.walk and not listed:
        return [m.group(1)], "leading"
    return None


def _last_label(c: _Ctx) -> Decision:
    tail = c.stripped.rsplit("\n", 1)[-1].strip()
    m = re.fullmatch(r"\(?([A-Z])\)?[.)]?", tail)
    return ([m.group(1)], "last_label") if m and m.group(1) in c.labels else None   # ends on "B."


def _leading_option(c: _Ctx) -> Decision:
    first, labels, options = c.first, c.labels, c.options
    lab = option_match(first, options, labels, how="exact") if len(first) <= 80 and not c.walk else None
    if lab is not None:
        return [lab], "leading_option"
    # "BFalse", "C Insufficient Information": a label glued to its own option text
    m = re.match(r"\(?([A-Z])\)?\s*(\S.{0,78})$", first)
    if m and m.group(1) in labels and options and not c.walk and \
            option_match(m.group(2), options, labels, how="exact") == m.group(1):
        return [m.group(1)], "leading_option"
    return None


def _opening(c: _Ctx) -> Decision:
    m = _OPENING_IS.match(re.split(r"(?<=[.!?])\s+|\n", c.first)[0])
    return ([m.group(1)], "opening") if m and m.group(1) in c.labels else None


def _answer_slot(c: _Ctx) -> Decision:
    """The response ends in its own answer slot ("... answer : )"): that is its answer,
    unreadable; the prose before it (often the echoed question) is not searched."""
    if c.near and c.near[-1][1] == "anchor" and len(c.text.rstrip()) - c.last_anchor <= 40:
        clause = first_clause(c.near[-1][2])
        if _conditional(c.text, c.last_anchor):   # "If ..., the answer would be E (Not possible)."
            lab, rule = prose.article_label(clause, c.labels, c.options), "anchor_article"
        else:
            lab, rule = prose.read_slot(clause, c.question, c.labels, c.options)
        return ([lab], rule) if lab else ([], "unreadable_answer")
    return None


def _chosen(c: _Ctx) -> Decision:
    """"Select A from the options": the one label a verb of choosing takes, outside an
    "If ..." sentence."""
    said = {m.group(1) for m in _CHOOSE.finditer(c.body)
            if m.group(1) in c.labels and not _conditional(c.body, m.start())}
    return ([said.pop()], "chosen") if len(said) == 1 else None


def _none_of(c: _Ctx) -> Decision:
    """A final statement "none of the options matches": the response declines (the item's
    own abstention option if it has one), whatever labels it lists on the way."""
    if c.last and commit.NONE_OF.search(c.last):
        return _abstain_labels(c.labels, c.options), "none_of_options"
    return None


def _is_option(c: _Ctx) -> Decision:
    said = {m.group(1) for m in _IS_OPTION.finditer(c.body) if m.group(1) in c.labels}
    return ([said.pop()], "is_option") if len(said) == 1 else None


def _enumerated(c: _Ctx) -> Decision:
    # the response ends inside its walk through the options: no conclusion
    if enumerates_all(c.body, c.labels, c.options) and BULLET.match(c.body.strip().rsplit("\n", 1)[-1]):
        return [], "enumerated"
    return None


def _last_line(c: _Ctx) -> Decision:
    """"... option (C)." / "... is (B)." as the final statement."""
    paren = [p for p in re.findall(r"\(([A-Z]|\d{1,2})\)", c.last) if p in c.labels]
    if paren and len(set(paren)) == 1:
        return [paren[0]], "last_line"
    toks = label_tokens(clean(c.last), c.labels)
    line = c.body.strip().rsplit("\n", 1)[-1][-2000:]   # the whole line: "C." ends no sentence
    own = _label_with_text(line, c.labels, c.options) if c.last else None
    if own and len({lab for _, lab in label_tokens(clean(line), c.labels)}) > 1:   # "C. Neither set A nor set B"
        return [own], "last_line"
    if len({lab for _, lab in toks}) == 1 and re.search(
            r"(?i:option|choice|answer|is|be)\s*\(?[A-Z\d]\b", c.last):
        return [toks[0][1]], "last_line"
    got = _abstain(c.last, c.labels, c.options)
    return (got, "abstain_option") if got else None


def _label_with_text(last: str, labels: list[str], options: list[str]) -> str | None:
    """The one label in the sentence followed by its own option's text ("C. Neither set A
    nor set B"): the other labels are words of that text."""
    own = {m.group(1) for m in re.finditer(r"(?<![A-Za-z])\(?([A-Z])\)?[.):]?\s+", last)
           if m.group(1) in labels and options and
           option_match(last[m.end():], options, labels, how="start") == m.group(1)}
    return own.pop() if len(own) == 1 else None


def _last_line_option(c: _Ctx) -> Decision:
    """"... is May." / "... is 120 cm.": the final statement ends in an option's text or
    states one option's value."""
    last, options, labels = c.last, c.options, c.labels
    if not (options and last):
        return None
    lab = option_match(last, options, labels, how="end")
    if lab is None:
        num = final_number(last)
        if num and re.search(r"\b(?:between|from)\b[^.]*\b(?:and|to)\s+\S*" + re.escape(num), last):
            num = None   # the end of a range is no stated value
        lab = option_match(num, options, labels, how="exact") if num else None
    return ([lab], "last_line_option") if lab is not None else None


def _only_label(c: _Ctx) -> Decision:
    # the response names exactly one label in parentheses: "... is (D) Water replaces ..."
    paren = {m.group(1) for m in re.finditer(r"\(([A-Z]|\d{1,2})\)", c.body)
             if m.group(1) in c.labels and not _REJECTED.match(c.body[m.end():])}
    return ([paren.pop()], "only_label") if len(paren) == 1 else None


def _short_option(c: _Ctx) -> Decision:
    # a short answer that states exactly one option's text: "The statement is true."
    if c.options and len(c.body) <= 300 and not _abstain(c.body, c.labels, c.options):
        lab = option_match(c.body, c.options, c.labels, how="anywhere")
        if lab is not None:
            return [lab], "short_option"
    return None


def _abstain_option(c: _Ctx) -> Decision:
    got = _abstain(c.body[-600:], c.labels, c.options)
    return (got, "abstain_option") if got else None


def _prose(c: _Ctx) -> Decision:
    seg = first_clause(c.near[-1][2] if c.near else c.far[-1][2]) if c.near or c.far else None
    cond = bool(c.near) and c.near[-1][1] == "anchor" and _conditional(c.text, base_of(c) + c.near[-1][0])
    lab, rule = prose.read_prose(c.stripped, c.body, c.last, seg, c.question, c.labels, c.options, cond)
    return ([lab], rule) if lab else ([], "none")


RULES: tuple[tuple[str, Callable[[_Ctx], Decision]], ...] = (
    ("anchor", _anchor), ("refusal", _refusal), ("echo", _echo), ("bare", _bare),
    ("leading", _leading), ("last_label", _last_label), ("leading_option", _leading_option),
    ("opening", _opening), ("answer_slot", _answer_slot), ("none_of", _none_of), ("chosen", _chosen),
    ("is_option", _is_option),
    ("enumerated", _enumerated), ("last_line", _last_line), ("last_line_option", _last_line_option),
    ("only_label", _only_label), ("short_option", _short_option), ("abstain_option", _abstain_option),
    ("prose", _prose),
)


def extract_choice(text: str, labels: list[str], options: list[str],
                   multi: bool = False, question: str = "", followups: bool = True) -> tuple[list[str], str]:
    """(labels, rule) for a multiple-choice response; ([], rule) if nothing explicit. A rule
    ending in "+conflict" marks two contradicting answers."""
    text = strip_eos(text[-TAIL:]).replace("\u200b", "")   # zero-width spaces hide a leading label
    cut = commit.followup_cut(text) if followups else None
    if cut is not None:
        # "The answer is B.\n\nQuestion: <one the model made up> ... Answer: C": the head's
        # own committed answer is the answer; the invented part is not read
        got, rule = extract_choice(text[:cut], labels, options, multi, question, followups=False)
        if got and rule.split("+")[0] in COMMITTED:
            if not commit.repeats_question(text, cut, question):
                return got, rule + "+followup_cut"
            # the same question answered again: a different second answer is a second answer
            again, rule2 = extract_choice(text, labels, options, multi, question, followups=False)
            if again and set(again) != set(got):
                return sorted(set(got) | set(again), key=labels.index), rule2.split("+")[0] + "+conflict"
    c = _Ctx(text, labels, options, multi, question)
    for _name, rule in RULES:
        got = rule(c)
        if got is not None:
            return got
    return [], "none"


# readings that state an answer outright (a follow-up may be cut after them)
COMMITTED = {"anchor", "boxed", "label_first", "bare", "leading", "last_label", "leading_option", "opening"}
