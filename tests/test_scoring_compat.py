"""compat=True reproduces the official scorers (MATH-V's rule-based evaluator, MMMU-Pro's
parser with its random fallback under a fixed seed); the default stays deterministic."""
from __future__ import annotations

import pytest

from vold_bench.schema import Item
from vold_bench.scoring import score, scorer_version
from vold_bench.scoring.compat import mathv_extract, mathv_is_equal, mmmu_pro_parse

LABELS10 = list("ABCDEFGHIJ")


@pytest.mark.parametrize("resp,want", [
    ("The answer is \\boxed{60}.", "60"),
    ("so the answer is (D).", "d"),
    ("\\boxed{2 1/2}", "\\frac{21}{2}"),             # MATH-V drops the space: a faithful bug
    ("The answer is \\textbf{A}.", "bfa"),
    ("(D) 105", "d105"),
    ("80", "80"),
    ("Therefore, the answer is 12. That is all", "12"),
])
def test_mathv_extract_matches_official(resp, want):
    assert mathv_extract(resp) == want


def test_mathv_is_equal_rounds_to_two_decimals_like_the_original():
    assert mathv_is_equal("\\frac{1}{3}", "0.33")
    assert mathv_is_equal("1:1", "1")                 # latex2sympy reads ':' as division
    assert not mathv_is_equal("3\\sqrt{2}", "3√2")    # ... and does not know unicode roots
    assert not mathv_is_equal("", "1")


def test_mathvision_compat_vs_default():
    item = Item(id="87", question="", gold="B", answer_type="choice", labels=list("ABCDE"),
                options=["$4 \\mathrm{~kg}$", "$8 \\mathrm{~kg}$", "$30 \\mathrm{~kg}$", "$56 \\mathrm{~kg}$", "$112 \\mathrm{~kg}$"])
    resp = "8 kg"
    assert not score(resp, item, "mathvision", compat=True).correct   # the official misses it
    assert score(resp, item, "mathvision").correct                    # the option's value


def test_mmmu_pro_compat_random_fallback_is_seeded():
    item = Item(id="test_Art_1", question="", gold="C", answer_type="choice", labels=LABELS10,
                meta={"hidden_options": [f"opt {i}" for i in range(10)]})
    a = score("no idea", item, "mmmu_pro", compat=True)
    b = score("no idea", item, "mmmu_pro", compat=True)
    assert a.extracted == b.extracted and a.extracted in LABELS10
    assert "random" in a.detail and a.parse_status == "no_answer"
    # the default never guesses
    d = score("no idea", item, "mmmu_pro")
    assert d.extracted is None and not d.correct
    # different items draw independently, but deterministically
    draws = {mmmu_pro_parse("??", LABELS10, [], f"id{i}")[0] for i in range(40)}
    assert len(draws) > 3


def test_mmmu_pro_parser_rules():
    opts = [f"option {c}" for c in LABELS10]
    assert mmmu_pro_parse("Answer: (H)", LABELS10, opts, "x") == ("H", False)
    assert mmmu_pro_parse("blah (B) or (D)", LABELS10, opts, "x") == ("D", False)   # last bracketed
    # the official parser takes the pronoun "I" for a label: compat keeps that bug
    assert mmmu_pro_parse("I'm sorry, I can't help with that.", LABELS10, opts, "x") == ("I", False)
    item = Item(id="x", question="", gold="I", answer_type="choice", labels=LABELS10, options=opts)
    assert score("I'm sorry, I can't help with that.", item, "mmmu_pro", compat=True).correct
    assert not score("I'm sorry, I can't help with that.", item, "mmmu_pro").correct


def test_compat_changes_the_version_string():
    assert "compat" in scorer_version("mathvision", compat=True)
    assert "compat" not in scorer_version("mathvision")
    assert scorer_version("mathvista", compat=True) == scorer_version("mathvista")   # no compat mode
