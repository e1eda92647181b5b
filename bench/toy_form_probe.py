"""What tells a toy model the image form from the text form? Reading and accuracy of each
model on four forms of the same test problems, greedy:

  text     A = 8, B = 5. What is A + B?
  marked   the text form with each number between the vision marks Qwen2-VL's template puts
           around a picture (toy-v4's image form had them): A =<|vision_start|> 8<|vision_end|>, ...
  worded   the same with two ordinary words in place of the marks: A = is 8 then, ...
  image    A =<image>, B =<image>. What is A + B?  (toy-v5: each picture alone, in its number's place)

The marked form has no picture at all. Where a model reads it as badly as toy-v4's image form,
it is the marks, not the pictures, that its training did not reach; where it reads the worded
form as badly too, it is any change of the text around the numbers, not the marks as such.

    python bench/toy_form_probe.py MODEL [MODEL ...] [--n 300]

MODEL: a toy name (toy-student) or a saved student, e.g. results/runs/sft-only-s0/sft/final.
"""
from __future__ import annotations

import argparse
from collections import defaultdict

from vold_bench.prompts import IMAGE_MARK
from vold_bench.toy import world
from vold_train.toy import resolve_model
from vold_train.toy.check import boxed_int, generate
from vold_train.toy.preconditions import restated_ok

MARKS = ("<|vision_start|>", "<|vision_end|>")
WORDS = (" is", " then")


def marked_question(p: world.Problem, around: tuple[str, str] = MARKS) -> str:
    """The image form's question with each picture's place holding its number, as text, between
    `around` ("A =<|vision_start|> 8<|vision_end|>"; with WORDS "A = is 8 then")."""
    q = p.image_question()
    for v in p.values.values():
        q = q.replace(IMAGE_MARK, f"{around[0]} {v}{around[1]}", 1)
    return q


FORMS = {
    "text": lambda p: (p.text_question(), []),
    "marked": lambda p: (marked_question(p), []),
    "worded": lambda p: (marked_question(p, WORDS), []),
    "image": lambda p: (p.image_question(), p.pictures()),
}


def probe(model_name: str, problems: list[world.Problem]) -> dict[str, dict[str, dict[int, float]]]:
    """{form: {"reading" | "accuracy": {level: %}}}."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    path = resolve_model(model_name)  # every saved stage keeps the processor beside its weights
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    proc = AutoProcessor.from_pretrained(path)
    out = {}
    for form, make in FORMS.items():
        qs, ims = zip(*(make(p) for p in problems))
        answers = generate(model, proc, list(qs), list(ims) if form == "image" else None)
        hits = defaultdict(lambda: defaultdict(list))
        for p, a in zip(problems, answers):
            hits["reading"][p.level].append(restated_ok(a, p))
            hits["accuracy"][p.level].append(boxed_int(a) == p.answer)
        out[form] = {m: {lv: 100.0 * sum(v) / len(v) for lv, v in sorted(by.items())}
                     for m, by in hits.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--n", type=int, default=300, help="test problems (all 300 by default)")
    args = ap.parse_args()
    problems = world.problems("test")[:args.n]
    print("| model | form | reading L1/L2/L3 | accuracy L1/L2/L3 |")
    print("|---|---|---|---|")
    for name in args.models:
        for form, res in probe(name, problems).items():
            cells = ["/".join(f"{res[m][lv]:.0f}" for lv in sorted(res[m])) for m in ("reading", "accuracy")]
            print(f"| {name} | {form} | {cells[0]} | {cells[1]} |", flush=True)


if __name__ == "__main__":
    main()
