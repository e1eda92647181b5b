"""bench/toy_form_probe.py: the marked form is the text form with vision marks around each number,
and the probe's three forms of the shipped student are read as that model reads them."""
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
        # without the marks (and the space the image form leaves out) it is the text form
        assert q.replace(probe.MARKS[0], "").replace(probe.MARKS[1], "") == p.text_question()


@pytest.mark.slow
def test_probe_reads_all_three_forms_of_the_shipped_student():
    problems = [p for p in world.problems("test", n=12) if p.level == 1][:4]
    res = probe.probe("toy-student", problems)
    assert set(res) == {"text", "marked", "image"}
    # the untrained student reads one-step problems in every form and solves them
    for form in res.values():
        assert form["reading"] == {1: 100.0} and form["accuracy"] == {1: 100.0}
