"""vold_train/toy/chains.py: the roles of an answer's numbers, carries, and the per-token
teacher KL the chain probe (bench/toy_chain_probe.py) splits by role."""
import math
import sys
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from vold_bench.toy import world
from vold_train.toy import chains, resolve_model
from vold_train.toy import preconditions as pc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_chain_probe  # noqa: E402

# a cold-started student's answer to test-0002 (A = 8, B = 2, C = 2; A + B - C = 8): the
# second line should start from 10, and starts from 7
WRONG = "<think>\nA = 8, B = 2, C = 2.\n8 + 2 = 10.\n7 - 2 = 3.\n</think>\nThe answer is \\boxed{3}."


def _spans(response):
    return [(response[a:b], role) for a, b, role in chains.role_spans(response)]


def test_role_spans_name_every_number_of_a_chain():
    assert _spans(WRONG) == [("8", "restated"), ("2", "restated"), ("2", "restated"),
                             ("8", "operand"), ("2", "operand"), ("10", "result"),
                             ("7", "carry"), ("2", "operand"), ("3", "result"), ("3", "boxed")]


def test_a_one_step_answer_has_no_carry_and_its_own_style_is_read_too():
    own = "A = 8, B = 5.\n8 + 5 = 13.\nAnswer: \\boxed{13}"
    assert [r for _, r in _spans(own)] == ["restated", "restated", "operand", "operand", "result", "boxed"]
    assert chains.chain_counts([(own, [8, 5])])["carries"] == 0


def test_token_roles_follow_the_tokenizer_offsets():
    tok = AutoTokenizer.from_pretrained(resolve_model("toy-student"))
    enc = tok(WRONG, add_special_tokens=False, return_offsets_mapping=True)
    roles = chains.token_roles(WRONG, enc["offset_mapping"])
    by_text = {}
    for i, role in zip(enc["input_ids"], roles):
        by_text.setdefault(tok.decode([i]), set()).add(role)
    assert by_text["7"] == {"carry"}
    assert by_text[" 10"] == {"result"}
    assert by_text["<think>"] == {"other"}
    assert len(roles) == len(enc["input_ids"])


@pytest.mark.parametrize("written, kind", [(10, "exact"), (8, "near"), (12, "near"), (5, "quantity"), (30, "other")])
def test_carry_kind(written, kind):
    assert chains.carry_kind(written, 10, [5, 2]) == kind


def test_chain_counts_sums_carries_and_boxed():
    right = "A = 8, B = 2, C = 2.\n8 + 2 = 10.\n10 - 2 = 8.\nThe answer is \\boxed{8}."
    c = chains.chain_counts([(WRONG, [8, 2, 2]), (right, [8, 2, 2])])
    assert (c["answers"], c["steps"], c["sum_ok"]) == (2, 4, 3)   # 7 - 2 = 3 is false
    assert (c["carries"], c["carry_exact"], c["carry_other"]) == (2, 1, 1)
    assert (c["boxed_seen"], c["boxed_is_last"]) == (2, 2)


def test_per_token_teacher_kl_covers_every_completion_token():
    samples = {"toy-test-0002": {"response": WRONG},
               "toy-test-0000": {"response": "A = 8, B = 5.\n8 + 5 = 13.\nAnswer: \\boxed{13}"}}
    student, teacher = resolve_model("toy-student"), resolve_model("toy-teacher")
    per = pc.per_token_teacher_kl(student, teacher, samples, batch=1)
    tok = AutoTokenizer.from_pretrained(student)
    for (response, offsets, kl), s in zip(per, samples.values()):
        assert response == s["response"]
        assert len(offsets) == len(kl) == len(tok(response, add_special_tokens=False)["input_ids"]) + 1
        assert offsets[-1] == (len(response), len(response))
        assert min(kl) > -1e-4
    mean = sum(sum(k) for _, _, k in per) / sum(len(k) for _, _, k in per)
    assert pc.exact_teacher_kl(student, teacher, samples) == pytest.approx(mean, rel=1e-5)
    # the student's own style is foreign to the teacher: its answer is far from the teacher's
    assert mean > 0.5


def _problem(steps, values):
    return world.Problem("t", "cards", len(steps), values, steps, "What is it?")


# test-0002: A + B - C with A = 8, B = 2, C = 2: 8 + 2 = 10, 10 - 2 = 8
P = pc.test_problem("toy-test-0002")


def test_corrupted_prefix_writes_the_first_result_off_and_says_where_carrying_it_leads():
    assert P.steps == [(8, "+", 2, 10), (10, "-", 2, 8)]
    prefix, followed, gold = chains.corrupted_prefix(P)
    assert prefix == "<think>\nA = 8, B = 2, C = 2.\n8 + 2 = 11.\n"
    assert (followed, gold) == (9, 8)
    # the clean prefix is the start of the teacher's own trace
    assert chains.chain_prefix(P) == "<think>\nA = 8, B = 2, C = 2.\n8 + 2 = 10.\n"
    assert world.trace(P, "teacher").startswith(chains.chain_prefix(P))
    assert chains.follow_kind(9, followed, gold) == "follows"
    assert chains.follow_kind(8, followed, gold) == "gold"
    assert chains.follow_kind(None, followed, gold) == "other"


def test_corrupted_prefix_refuses_what_the_answer_cannot_tell_apart():
    times_zero = _problem([(3, "+", 4, 7), (7, "*", 0, 0)], {"A": 3, "B": 4, "C": 0})  # "* 0" erases it
    assert chains.corrupted_prefix(times_zero) is None
    zero_first = _problem([(8, "-", 8, 0), (0, "*", 3, 0)], {"A": 8, "B": 8, "C": 3})
    assert chains.corrupted_prefix(zero_first)[1:] == (3, 0)
    assert chains.corrupted_prefix(_problem([(8, "+", 2, 10)], {"A": 8, "B": 2})) is None  # no later step
    assert chains.corrupted_prefix(P, delta=0) is None                                    # nothing corrupted


def test_the_shipped_teacher_carries_what_it_wrote():
    # The intervention the chain probe runs (--intervene): a first step written one off. The
    # teacher was trained on chains only, so it carries what is written; a model that
    # recomputed its carries would answer the true value instead and fail this.
    kinds, clean_right, clean_n = toy_chain_probe.intervene(resolve_model("toy-teacher"), "teacher", limit=60)
    n = sum(kinds.values())
    assert n >= 30 and clean_n == n
    assert kinds["follows"] >= 0.8 * n, kinds
    assert clean_right >= 0.9 * clean_n


def test_chain_line_counts_right_answers_whose_chain_is_not_the_problems():
    right = WRONG.replace("7 - 2 = 3.", "10 - 2 = 8.").replace("{3}", "{8}")
    unfaithful = ("<think>\nwidth = 7, height = 9.\n7 + 9 = 15.\n16 * 2 = 32.\n</think>\n"
                  "The answer is \\boxed{32}.")  # test-0003, 2 * (7 + 9): a wrong line, a right answer
    samples = {"toy-test-0002": {"response": right, "correct": True},
               "toy-test-0003": {"response": unfaithful, "correct": True},
               "toy-test-0000": {"response": "A = 8, B = 5.\n8 + 5 = 13.\nAnswer: \\boxed{13}", "correct": True}}
    line = toy_chain_probe.chain_line(samples)
    assert line.endswith("right, other chain 50% of 2"), line  # the L1 item does not count


def test_first_wrong_step_names_where_an_answer_leaves_the_problems_chain():
    p = pc.test_problem("toy-test-0002")  # A = 8, B = 2, C = 2: 8 + 2 = 10, 10 - 2 = 8
    right = WRONG.replace("7 - 2 = 3.", "10 - 2 = 8.").replace("{3}", "{8}")
    assert chains.first_wrong_step(right, p) == "right"
    assert chains.first_wrong_step(WRONG, p) == "carry2"  # starts from 7, not the written 10
    cases = {"short": right.replace("10 - 2 = 8.\n", ""),
             "operand1": right.replace("8 + 2 = 10.", "8 + 3 = 11.").replace("10 - 2", "11 - 2"),
             "operand2": right.replace("10 - 2 = 8.", "10 + 2 = 12."),
             "sum1": right.replace("8 + 2 = 10.", "8 + 2 = 11.").replace("10 - 2 = 8.", "11 - 2 = 9."),
             "boxed": right.replace("{8}", "{26}")}
    for kind, response in cases.items():
        assert chains.first_wrong_step(response, p) == kind, (kind, response)


def test_first_slip_points_at_the_first_wrong_number_and_the_value_the_chain_needs():
    p = pc.test_problem("toy-test-0002")  # A = 8, B = 2, C = 2: 8 + 2 = 10, 10 - 2 = 8
    right = WRONG.replace("7 - 2 = 3.", "10 - 2 = 8.").replace("{3}", "{8}")

    def slip(response):
        kind, span, value = chains.first_slip(response, p)
        return kind, span and response[span[0]:span[1]], value

    assert slip(WRONG) == ("carry2", "7", 10)
    assert slip(right.replace("8 + 2 = 10.", "8 + 3 = 11.").replace("10 - 2", "11 - 2")) == ("operand1", "3", 2)
    assert slip(right.replace("8 + 2 = 10.", "9 + 2 = 11.").replace("10 - 2", "11 - 2")) == ("operand1", "9", 8)
    assert slip(right.replace("10 - 2 = 8.", "10 + 2 = 12.")) == ("operand2", None, None)  # an operator
    assert slip(right.replace("10 - 2 = 8.", "10 - 2 = 9.")) == ("sum2", "9", 8)
    assert slip(right.replace("8 + 2 = 10.", "8 + 2 = 11.").replace("10 - 2 = 8.", "11 - 2 = 9.")) == ("sum1", "11", 10)
    assert slip(right.replace("{8}", "{26}")) == ("boxed", "26", 8)
    assert slip(right.replace("\\boxed{8}", "8")) == ("boxed", None, 8)
    assert slip(right) == ("right", None, None)
    assert slip(right.replace("10 - 2 = 8.\n", "")) == ("short", None, None)


def test_first_wrong_line_groups_wrong_multi_step_answers_by_skill_and_level():
    samples = {"toy-test-0002": {"response": WRONG, "correct": False},
               "toy-test-0000": {"response": "A = 8, B = 5.\n8 + 5 = 12.\nAnswer: \\boxed{12}", "correct": False}}
    assert toy_chain_probe.first_wrong_line(samples) == "cards L2: carry2 1 (of 1)"  # L1 items do not count


def test_number_logps_score_the_whole_number_and_only_it():
    # the shipped teacher at the carry of WRONG ("8 + 2 = 10.\n" then the next line's start):
    # over every number 0..99 the probabilities sum to ~1, so each candidate is scored on
    # exactly its own tokens, and the teacher carries the written 10
    from vold_train.common import load_model, load_tokenizer, teacher_prompt

    name = resolve_model("toy-teacher")
    tok, model = load_tokenizer(name), load_model(name, "teacher").eval()
    p = pc.test_problem("toy-test-0002")
    head, rest = WRONG[:WRONG.index("7 - 2")], WRONG[WRONG.index("7 - 2") + 1:]
    numbers = [str(n) for n in range(100)]
    [logps] = toy_chain_probe._number_logps(model, tok, [teacher_prompt(tok, p.text_question())],
                                            [(head, numbers, rest)])
    probs = dict(zip(numbers, map(math.exp, logps)))
    assert 0.95 < sum(probs.values()) <= 1.0 + 1e-6
    assert max(probs, key=probs.get) == "10"


def test_margins_read_both_models_at_the_first_slip():
    samples = {"toy-test-0002": {"response": WRONG, "correct": False},
               "toy-test-0000": {"response": "A = 8, B = 5.\n8 + 5 = 12.\nAnswer: \\boxed{12}", "correct": False}}
    out = toy_chain_probe.margins(resolve_model("toy-student"), resolve_model("toy-teacher"), samples)
    assert list(out) == ["cards L2 carry2"]  # the L1 item does not count
    [(s_right, s_wrote, t_right, t_wrote)] = out["cards L2 carry2"]
    assert all(0.0 < x <= 1.0 for x in (s_right, s_wrote, t_right, t_wrote))
    assert t_right > 0.9 and t_wrote < 0.01  # the teacher carries 10, not 7
    lines = toy_chain_probe.margin_lines(resolve_model("toy-student"), resolve_model("toy-teacher"), samples, least=1)
    assert lines[0].lstrip().startswith("cards L2 carry2") and "n   1" in lines[0]


def test_gained_line_counts_repairs_by_the_earlier_runs_first_slip():
    right2 = WRONG.replace("7 - 2 = 3.", "10 - 2 = 8.").replace("{3}", "{8}")
    before = {"toy-test-0002": {"response": WRONG, "correct": False},
              "toy-test-0000": {"response": "A = 8, B = 5.\n8 + 5 = 12.\nAnswer: \\boxed{12}", "correct": False},
              "toy-test-0001": {"response": "x", "correct": True}}
    after = {"toy-test-0002": {"response": right2, "correct": True},
             "toy-test-0000": {"response": "", "correct": True},
             "toy-test-0001": {"response": "", "correct": False}}
    line = toy_chain_probe.gained_line(before, after)
    assert line == "gained 2: cards L2 carry2 1, cards L1 one step 1; lost 1", line
