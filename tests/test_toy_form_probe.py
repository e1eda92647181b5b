"""bench/toy_form_probe.py: the marked and worded forms are the text form with vision marks or two
words around each number, and the probe reads every form of the shipped student."""
import sys
from pathlib import Path

import pytest

from vold_bench.toy import world

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_form_probe as probe  # noqa: E402


def test_the_marked_form_is_the_text_form_with_marks_around_each_number():
    for p in world.problems("test", n=30):
        q = probe.marked_question(p)
        assert "<image>" not in q
        assert q.count(probe.MARKS[0]) == q.count(probe.MARKS[1]) == len(p.values)
        # without the marks it is the text form; with the words, each number stands between them
        assert q.replace(probe.MARKS[0], "").replace(probe.MARKS[1], "") == p.text_question()
        expected = p.text_question()
        for k, v in p.values.items():
            expected = expected.replace(f"{k} = {v}", f"{k} = is {v} then", 1)
        assert probe.marked_question(p, probe.WORDS) == expected


@pytest.mark.slow
def test_probe_reads_all_four_forms_of_the_shipped_student():
    problems = [p for p in world.problems("test", n=12) if p.level == 1][:4]
    res = probe.probe("toy-student", problems)
    assert set(res) == {"text", "marked", "worded", "image"}
    # the untrained student reads and solves one-step problems in the text form and in the
    # image form (the layout it was trained on), and reads the layouts it never saw worse
    # (toy-v5: 0% of these four each; docs/toy-world.md)
    for name in ("text", "image"):
        assert res[name]["reading"] == {1: 100.0} and res[name]["accuracy"] == {1: 100.0}
    for name in ("marked", "worded"):
        assert set(res[name]["reading"]) == {1} and res[name]["reading"][1] < res["image"]["reading"][1]
