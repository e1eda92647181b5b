"""What a toy answer's reasoning chain does, line by line: the teacher's style writes one step
per line (`8 + 2 = 10.`), and each later step starts from the previous step's result
(`10 - 2 = 8.`). Reading the chain tells where a student goes wrong: restating the quantities,
carrying a result to the next line (the "carry"), or the arithmetic of a step.

Every role here is a character span of the answer, so a per-token measure (the teacher's exact
KL at each completion token, `preconditions.per_token_teacher_kl`) can be split by role.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from vold_bench.toy import world
from vold_bench.toy.world import OPS
from vold_train.toy.check import boxed_int

_STEP = re.compile(r"^(\d+) ([-+*]) (\d+) = (-?\d+)\.$")   # one teacher-style step line
_ASSIGN = re.compile(r"= (\d+)")                             # a restated quantity's value
_BOXED = re.compile(r"\\boxed\{\s*(-?\d+)\s*\}")          # as toy/check.py; for spans (values: boxed_int)


@dataclass(frozen=True)
class Step:
    a: int
    op: str
    b: int
    c: int
    line: int                           # the answer's line it stands on
    spans: dict[str, tuple[int, int]]   # "a", "b", "c" -> (start, end) in the answer

    @property
    def sum_ok(self) -> bool:
        return OPS[self.op](self.a, self.b) == self.c


def steps(response: str) -> list[Step]:
    """The step lines of an answer, in order, with the character spans of their numbers."""
    out: list[Step] = []
    pos = 0
    for n, line in enumerate(response.split("\n")):
        m = _STEP.match(line.strip())
        if m:
            off = pos + (len(line) - len(line.lstrip()))
            spans = {k: (off + m.start(g), off + m.end(g)) for k, g in (("a", 1), ("b", 3), ("c", 4))}
            out.append(Step(int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4)), n, spans))
        pos += len(line) + 1
    return out


def role_spans(response: str) -> list[tuple[int, int, str]]:
    """(start, end, role) of every number with a role: restated quantities (`= 8` on a line
    that is not a step), step operands, carries (a later step's left operand, where the
    previous result should be written again), step results and the boxed answer."""
    out: list[tuple[int, int, str]] = []
    sts = steps(response)
    for i, st in enumerate(sts):
        out += [(*st.spans["a"], "carry" if i else "operand"), (*st.spans["b"], "operand"),
                (*st.spans["c"], "result")]
    step_lines = {st.line for st in sts}
    pos = 0
    for n, line in enumerate(response.split("\n")):
        if n not in step_lines and "boxed" not in line:
            out += [(pos + m.start(1), pos + m.end(1), "restated") for m in _ASSIGN.finditer(line)]
        pos += len(line) + 1
    out += [(m.start(1), m.end(1), "boxed") for m in _BOXED.finditer(response)]
    return sorted(out)


def token_roles(response: str, offsets: list[tuple[int, int]]) -> list[str]:
    """The role of each token, given the tokenizer's character offsets into `response`: the
    role of the first span the token overlaps, else "other"."""
    spans = role_spans(response)
    return [next((r for s, e, r in spans if a < e and z > s), "other") for a, z in offsets]


def carry_kind(written: int, previous: int, quantities: list[int]) -> str:
    """How a carry relates to the result it should repeat: "exact", "near" (within 2 of it: a
    value recomputed, not copied), "quantity" (one of the problem's own quantities) or "other"."""
    if written == previous:
        return "exact"
    if abs(written - previous) <= 2:
        return "near"
    return "quantity" if written in quantities else "other"


def chain_counts(responses_and_quantities) -> Counter:
    """Counts over many answers: steps, steps whose sum is right, carries by `carry_kind`, and
    answers whose boxed value is their last step's result."""
    c: Counter = Counter()
    for response, quantities in responses_and_quantities:
        sts = steps(response)
        c["answers"] += 1
        c["steps"] += len(sts)
        c["sum_ok"] += sum(s.sum_ok for s in sts)
        for prev, cur in zip(sts, sts[1:]):
            c["carries"] += 1
            c["carry_" + carry_kind(cur.a, prev.c, quantities)] += 1
        boxed = boxed_int(response)
        if sts and boxed is not None:
            c["boxed_seen"] += 1
            c["boxed_is_last"] += boxed == sts[-1].c
    return c


def chain_prefix(p: world.Problem, upto: int = 0, delta: int = 0) -> str:
    """The start of the teacher's trace of `p` (`world.trace`): the think tag, the restated
    quantities and the step lines 0..`upto`, the last of them with its result written `delta`
    off."""
    steps_ = [(a, op, b, c + delta if i == upto else c) for i, (a, op, b, c) in enumerate(p.steps)]
    lines = world.trace(replace(p, steps=steps_), "teacher").split("\n")
    return "\n".join(lines[:upto + 3]) + "\n"  # "<think>", the quantities, steps 0..upto


def corrupted_prefix(p: world.Problem, delta: int = 1, at: int = 0) -> tuple[str, int, int] | None:
    """An intervention on a chain: `chain_prefix` with step `at`'s result written `delta` off.
    Returns (prefix, followed, gold): `followed` is the answer a model reaches if it carries
    what is written and does the remaining steps right, `gold` the true answer. None when the
    two are equal (a later "* 0" can erase the change, so the answer would not tell them apart)
    or there is no later step to carry into."""
    if delta == 0 or at >= len(p.steps) - 1:
        return None
    value = p.steps[at][3] + delta
    for _, op, b, _ in p.steps[at + 1:]:
        value = OPS[op](value, b)
    if value == p.answer:
        return None
    return chain_prefix(p, at, delta), value, p.answer


def follow_kind(boxed: int | None, followed: int, gold: int) -> str:
    """What a continuation after `corrupted_prefix` answered: "follows" its written chain,
    "gold" (the right answer, so the written result was not used), or "other"."""
    if boxed == followed:
        return "follows"
    return "gold" if boxed == gold else "other"


def first_slip(response: str, p: world.Problem) -> tuple[str, tuple[int, int] | None, int | None]:
    """Where an answer first leaves `p`'s own chain, and the number that should stand there:
    (class, character span of the first wrong number, the value the chain needs there).
    Classes as `first_wrong_step`. The span and value are None for "right", "short", a wrong
    operator and a missing box. The value is what the answer's own lines call for: at a carry
    the previous line's written result, at a sum the written operands' result."""
    sts = steps(response)
    if len(sts) < len(p.steps):
        return "short", None, None
    for k, (st, (a, op, b, _)) in enumerate(zip(sts, p.steps), start=1):
        if k > 1 and st.a != sts[k - 2].c:
            return f"carry{k}", st.spans["a"], sts[k - 2].c
        if k == 1 and st.a != a:
            return "operand1", st.spans["a"], a
        if st.op != op:
            return f"operand{k}", None, None
        if st.b != b:
            return f"operand{k}", st.spans["b"], b
        if not st.sum_ok:
            return f"sum{k}", st.spans["c"], OPS[st.op](st.a, st.b)
    if boxed_int(response) == p.answer:
        return "right", None, None
    m = _BOXED.search(response)
    return "boxed", (m.start(1), m.end(1)) if m else None, p.answer


def first_wrong_step(response: str, p: world.Problem) -> str:
    """Where an answer first leaves `p`'s own chain: "short" (fewer step lines than `p` has
    steps), "operand<k>" (step k's operator or right operand is not the problem's, or step 1's
    left one), "carry<k>" (step k does not start from step k-1's written result), "sum<k>" (step
    k's arithmetic is wrong), "boxed" (every line right, the boxed value not `p`'s answer) or
    "right". k counts from 1. Slips many items share show up as one large class."""
    return first_slip(response, p)[0]


_STEP_CLASS = re.compile(r"(carry|operand|sum)(\d+)")
_WITHIN_STEP = {"carry": 0, "operand": 1, "sum": 2}  # the order first_slip checks a step in


def slip_rank(cls: str) -> tuple[int, int]:
    """How far along the chain a `first_wrong_step` class lies, in the order `first_slip` checks:
    "short" first, then each step's carry, operands and sum, then "boxed", then "right"."""
    if cls in ("right", "boxed"):
        return (10**6 + (cls == "right"), 0)
    if cls == "short":
        return (-1, 0)
    m = _STEP_CLASS.fullmatch(cls)
    if m is None:
        raise ValueError(f"not a first_wrong_step class: {cls!r}")
    return (int(m.group(2)), _WITHIN_STEP[m.group(1)])


def past_slip(sampled: str, slip: str) -> bool:
    """Whether an answer whose first wrong step is `sampled` got past a slip of class `slip`:
    its own first wrong step lies later in the chain (or it is right)."""
    return slip_rank(sampled) > slip_rank(slip)
