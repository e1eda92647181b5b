"""bench/toy_sharpening.py: sampled answers sit beside the ablation's greedy ones, each variant is
paired with its own cold start, and the items it gained and lost are both counted."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_sharpening as sh  # noqa: E402

from vold_train.toy import chains  # noqa: E402

IDS = ["toy-test-0000", "toy-test-0001", "toy-test-0002", "toy-test-0003"]


def _run(correct):
    return {i: {"id": i, "correct": c, "response": ""} for i, c in zip(IDS, correct)}


def test_row_pairs_with_the_cold_start_and_counts_gains_and_losses():
    ref = [_run([True, False, False, True])]
    mine = [_run([True, True, True, False])]
    line = sh.row("grpo-only", ref, mine)
    assert line.startswith("grpo-only: 75.0, minus sft-only +25.0 ")
    assert line.endswith("2 of 4 items gained, 1 lost")
    assert sh.row("sft-only", ref, ref) == "sft-only: 50.0"


def _write_eval(folder: Path, correct, model: str | None = None) -> None:
    folder.mkdir(parents=True)
    (folder / "run_key.json").write_text(json.dumps({"model": model}))  # as the harness records it
    (folder / "results.json").write_text(json.dumps({"accuracy": 100 * sum(correct) / len(correct)}))
    (folder / "samples.jsonl").write_text("".join(json.dumps(s) + "\n" for s in _run(correct).values()))


def test_sampled_answers_are_read_from_their_own_folder_and_reused(tmp_path):
    run = tmp_path / "grpo-only-s3"
    (run / "rl" / "final").mkdir(parents=True)
    (run / "rl" / "final" / "config.json").write_text("{}")
    model = sh.final_model(run)
    _write_eval(run / "eval-toy-text", [True, True, True, True], model)       # greedy, the ablation's
    _write_eval(run / "eval-toy-text-t1", [False, True, False, False], model)  # sampled at temperature 1
    greedy = sh.answers(tmp_path, "grpo-only", [3], 0.0)
    sampled = sh.answers(tmp_path, "grpo-only", [3], 1.0)  # results.json exists: nothing is evaluated
    assert [sum(a["correct"] for a in r.values()) for r in (greedy[0], sampled[0])] == [4, 1]


def test_a_run_without_a_model_is_named(tmp_path):
    (tmp_path / "opd-only-s0").mkdir()
    with pytest.raises(SystemExit, match="opd-only-s0: no finished model"):
        sh.answers(tmp_path, "opd-only", [0], 1.0)
    (tmp_path / "opd-only-s0" / "sft" / "final").mkdir(parents=True)
    (tmp_path / "opd-only-s0" / "sft" / "final" / "config.json").write_text("{}")
    assert sh.final_model(tmp_path / "opd-only-s0").endswith("sft/final")


def test_per_item_splits_sampled_success_by_greedy_right_and_wrong():
    # test-0000 and -0001 are L1 items, -0002 and -0003 L2 (world.problems("test") order)
    greedy = _run([True, False, False, True])
    samples = [_run([True, True, False, True]), _run([False, False, False, True])]
    assert sh.per_item_lines(greedy, samples) == [
        "L1: greedy wrong 1 items, sampled right 50%; greedy right 1 items, sampled right 50%",
        "L2: greedy wrong 1 items, sampled right 0%; greedy right 1 items, sampled right 100%"]


def test_k_sampled_runs_use_one_folder_and_seed_each(tmp_path, monkeypatch):
    run = tmp_path / "sft-only-s5"
    (run / "sft" / "final").mkdir(parents=True)
    (run / "sft" / "final" / "config.json").write_text("{}")
    calls = []

    def fake_evaluate(model, out, limit, bench, temperature, seed=0):
        calls.append((out.name, temperature, seed))
        _write_eval(out, [seed == 0, True, False, False])

    monkeypatch.setattr(sh, "evaluate", fake_evaluate)
    got = sh.sampled_runs(run, 3, 1.0)
    assert calls == [("eval-toy-text-t1", 1.0, 0), ("eval-toy-text-t1-s1", 1.0, 1), ("eval-toy-text-t1-s2", 1.0, 2)]
    assert [r["toy-test-0000"]["correct"] for r in got] == [True, False, False]


def test_training_line_reads_first_and_last_blocks_of_reward_and_pass_at_g(tmp_path):
    for s, (r0, r1) in ((5, (0.4, 0.6)), (6, (0.2, 0.4))):
        run = tmp_path / f"grpo-only-s{s}"
        run.mkdir()
        rows = [{"stage": "sft", "loss": 1.0}]
        rows += [{"stage": "rl", "reward": r0, "pass_at_g": 0.7} for _ in range(20)]
        rows += [{"stage": "rl", "reward": r1, "pass_at_g": 0.7} for _ in range(20)]
        (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert sh.training_line(tmp_path, "grpo-only", [5, 6]) == "grpo-only: reward 0.300 -> 0.500, pass@G 0.700 -> 0.700"
    assert sh.training_line(tmp_path, "grpo-only", [5, 7]) is None  # a seed without its run: no mean of part


def _answer(step1: str, step2: str, boxed: int) -> str:
    return f"<think>\nA = 8, B = 2, C = 2.\n{step1}\n{step2}\n</think>\nThe answer is \\boxed{{{boxed}}}."


def test_per_slip_counts_the_samples_that_get_past_the_greedy_answers_first_wrong_step():
    # toy-test-0002: A = 8, B = 2, C = 2, A + B - C = 8 (cards L2); greedy subtracts 1, not C
    item = "toy-test-0002"
    greedy = {item: {"id": item, "correct": False, "response": _answer("8 + 2 = 10.", "10 - 1 = 9.", 9)}}
    right = {"id": item, "correct": True, "response": _answer("8 + 2 = 10.", "10 - 2 = 8.", 8)}
    bad_sum2 = {"id": item, "correct": False, "response": _answer("8 + 2 = 10.", "10 - 2 = 7.", 7)}
    same = {"id": item, "correct": False, "response": _answer("8 + 2 = 10.", "10 - 1 = 9.", 9)}
    bad_sum1 = {"id": item, "correct": False, "response": _answer("8 + 2 = 11.", "11 - 2 = 9.", 9)}
    samples = [{item: a} for a in (right, bad_sum2, same, bad_sum1)]
    assert sh.per_slip_lines(greedy, samples, least=1) == [
        "cards L2 operand2: 1 items; samples past it 2/4 (50.0%), 1 of them right; items past it in at least 1 of 4: 1"]
    assert sh.per_slip_lines(greedy, samples) == []  # fewer items than `least`: no line
    greedy[item] = right  # a right greedy answer has no slip
    assert sh.per_slip_lines(greedy, samples, least=1) == []


def test_a_slip_later_in_the_chain_is_past_an_earlier_one():
    assert chains.past_slip("sum2", "operand2") and chains.past_slip("right", "boxed")
    assert chains.past_slip("boxed", "sum3") and chains.past_slip("carry3", "sum2")
    assert not chains.past_slip("carry2", "operand2")  # step 2's carry is checked before its operand
    assert not chains.past_slip("operand2", "operand2") and not chains.past_slip("short", "operand1")
    with pytest.raises(ValueError, match="not a first_wrong_step class"):
        chains.slip_rank("nonsense")
