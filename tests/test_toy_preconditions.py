"""The measuring functions behind bench/toy_preconditions.py, on hand-made samples."""
import json

import pytest
import torch

from vold_bench.toy import world
from vold_train.rl import teacher_divergences
from vold_train.toy import preconditions as pc


def _p(i=0):
    return world.problems("test")[i]


def test_restated_ok_needs_every_quantity_with_its_value():
    p = _p(2)  # cards, 3 quantities
    good = "<think>\n" + p.transcription() + "\n..."
    assert pc.restated_ok(good, p)
    names = list(p.values)
    last = names[-1]
    wrong = p.transcription().replace(f"{last} = {p.values[last]}", f"{last} = {p.values[last] + 1}")
    assert not pc.restated_ok(wrong, p)
    missing = ", ".join(f"{k} = {v}" for k, v in list(p.values.items())[:-1])
    assert not pc.restated_ok(missing, p)
    assert not pc.restated_ok("", p) and not pc.restated_ok(None, p)
    # the first statement of a name counts: a later correction does not make a misread right
    assert not pc.restated_ok(wrong + " " + p.transcription(), p)


def _samples(ids, correct, responses):
    return {i: {"id": i, "correct": c, "response": r} for i, c, r in zip(ids, correct, responses)}


def test_transfer_gap_pairs_only_items_read_right():
    ps = world.problems("test")[:4]
    ids = [f"toy-{p.uid}" for p in ps]
    read = [p.transcription() for p in ps]
    img = _samples(ids, [True, False, True, True], read[:3] + ["A = 99."])  # last one misread
    txt = _samples(ids, [False, True, False, True], read)
    gi, gt, n = pc.transfer_gap(img, txt)
    assert n == 3 and gi == pytest.approx(200 / 3) and gt == pytest.approx(100 / 3)


def test_paired_pools_seeds_without_mixing_their_items():
    ids = ["toy-test-0000", "toy-test-0001"]
    a = [_samples(ids, [False, False], ["", ""]), _samples(ids, [True, False], ["", ""])]
    b = [_samples(ids, [True, True], ["", ""]), _samples(ids, [True, True], ["", ""])]
    t = pc.paired(a, b)
    assert t.n == 4 and t.only_b == 3 and t.only_a == 0 and t.diff == pytest.approx(75.0)


def test_teacher_divergences_are_named_for_what_they_are():
    logp = torch.log(torch.tensor([[0.5, 0.25, 0.9]]))
    t_logp = torch.log(torch.tensor([[0.5, 0.5, 0.3]]))
    mask = torch.tensor([[1.0, 1.0, 0.0]])  # the last token is padding
    kl_full = torch.tensor([[0.1, 0.3, 7.0]])
    d = teacher_divergences(logp, t_logp, kl_full, mask)
    diff = torch.log(torch.tensor(0.5))  # log 0.25 - log 0.5
    assert d["teacher_k1"] == pytest.approx(float(diff) / 2)
    assert d["teacher_k2"] == pytest.approx(0.5 * float(diff) ** 2 / 2)
    assert d["teacher_rkl"] == pytest.approx(0.2)
    same = teacher_divergences(logp, logp, None, mask)
    assert same == {"teacher_k1": 0.0, "teacher_k2": 0.0}


def test_answers_reads_a_run_without_touching_it_and_names_what_is_wrong(tmp_path):
    from vold_bench.errors import VoldError

    with pytest.raises(VoldError, match=str(tmp_path / "samples.jsonl")):
        pc.answers(tmp_path)
    line = json.dumps({"id": "toy-test-0000", "correct": True, "response": _p(0).transcription()}) + "\n"
    (tmp_path / "samples.jsonl").write_text(line + "\n" + '["not", "an", "object"]\n')
    with pytest.raises(VoldError, match="line 3: expected a JSON object"):
        pc.answers(tmp_path)
    (tmp_path / "samples.jsonl").write_text(line + '{"id": "toy-test-0001", "correct": fal')  # torn tail
    with pytest.raises(VoldError, match="line 2: not valid JSON"):
        pc.answers(tmp_path)
    assert (tmp_path / "samples.jsonl").read_text().endswith("fal")  # read only: nothing truncated


def test_restated_share_counts_every_level_at_once():
    ps = world.problems("test")[:4]
    s = _samples([f"toy-{p.uid}" for p in ps], [True] * 4,
                 [ps[0].transcription(), ps[1].transcription(), "", "A = 99."])
    assert pc.restated_share(s) == pytest.approx(50.0)


def test_the_bench_scores_the_base_student_it_is_given(tmp_path, monkeypatch):
    """--student X (the ablation's sft.model): P0-P2 read X's answers, not the shipped student's."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import toy_preconditions as tp

    seen = []

    def fake_evaluate(model, out, limit, bench="toy"):
        seen.append((model, out.parent.name, bench))
        raise RuntimeError("stop after the evaluations")

    monkeypatch.setattr(tp, "evaluate", fake_evaluate)
    with pytest.raises(RuntimeError, match="stop after"):
        tp.checks(tmp_path, [0], str(tmp_path / "cand" / "student"))
    assert seen == [(str(tmp_path / "cand" / "student"), "base-student", "toy")]
