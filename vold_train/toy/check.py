"""The toy models' report card: the numbers `vold toy build` writes into build.json.

Greedy decoding with plain transformers; the harness (`vold eval --bench toy`) measures the
same things through the benchmark path with the shared `toy` scorer.
"""
from __future__ import annotations

import re
from collections import defaultdict

import torch

from vold_bench.prompts import chat_prompt
from vold_bench.toy import world

_BOXED = re.compile(r"\\boxed\{\s*(-?\d+)\s*\}")


def boxed_int(text: str) -> int | None:
    found = _BOXED.findall(text)
    return int(found[-1]) if found else None


@torch.no_grad()
def generate(model, processor_or_tok, questions: list[str], images=None, batch: int = 50,
             max_new_tokens: int = 96) -> list[str]:
    """Greedy answers; `images` holds each question's pictures (a list per question), which
    go where the question's <image> marks are."""
    tok = getattr(processor_or_tok, "tokenizer", processor_or_tok)
    out = []
    for i in range(0, len(questions), batch):
        qs = questions[i:i + batch]
        ims = images[i:i + batch] if images else [[] for _ in qs]
        texts = [chat_prompt(tok, q, len(im), inline=True) for q, im in zip(qs, ims)]
        flat = [im for row in ims for im in row]
        if flat:
            enc = processor_or_tok(text=texts, images=flat, return_tensors="pt", padding=True,
                                   padding_side="left")
        else:
            enc = tok(texts, return_tensors="pt", padding=True, padding_side="left",
                      add_special_tokens=False)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                             pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        out += tok.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def _acc(flags: list[bool], levels: list[int]) -> dict:
    by = defaultdict(list)
    for f, lv in zip(flags, levels):
        by[lv].append(f)
    return {"accuracy": round(100 * sum(flags) / max(1, len(flags)), 1), "n": len(flags),
            "by_level": {str(k): round(100 * sum(v) / len(v), 1) for k, v in sorted(by.items())}}


def evaluate_pair(student_dir, teacher_dir, n: int = 300, max_new_tokens: int = 96) -> dict:
    from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

    ps = world.problems("test", n=n)
    levels = [p.level for p in ps]
    images = [p.pictures() for p in ps]
    teacher = AutoModelForCausalLM.from_pretrained(teacher_dir).eval()
    ttok = AutoTokenizer.from_pretrained(teacher_dir)
    student = AutoModelForImageTextToText.from_pretrained(student_dir).eval()
    proc = AutoProcessor.from_pretrained(student_dir)

    res = {}
    t_text = generate(teacher, ttok, [p.text_question() for p in ps], max_new_tokens=max_new_tokens)
    res["teacher_text"] = _acc([boxed_int(r) == p.answer for r, p in zip(t_text, ps)], levels)

    trans = generate(student, proc, [p.transcribe_question() for p in ps], images,
                     max_new_tokens=min(32, max_new_tokens))
    res["student_transcription"] = _acc(
        [world.parse_transcription(r) == p.values for r, p in zip(trans, ps)], levels)

    s_img = generate(student, proc, [p.image_question() for p in ps], images, max_new_tokens=max_new_tokens)
    res["student_image"] = _acc([boxed_int(r) == p.answer for r, p in zip(s_img, ps)], levels)
    # reading inside the problems: every quantity stated right before it reasons (P0)
    res["student_reading_in_problems"] = _acc(
        [all(world.parse_transcription(r).get(k) == v for k, v in p.values.items()) for r, p in zip(s_img, ps)],
        levels)
    s_text = generate(student, proc, [p.text_question() for p in ps], max_new_tokens=max_new_tokens)
    res["student_text"] = _acc([boxed_int(r) == p.answer for r, p in zip(s_text, ps)], levels)

    # perception by the student, reasoning by the teacher: the teacher reads the student's
    # transcription in place of the true quantities
    piped = [f"{p._intro_text()}{r.strip().splitlines()[0] if r.strip() else ''} {p.tail}"
             for r, p in zip(trans, ps)]
    t_pipe = generate(teacher, ttok, piped, max_new_tokens=max_new_tokens)
    res["teacher_on_student_transcription"] = _acc(
        [boxed_int(r) == p.answer for r, p in zip(t_pipe, ps)], levels)
    res["examples"] = {"teacher_text": t_text[:2], "student_transcription": trans[:2],
                       "student_image": s_img[:3]}
    return res


if __name__ == "__main__":  # python -m vold_train.toy.check [models_dir] [n]
    import json
    import sys
    from pathlib import Path

    from vold_train.toy import models_dir

    root = Path(sys.argv[1]) if len(sys.argv) > 1 else models_dir()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    res = evaluate_pair(root / "student", root / "teacher", n=n)
    print(json.dumps(res, indent=1))
