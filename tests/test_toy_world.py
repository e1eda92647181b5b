import re

import numpy as np
import pytest

from vold_bench.toy import world
from vold_train.toy.check import boxed_int


def test_same_seed_same_problems_and_pictures():
    a, b = world.toy_items("test", "image", limit=12), world.toy_items("test", "image", limit=12)
    assert [(x.id, x.question, x.gold) for x in a] == [(x.id, x.question, x.gold) for x in b]
    assert all(np.array_equal(np.asarray(u), np.asarray(v))
               for x, y in zip(a, b) for u, v in zip(x.images, y.images, strict=True))
    t1, t2 = world.toy_problems("train", 50, seed=1), world.toy_problems("train", 50, seed=1)
    assert [x.question for x in t1] == [x.question for x in t2]
    assert [x.question for x in t1] != [x.question for x in world.toy_problems("train", 50, seed=2)]


def test_image_and_text_forms_agree_on_answers():
    img, txt = world.toy_items("test", "image"), world.toy_items("test", "text")
    assert len(img) == len(txt) == world.N_TEST
    assert [(i.id, i.gold, i.meta["level"]) for i in img] == [(t.id, t.gold, t.meta["level"]) for t in txt]
    assert all(len(i.images) == len(i.meta["values"]) and {im.size for im in i.images} == {world.PICTURE_SIZE}
               for i in img)
    assert all(i.meta["image_layout"] == "inline" for i in img)
    assert all(t.images == [] and "image_layout" not in t.meta for t in txt)


def test_the_image_form_is_the_text_form_with_a_picture_for_each_number():
    from vold_bench.prompts import IMAGE_MARK

    for p in world.problems("test"):
        assert not re.search(r"\d", p.image_question()), p.image_question()
        assert not re.search(r"\d", p.transcribe_question())
        for v in p.values.values():
            assert re.search(rf"\b{v}\b", p.text_question())
        assert p.image_question().endswith(p.tail) and p.text_question().endswith(p.tail)
        # put the numbers back where the marks are: exactly the text form
        filled = p.image_question()
        for v in p.values.values():
            filled = filled.replace(IMAGE_MARK, f" {v}", 1)
        assert filled == p.text_question()


def test_answers_follow_the_steps_and_levels_count_them():
    for p in world.problems("train", n=300, seed=3):
        assert len(p.steps) == p.level
        assert all(world.OPS[op](a, b) == c for a, op, b, c in p.steps)
        assert all(x[3] == y[0] for x, y in zip(p.steps, p.steps[1:]))  # a chain
        if p.skill == "cards":  # the question's expression, evaluated by hand, agrees
            v = p.values
            expr = p.tail[len("What is "):-1]
            assert _eval_letters(expr, v) == p.answer
    levels = [p.level for p in world.problems("test")]
    assert {lv: levels.count(lv) for lv in world.LEVELS} == {1: 100, 2: 100, 3: 100}


def _eval_letters(expr: str, values: dict) -> int:
    # tiny recursive-descent evaluator for "(A + B) * C - D" (no eval of generated text)
    toks = re.findall(r"[A-D]|[-+*()]", expr)
    pos = 0

    def atom():
        nonlocal pos
        t = toks[pos]
        pos += 1
        if t == "(":
            v = add()
            pos += 1
            return v
        return values[t]

    def mul():
        nonlocal pos
        v = atom()
        while pos < len(toks) and toks[pos] == "*":
            pos += 1
            v *= atom()
        return v

    def add():
        nonlocal pos
        v = mul()
        while pos < len(toks) and toks[pos] in "+-":
            op = toks[pos]
            pos += 1
            v = v + mul() if op == "+" else v - mul()
        return v

    return add()


def test_train_never_contains_a_test_problem():
    test = {p.key() for p in world.problems("test")}
    assert not test & {p.key() for p in world.problems("train", n=3000, seed=0)}


def test_traces_in_both_styles_are_correct_and_differ():
    for rec_t, rec_m in zip(world.toy_traces("train", "teacher", 40), world.toy_traces("train", "mismatched", 40)):
        assert rec_t["question"] == rec_m["question"]
        assert boxed_int(rec_t["response"]) == boxed_int(rec_m["response"]) == int(rec_t["gold"])
        assert rec_t["response"].startswith("<think>\n") and "</think>" in rec_m["response"]
        assert "Step 1:" in rec_m["response"] and "Step 1:" not in rec_t["response"]
    with pytest.raises(ValueError):
        world.trace(world.problems("test", n=1)[0], "nope")


def test_transcription_round_trips():
    for p in world.problems("test", n=20):
        assert world.parse_transcription(p.transcription()) == p.values
    assert world.parse_transcription("A = 3, B = 4, A = 9.") == {"A": 3, "B": 4}


def test_every_style_but_verbal_states_what_it_read_first():
    from vold_train.toy.preconditions import restated_ok

    for p in world.problems("train", n=60, seed=5):
        for style in ("teacher", "mismatched", "student"):
            r = world.trace(p, style)
            assert restated_ok(r, p), (style, r)
            # the statement comes before the first step's result
            assert r.index(f"= {p.values[list(p.values)[-1]]}") < r.index(str(p.steps[0][3]), r.index("."))
        assert not restated_ok(world.trace(p, "verbal"), p)


def test_the_student_style_is_a_weak_reasoner():
    # one step, then that step's result as the answer: right on L1, wrong beyond
    for p in world.problems("train", n=200, seed=6):
        got = boxed_int(world.trace(p, "student"))
        assert got == p.steps[0][3]
        assert (got == p.answer) == (p.level == 1) or p.steps[0][3] == p.answer
        assert "<think>" not in world.trace(p, "student")


def test_each_picture_shows_its_own_quantity_and_only_that():
    # change one quantity: only that quantity's picture changes, and pictures of the same
    # number at the same place and tint are identical (nothing else leaks into them)
    from dataclasses import replace

    for p in world.problems("test", n=12):
        pics = [np.asarray(im).astype(int) for im in p.pictures()]
        for k, name in enumerate(p.values):
            v = p.values[name]
            q = replace(p, values={**p.values, name: v % 9 + 1 if v != 9 else 2})
            changed = [j for j, (a, b) in enumerate(zip(pics, q.pictures()))
                       if not np.array_equal(a, np.asarray(b).astype(int))]
            assert changed == [k], (p.uid, name, changed)


def test_inline_prompts_put_each_picture_in_place_of_its_mark():
    from vold_bench.errors import VoldError
    from vold_bench.prompts import build_request, content_parts, prompt_text

    item = world.toy_items("test", "image", limit=3)[2]
    req = build_request(item, "{question}")
    parts = req.messages[0]["content"]
    assert [x["type"] for x in parts][:3] == ["text", "image", "text"]
    assert sum(x["type"] == "image" for x in parts) == len(req.images) == len(item.images)
    assert prompt_text(req) == item.question
    with pytest.raises(VoldError, match="1 <image> marks in the text for 2 images"):
        content_parts("A =<image>.", 2, inline=True, where="x")
    # every other benchmark keeps images first, whatever its text says
    assert [x["type"] for x in content_parts("see <image>", 1)] == ["image", "text"]


def test_toy_tasks_declare_the_world_version():
    # the revision goes into every toy results.json: vold compare tells worlds apart by it
    from vold_bench.tasks import get_task

    assert get_task("toy").revision == get_task("toy-text").revision == world.WORLD_VERSION


def test_mixed_forms_show_each_quantity_once_as_picture_or_text():
    # build.student_mixed (a diagnostic): a mixed problem is still the text form once each
    # picture is put back as its number, and the alignment targets name the pictured ones only
    from vold_bench.prompts import IMAGE_MARK
    from vold_train.toy.build import _student_examples

    exs = _student_examples(11, 40, mixed=1.0)
    mixed = [e for e in exs if len(e) > 3 and not e[0].endswith(world.TRANSCRIBE_TAIL)
             and e[0].count(IMAGE_MARK) < len(world.parse_transcription(e[1]))]
    assert mixed, "share 1.0 should mix some problems"
    for q, resp, pics, shown in mixed:
        assert len(pics) == q.count(IMAGE_MARK) == len(shown.values)
        filled = q
        for v in shown.values.values():
            filled = filled.replace(IMAGE_MARK, f" {v}", 1)
        stated = world.parse_transcription(resp)
        assert all(re.search(rf"\b{k} = {v}\b", filled) for k, v in stated.items()), (filled, resp)
