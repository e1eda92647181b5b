"""Record -> Item converters on the upstream schemas (inline records, plus the real files
when ../shared is present)."""
from __future__ import annotations

import json

import pytest

from vold_bench.errors import VoldError
from vold_bench.published import shared_root
from vold_bench.records import (
    geo3k_item,
    geo3k_mc_item,
    logicvista_item,
    logicvista_labels,
    mathvision_item,
    mathvista_item,
    mmmu_pro_item,
)


def test_mathvista_mc_gold_is_the_option_letter():
    rec = {"pid": "6", "question": "length of AC is ()", "choices": ["6cm", "7cm", "4cm", "5cm"],
           "answer": "6cm", "question_type": "multi_choice", "answer_type": "text", "precision": None,
           "unit": None, "image": "images/6.jpg", "metadata": {"skills": ["geometry reasoning"]}}
    it = mathvista_item(rec)
    assert (it.answer_type, it.gold, it.labels, it.meta["gold_text"]) == ("choice", "A", list("ABCD"), "6cm")
    assert it.meta["skills"] == ["geometry reasoning"]


def test_mathvista_free_form_types():
    base = {"pid": "1", "question": "q", "choices": None, "question_type": "free_form", "unit": None}
    f = mathvista_item({**base, "answer": "1.2", "answer_type": "float", "precision": 1})
    assert (f.answer_type, f.precision) == ("float", 1)
    assert mathvista_item({**base, "answer": "3", "answer_type": "integer", "precision": None}).answer_type == "integer"
    assert mathvista_item({**base, "answer": "[1, 2]", "answer_type": "list", "precision": None}).answer_type == "text"
    with pytest.raises(VoldError, match="question_type"):
        mathvista_item({"pid": "9"})


def test_mathvision_choice_and_free_form():
    c = mathvision_item({"id": "2", "question": "q", "options": ["A", "B", "C", "D", "E"], "answer": "A",
                         "subject": "arithmetic", "level": 2, "image": "images/2.jpg"}, "/data/mv")
    assert (c.answer_type, c.gold, c.images, c.meta["level"]) == ("choice", "A", ["/data/mv/images/2.jpg"], 2)
    m = mathvision_item({"id": "1", "question": "q", "options": [], "answer": "60", "image": "images/1.jpg"})
    assert m.answer_type == "math"
    with pytest.raises(VoldError, match="record 3"):
        mathvision_item({"id": "3", "options": ["a", "b"], "answer": "Z"})


@pytest.mark.parametrize("question,gold,want", [
    ("What choice (A, B, C, or D) should be in place of the question mark?", "C", list("ABCD")),
    ("Who is the odd-one-out? Select answers from A-I", "G", list("ABCDEFGHI")),
    ("Select which of options A to F corresponds to the rule.", "E", list("ABCDEF")),
    ("Which is the correct answer according to the image? Select from 1-5", "3", list("ABCD") + list("12345")),
    ("Assuming visitors came via website W, X, Y or Z ... Select from A, B, C, and D.", "A", list("ABCD")),
])
def test_logicvista_labels(question, gold, want):
    assert logicvista_labels(question, gold) == want


def test_logicvista_multi_select_and_inline_options():
    it = logicvista_item("v1_422", {"question": "How far? Select from (A), (B), (C), (D), (E). (A) 4cm, (B) 6cm, "
                                                "(C) 8cm, (D) 9cm, (E) 12cm.", "answer": "E", "imagename": "v1_422.png",
                                    "skill": ["mechanical"]}, "/img")
    assert it.options == ["4cm", "6cm", "8cm", "9cm", "12cm"] and it.images == ["/img/v1_422.png"]
    multi = logicvista_item("v1_1", {"question": "Which choices (A-D) are green?", "answer": "C, A"})
    assert (multi.answer_type, multi.gold) == ("multi_choice", "A, C")
    empty = logicvista_item("v1_382", {"question": "", "answer": ""})
    assert empty.meta["gold_missing"]


def test_mmmu_pro_settings():
    rec = {"id": "test_History_1", "question": "Which explains <image 1>?", "answer": "B",
           "options": "['Political instability', 'Pathogens', 'Trade routes']", "subject": "History"}
    std = mmmu_pro_item(rec, "standard10")
    assert std.options == ["Political instability", "Pathogens", "Trade routes"] and std.labels == list("ABC")
    vis = mmmu_pro_item(rec, "vision")
    assert vis.question == "" and vis.options == [] and vis.meta["hidden_options"] == std.options
    nested = mmmu_pro_item({**rec, "options": "[['A', 'B', 'Not enough information']]"})
    assert nested.labels == list("ABC")
    with pytest.raises(VoldError, match="setting"):
        mmmu_pro_item(rec, "standard3")
    with pytest.raises(VoldError, match="options"):
        mmmu_pro_item({**rec, "options": "not a list ["})


def test_geo3k():
    it = geo3k_item({"problem": "<image>Find x.", "answer": "3\\sqrt{3}", "images": []}, idx=4)
    assert (it.id, it.question, it.answer_type) == ("4", "Find x.", "math")
    mc = geo3k_mc_item({"problem": "Find x.", "choices": ["3", "4", "5", "6"], "answer": "5"}, idx=1)
    assert (mc.gold, mc.answer_type) == ("C", "choice")


@pytest.mark.skipif(not (shared_root() / "benchmarks").is_dir(), reason="../shared absent")
def test_every_real_record_converts():
    b = shared_root() / "benchmarks"
    assert len([mathvista_item(r) for r in json.load(open(b / "mathvista/testmini.json")).values()]) == 1000
    assert len([mathvision_item(json.loads(x), b / "mathvision") for x in open(b / "mathvision/test.jsonl")]) == 3040
    lv = json.load(open(b / "logicvista/dataset.json"))
    items = [logicvista_item(k, r, b / "logicvista/images") for k, r in lv.items()]
    assert len(items) == 448 and all(set(i.gold.split(", ")) <= set(i.labels) for i in items if i.gold)
    for setting in ("standard10", "vision"):
        assert len([mmmu_pro_item(json.loads(x), setting) for x in open(b / "mmmu_pro/standard10.jsonl")]) == 1730
