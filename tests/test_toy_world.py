import re

import numpy as np
import pytest

from vold_train.toy import world
from vold_train.toy.check import boxed_int


def test_same_seed_same_problems_and_pictures():
    a, b = world.toy_items("test", "image", limit=12), world.toy_items("test", "image", limit=12)
    assert [(x.id, x.question, x.gold) for x in a] == [(x.id, x.question, x.gold) for x in b]
    assert all(np.array_equal(np.asarray(x.images[0]), np.asarray(y.images[0])) for x, y in zip(a, b))
    t1, t2 = world.toy_problems("train", 50, seed=1), world.toy_problems("train", 50, seed=1)
    assert [x.question for x in t1] == [x.question for x in t2]
    assert [x.question for x in t1] != [x.question for x in world.toy_problems("train", 50, seed=2)]


def test_image_and_text_forms_agree_on_answers():
    img, txt = world.toy_items("test", "image"), world.toy_items("test", "text")
    assert len(img) == len(txt) == world.N_TEST
    assert [(i.id, i.gold, i.meta["level"]) for i in img] == [(t.id, t.gold, t.meta["level"]) for t in txt]
    assert all(len(i.images) == 1 and i.images[0].size == world.IMAGE_SIZES[i.meta["skill"]] for i in img)
    assert all(t.images == [] for t in txt)


def test_quantities_are_in_the_text_form_and_absent_from_the_image_form():
    for p in world.problems("test"):
        assert not re.search(r"\d", p.image_question()), p.image_question()
        assert not re.search(r"\d", p.transcribe_question())
        for v in p.values.values():
            assert re.search(rf"\b{v}\b", p.text_question())
        assert p.image_question().endswith(p.tail) and p.text_question().endswith(p.tail)


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


def test_value_cells_name_the_visual_token_that_shows_each_quantity():
    # change one quantity: the pixels that change all lie in the 28 px cell value_cells names
    from dataclasses import replace

    from vold_train.toy.render import CELL, value_cells

    for p in world.problems("test", n=12):
        a = np.asarray(p.render()).astype(int)
        cols = a.shape[1] // CELL
        for (cell, v), name in zip(value_cells(p), ["height", "width"] if p.skill == "rect" else list(p.values)):
            q = replace(p, values={**p.values, name: v % 9 + 1 if v != 9 else 2})
            if p.skill == "rect" and q.values == p.values:
                continue
            diff = np.argwhere((np.asarray(q.render()).astype(int) != a).any(-1))
            r, c = divmod(cell, cols)
            if p.skill == "cards":  # only the tag changes (rect: the drawn size changes too)
                assert len(diff) and all(r * CELL <= y < (r + 1) * CELL and c * CELL <= x < (c + 1) * CELL
                                         for y, x in diff), (p.uid, name)
            tag = [(y, x) for y, x in diff if r * CELL <= y < (r + 1) * CELL and c * CELL <= x < (c + 1) * CELL]
            assert tag, (p.uid, name)  # the label itself is drawn inside that cell


def test_toy_tasks_declare_the_world_version():
    # the revision goes into every toy results.json: vold compare tells worlds apart by it
    from vold_bench.tasks import get_task

    assert get_task("toy").revision == get_task("toy-text").revision == world.WORLD_VERSION
