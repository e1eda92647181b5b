"""The toy world: small arithmetic problems with verifiable integer answers, in two forms.

Every problem is a short chain of operations on a few quantities (1..9). The *text form*
states the quantities in the question ("A = 7, B = 3, C = 5. What is A + B - C?"); the
*image form* asks the same question, but where the text form writes a number it shows a small
picture of it, one visual token each ("A =<image>, B =<image>, C =<image>. What is A + B - C?").
Both forms share every other token and the solution, so reasoning learned on text can transfer
to images: that is the VOLD claim this world lets you test on a laptop.

Skills:
  cards  quantities named A..D; the question is an expression over the names
  rect   a rectangle's width and height; width + height (L1), perimeter (L2),
         (width + height - 1) * 2 (L3, worded without digits)
Level = number of arithmetic steps (1..3). Splits are seeded; train never contains a
test problem (same skill, level, quantities and operations).

Why v2 looks like this: in toy-v1 (areas like 7 * 8, card results up to 50) the teacher's
errors were arithmetic facts, and since a rectangle has only 64 shapes, the held-out test
shapes held facts that no training problem ever showed. In v2 every fact a test problem needs
(a sum of two digits, s - 1, s * 2 or s * 3, all small) is shown by many training problems of
other shapes or cards, so the world tests reasoning steps, not memorised tables.

Why v4 shows one picture per quantity, in place: in toy-v3 one picture held all the
quantities before the question, and the student read it by a skill text never exercises
(find the card for A among the visual tokens). Text-only SFT then wore that skill down
(reading after the cold start 75/49/4% at L1/L2/L3) and its new answering style did not carry
over to the picture prompts. In v4 reading a picture is the step text SFT trains anyway,
copying the value that follows `A =`: the image form differs from the text form only in that
one token per quantity, as a large VLM's image and text inputs meet in one representation.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import lru_cache

from vold_bench.prompts import IMAGE_MARK
from vold_bench.schema import Item

WORLD_VERSION = "toy-v5"
# Problem streams keep toy-v2's seeds: v3 and v4 changed how pictures show the quantities and
# how models answer, v5 the toy template around an inline picture, not the problems, so the
# test split is the same 300 problems and the teacher trained on v2's streams is still the
# teacher.
STREAM_TAG = "toy-v2"
SKILLS = ("cards", "rect")
LEVELS = (1, 2, 3)
N_TEST = 300           # 50 per (skill, level)
N_TRAIN_ITEMS = 1200   # the fixed `train` split of the benchmark; training samples more
MAX_VALUE = 20         # every intermediate card result stays in 0..MAX_VALUE
PICTURE_SIZE = (28, 28)  # one picture per quantity: 2x2 patches of 14 px, one visual token

OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
TRANSCRIBE_TAIL = "Write down the numbers."


@dataclass
class Problem:
    uid: str
    skill: str
    level: int
    values: dict[str, int]                 # name -> quantity, in reading order
    steps: list[tuple[int, str, int, int]]  # (a, op, b, result), in solving order
    tail: str                              # the question, identical in both forms
    layout: dict = field(default_factory=dict)  # rendering jitter, fixed by the seed

    @property
    def answer(self) -> int:
        return self.steps[-1][3]

    def transcription(self) -> str:
        return ", ".join(f"{k} = {v}" for k, v in self.values.items()) + "."

    def text_question(self) -> str:
        return f"{self._intro_text()}{self.transcription()} {self.tail}"

    def image_question(self) -> str:
        """The question with IMAGE_MARK where the text form has each number; the pictures,
        in the same order, are `pictures()`."""
        return f"{self._intro_text()}{self._marks()} {self.tail}"

    def transcribe_question(self) -> str:
        # the student's perception task: the same pictures in place, "write down the numbers"
        return f"{self._intro_text()}{self._marks()} {TRANSCRIBE_TAIL}"

    def _intro_text(self) -> str:
        return "" if self.skill == "cards" else "A rectangle has "

    def _marks(self) -> str:
        # "A =<image>": the picture takes the place of the text form's " 8" token
        return ", ".join(f"{k} ={IMAGE_MARK}" for k in self.values) + "."

    def pictures(self) -> list:
        from vold_bench.toy.render import render_value
        return [render_value(v, k, **self.layout) for k, v in self.values.items()]

    def key(self) -> tuple:
        return (self.skill, self.level, tuple(self.values.values()), self.tail)


# ---------------------------------------------------------------- generation


def _cards(rng: random.Random, level: int) -> tuple[dict, list, str]:
    names = "ABCD"[: level + 1]
    while True:
        ops = [rng.choice("++--*") for _ in range(level)]
        vals = [rng.randint(1, 9) for _ in names]
        acc, steps, ok = vals[0], [], True
        for op, b in zip(ops, vals[1:]):
            if op == "*" and b not in (2, 3):  # products only by 2 or 3
                ok = False
                break
            res = OPS[op](acc, b)
            if not 0 <= res <= MAX_VALUE:
                ok = False
                break
            steps.append((acc, op, b, res))
            acc = res
        if ok:
            break
    expr = names[0]
    for op, n in zip(ops, names[1:]):
        # left-to-right evaluation; brackets only where precedence would change it
        if op == "*" and any(s in expr for s in "+-"):
            expr = f"({expr})"
        expr = f"{expr} {op} {n}"
    return dict(zip(names, vals)), steps, f"What is {expr}?"


def _rect(rng: random.Random, level: int) -> tuple[dict, list, str]:
    while True:
        w, h = rng.randint(2, 9), rng.randint(2, 9)
        s = w + h
        if level == 1:
            steps, tail = [(w, "+", h, s)], "What is width + height?"
        elif level == 2:
            steps, tail = [(w, "+", h, s), (s, "*", 2, 2 * s)], "What is its perimeter?"
        else:
            steps = [(w, "+", h, s), (s, "-", 1, s - 1), (s - 1, "*", 2, 2 * (s - 1))]
            tail = "What is width + height minus one, times two?"  # no digits: only the picture has numbers
        if all(0 <= st[3] <= MAX_VALUE * 2 for st in steps):
            return {"width": w, "height": h}, steps, tail


def make_problem(uid: str, skill: str, level: int, rng: random.Random) -> Problem:
    values, steps, tail = (_cards if skill == "cards" else _rect)(rng, level)
    layout = {"dx": rng.randint(-4, 4), "dy": rng.randint(-4, 4), "hue": rng.randint(0, 5)}
    return Problem(uid, skill, level, values, steps, tail, layout)


def _test_problem(i: int) -> Problem:
    skill, level = SKILLS[i % len(SKILLS)], LEVELS[(i // len(SKILLS)) % len(LEVELS)]
    return make_problem(f"test-{i:04d}", skill, level, random.Random(f"{STREAM_TAG}:test:{i}"))


@lru_cache(maxsize=1)
def _test_keys() -> frozenset:
    return frozenset(_test_problem(i).key() for i in range(N_TEST))


def problems(split: str, n: int | None = None, seed: int = 0, levels=LEVELS,
             skills=SKILLS) -> list[Problem]:
    """`test`: the fixed N_TEST problems, balanced over skill x level. `train`: a seeded
    stream of problems (uniform over the given skills/levels) that never repeats a test one."""
    if split == "test":
        out = [p for p in map(_test_problem, range(N_TEST)) if p.level in levels and p.skill in skills]
        return out[:n] if n is not None else out
    if split != "train":
        from vold_bench.errors import VoldError
        raise VoldError(f"toy world: unknown split {split!r}; valid: train, test")
    rng, test, out, j = random.Random(f"{STREAM_TAG}:train:{seed}"), _test_keys(), [], 0
    n = N_TRAIN_ITEMS if n is None else n
    while len(out) < n:
        p = make_problem(f"train-s{seed}-{j:05d}", rng.choice(skills), rng.choice(levels), rng)
        j += 1
        if p.key() not in test:
            out.append(p)
    return out


# ---------------------------------------------------------------- traces


def _steps_verbal(steps) -> list[str]:
    verbs = {"+": "Add {b} to {a} to get {c}.", "-": "Take {b} away from {a} to get {c}.",
             "*": "Multiply {a} by {b} to get {c}."}
    return [f"Step {i + 1}: " + verbs[op].format(a=a, b=b, c=c) for i, (a, op, b, c) in enumerate(steps)]


def trace(p: Problem, style: str = "teacher") -> str:
    """A worked solution, in one of the world's styles. Every style but "verbal" first states
    the quantities as `NAME = value`, so what a model read can be checked from its answer.

    "teacher": the toy teacher's (restate, one equation per line, think block, boxed answer).
    "mismatched": someone else's, for the cold-start ablation (verbal steps, other closing).
    "student": the toy student's own, a weak reasoner's: no think block, it states what it
      reads, writes the first step and answers with that step's result; right on one-step
      problems, wrong on longer ones (as Qwen2.5-VL's short answers differ from Qwen3's think
      traces in form and depth). Its lines are written as the teacher's are ("8 + 5 = 13."),
      so the two share their arithmetic tokens, as Qwen2.5-VL and Qwen3 share a tokenizer.
    "verbal": toy-v2's mismatched style; kept because the shared tokenizer's corpus uses it."""
    if style == "teacher":
        lines = [p.transcription()] + [f"{a} {op} {b} = {c}." for a, op, b, c in p.steps]
        return "<think>\n" + "\n".join(lines) + f"\n</think>\nThe answer is \\boxed{{{p.answer}}}."
    if style == "student":
        a, op, b, c = p.steps[0]
        return f"{p.transcription()}\n{a} {op} {b} = {c}.\nAnswer: \\boxed{{{c}}}"
    if style in ("mismatched", "verbal"):
        lines = _steps_verbal(p.steps)
        if style == "mismatched":
            lines = [f"We have {p.transcription()}"] + lines
        return "<think>\n" + "\n".join(lines) + f"\nSo we get {p.answer}.\n</think>\n\\boxed{{{p.answer}}}"
    raise ValueError(f"unknown trace style {style!r}; valid: teacher, mismatched, student, verbal")


_ASSIGN = re.compile(r"\b([A-Za-z]+) = (\d+)")


def parse_transcription(text: str) -> dict[str, int]:
    """Names and numbers from a transcription ("A = 7, B = 3."); the first value per name wins."""
    out: dict[str, int] = {}
    for name, num in _ASSIGN.findall(text):
        out.setdefault(name, int(num))
    return out


# ---------------------------------------------------------------- public API


def to_item(p: Problem, form: str) -> Item:
    if form not in ("image", "text"):
        raise ValueError(f"unknown form {form!r}; valid: image, text")
    image = form == "image"
    return Item(
        id=f"toy-{p.uid}", question=p.image_question() if image else p.text_question(),
        gold=str(p.answer), answer_type="integer", images=p.pictures() if image else [],
        meta={"level": p.level, "skill": p.skill, "form": form, "values": dict(p.values),
              "transcription": p.transcription(), "text_question": p.text_question(),
              "world": WORLD_VERSION, **({"image_layout": "inline"} if image else {})},
    )


def toy_items(split: str, form: str = "image", limit: int | None = None) -> list[Item]:
    """Benchmark items (the harness's `toy` loader hook): split "test" (300) or "train" (1200)."""
    return [to_item(p, form) for p in problems(split, n=limit)]


def toy_problems(split: str = "train", n: int | None = None, seed: int = 0, levels=LEVELS,
                 form: str = "text") -> list[Item]:
    """Text-form problems with gold answers for RL (Item.question is the whole user prompt,
    Item.gold the integer answer, scorer `toy`). Different seeds give different streams."""
    return [to_item(p, form) for p in problems(split, n=n, seed=seed, levels=levels)]


def toy_traces(split: str = "train", style: str = "teacher", n: int | None = None,
               seed: int = 0, levels=LEVELS) -> list[dict]:
    """SFT records {id, question, response, gold, level, skill}: a text-form prompt and a worked
    trace in the given style ("teacher" or "mismatched")."""
    return [{"id": f"toy-{p.uid}", "question": p.text_question(), "response": trace(p, style),
             "gold": str(p.answer), "level": p.level, "skill": p.skill}
            for p in problems(split, n=n, seed=seed, levels=levels)]


def _v3_image_intro(p: Problem) -> str:
    # toy-v3's image-form opening, kept only for the tokenizer's corpus (see corpus_lines)
    if p.skill == "cards":
        names = list(p.values)
        return f"Read {', '.join(names[:-1])} and {names[-1]} from the cards in the picture."
    return "The picture shows a rectangle with its width and height."


def corpus_lines() -> list[str]:
    """Sentences of the world, for training the shared tokenizer's merges. Frozen at toy-v3's
    sentences: the tokenizer, and so the text teacher trained with it, stay the same across
    world versions that change only the pictures (v4's image questions are text-form tokens
    around image slots, which the tokenizer never sees as text)."""
    ps = problems("train", n=400, seed=12345)
    return [s for p in ps for s in (p.text_question(), f"{_v3_image_intro(p)} {p.tail}",
                                    f"{_v3_image_intro(p)} {TRANSCRIBE_TAIL}",
                                    trace(p, "teacher"), trace(p, "verbal"))]


def load_task_items(task, split: str, data=None, limit: int | None = None) -> list[Item]:
    """The harness's `toy` loader hook: `toy-text` (or any task named *-text) gives the text
    form, every other toy task the image form. `data` is unused (the world is generated)."""
    form = "text" if str(getattr(task, "name", task)).endswith("-text") else "image"
    return toy_items(split, form, limit=limit)


if __name__ == "__main__":  # python -m vold_bench.toy.world [out.png]: the sheet and its table
    import sys

    from vold_bench.toy.render import examples_sheet

    shown = problems("test", n=6)
    examples_sheet(shown).save(sys.argv[1] if len(sys.argv) > 1 else "docs/toy-examples.png")
    for p in shown:
        print(f"| {p.uid} | {p.image_question()} | {p.text_question()} | {p.answer} |")
