import re
import sys
import types

import pytest

from fake_openai_server import FakeServer, ok_reply
from vold_bench.errors import VoldError
from vold_bench.judge import Judge, parse_judge_reply
from vold_bench.schema import Item, Score

ITEM = Item(id="q1", question="Which is largest?", gold="C", answer_type="choice",
            options=["1", "2", "3"], labels=["A", "B", "C"])
NO_ANSWER = Score(extracted=None, gold="C", correct=False, parse_status="no_answer")


@pytest.fixture
def rule_scorer(monkeypatch):
    """A stand-in for vold_bench.scoring.score that only reads \\boxed{label}: the judge's
    contract is that its extraction is graded by the rule scorer on \\boxed{<answer>}."""
    seen = []

    def score(response, item, scorer="default", compat=False):
        seen.append((response, scorer))
        m = re.search(r"\\boxed\{(.*)\}", response)
        ext = m.group(1) if m else None
        return Score(extracted=ext, gold=item.gold, correct=ext == item.gold,
                     parse_status="ok" if ext else "no_answer", detail="boxed")

    monkeypatch.setitem(sys.modules, "vold_bench.scoring", types.SimpleNamespace(score=score))
    return seen


def test_only_unconfident_scores_are_judged(tmp_path, rule_scorer):
    with FakeServer(lambda b, n: (200, ok_reply("ANSWER: C"))) as s:
        j = Judge(s.url, "judge-m", tmp_path, scorer="mathvista")
        for status in ("ok", "truncated", "empty", "error"):
            assert j.judge(ITEM, "whatever", Score("A", "C", False, status)) is None
        assert s.bodies == []
        out = j.judge(ITEM, "I think the third one is the biggest.", NO_ANSWER)
    assert out.correct and out.extracted == "C" and out.parse_status == "ok"
    assert out.detail == "judge:judge-m"
    assert rule_scorer == [("\\boxed{C}", "mathvista")]
    # the judge is shown options and the response, never the gold answer
    prompt = s.bodies[0]["messages"][1]["content"]
    assert "C. 3" in prompt and "third one" in prompt and "gold" not in prompt.lower()
    assert s.bodies[0]["temperature"] == 0.0


def test_cache_survives_restart_and_torn_line(tmp_path, rule_scorer):
    with FakeServer(lambda b, n: (200, ok_reply("ANSWER: B"))) as s:
        j = Judge(s.url, "m", tmp_path)
        first = j.judge(ITEM, "resp", NO_ANSWER)
    with open(tmp_path / "judge_cache.jsonl", "a") as f:
        f.write('{"key": "torn')  # a killed run's last line
    with FakeServer(lambda b, n: (500, {})) as s2:  # endpoint down: must not be called
        j2 = Judge(s2.url, "m", tmp_path, max_retries=0)
        again = j2.judge(ITEM, "resp", NO_ANSWER)
    assert s2.bodies == [] and again == first and not again.correct
    assert j2.stats["cache_hits"] == 1


def test_failing_endpoint_stops_the_run(tmp_path, rule_scorer):
    with FakeServer(lambda b, n: (503, {"error": "down"})) as s:
        j = Judge(s.url, "m", tmp_path, max_retries=2, backoff=0.01)
        with pytest.raises(VoldError, match="judge unavailable, run stopped.*item q1.*3 attempts"):
            j.judge(ITEM, "resp", NO_ANSWER)
    assert not (tmp_path / "judge_cache.jsonl").exists() or "q1" not in (tmp_path / "judge_cache.jsonl").read_text()


def test_none_and_malformed_replies_count_as_no_answer(tmp_path, rule_scorer):
    replies = iter(["ANSWER: NONE", "I cannot tell."])
    with FakeServer(lambda b, n: (200, ok_reply(next(replies)))) as s:
        j = Judge(s.url, "m", tmp_path)
        a = j.judge(ITEM, "resp one", NO_ANSWER)
        b = j.judge(ITEM, "resp two", NO_ANSWER)
    for out in (a, b):
        assert out.parse_status == "no_answer" and not out.correct and out.detail.endswith(":none")
    assert rule_scorer == []


def test_parse_judge_reply():
    assert parse_judge_reply("thinking...\nANSWER: 2\nANSWER: `3.5`") == "3.5"
    assert parse_judge_reply("answer: none.") is None
    assert parse_judge_reply("no format at all") is None
