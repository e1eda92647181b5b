"""Scorer 1.3 (issue 13): the ten failure classes met on published outputs nobody tuned the
scorer to. Every row is written for this file (none is quoted from a published output): a
GOLDEN row is a response of the class that must now be read as stated, a GUARD row a near
miss that one named guard keeps unread (or read as before). Each guard was checked by
removing it: its GUARD row then fails (docs/scoring.md, "Scorer 1.3")."""
from __future__ import annotations

import pytest

from vold_bench.schema import Item
from vold_bench.scoring import SCORER_VERSIONS, score, scorer_version
from vold_bench.scoring.extract import choice_from_segment
from vold_bench.scoring.options import label_tokens

L4, L5, L10 = list("ABCD"), list("ABCDE"), list("ABCDEFGHIJ")
LETTERS = ["A", "B", "C", "D", "E"]          # options that are only their own letters (image options)
YN = ["Yes", "No"]
CHANGE = ["It increases", "It decreases", "It stays the same", "Impossible to tell"]
SPEED = ["Increases", "Decreases", "Stays the same", "Impossible to tell"]
HEMI = ["Southern hemisphere", "Northern hemisphere", "Both", "Neither"]
ANGLES = ["90°", "120°", "150°", "180°"]
SETS = ["Set A", "Set B", "Neither set A nor set B"]
SOLUTIONS = ["Solution A", "Solution B", "Neither; their concentrations are the same"]
MODELS = ["FNO", "PDE-Refiner", "U-Net", "DeepONet"]


def mc(gold, labels=L4, options=(), question="", multi=False):
    return dict(gold=gold, labels=labels, options=list(options), question=question,
                answer_type="multi_choice" if multi else "choice")


def free(gold, at="integer", question=""):
    return dict(gold=gold, labels=[], options=[], question=question, answer_type=at)


# (class, name, response, item, extracted, correct, rule or None)
GOLDEN = [
    # 1. refusals and one-letter options
    (1, "refusal_text_model", "As a text-based AI model, I'm unable to see the image you are referring to. If you "
     "describe the shapes, I can help you work out which one comes next.", mc("A", L5, LETTERS), None, False, "refusal"),
    (1, "refusal_no_access", "I don't have the ability to view images, so I can only say that such puzzles usually "
     "rotate the figure.", mc("A", L5, LETTERS), None, False, "refusal"),
    (1, "article_opens_sentence", "A cube has six faces, and when the net is folded the shaded face ends up opposite "
     "the dotted one.", mc("A", L5, LETTERS), None, False, None),
    (1, "one_letter_option_alone", "C", mc("C", L5, LETTERS), "C", True, "bare"),
    # 2. echoed labels
    (2, "dash_run", "A-B-C-D-E", mc("A", L5), None, False, "echo"),
    (2, "bracket_run", "A) B) C) D)", mc("A"), None, False, "echo"),
    (2, "enumeration_cut_off", "(A) 12 cm\n(B) 15 cm\n(C) 18 cm\n(D)", mc("D", L4, ["12 cm", "15 cm", "18 cm", "20 cm"]),
     None, False, "echo"),
    # 3. invented follow-up questions
    (3, "followup_choice", "The arrow turns 90 degrees each step, so the answer is B.\n\nQuestion: How many red balls "
     "are in the box?\nChoices: (A) 2 (B) 3 (C) 4 (D) 5\nAnswer: C", mc("B"), "B", True, "anchor+followup_cut"),
    (3, "followup_number", "Counting the rows gives 3 rows of 4 chairs, so the answer is 12.\n\nQuestion: What is the "
     "perimeter of a square with side 4?\nAnswer: 16", free("12"), "12", True, "anchor+followup_cut"),
    # 4. an option in other words
    (4, "inflected_option", "When the foxes disappear, the rabbits multiply and eat more grass, so the amount of "
     "grass would decrease.", mc("B", L4, CHANGE), "B", True, "prose_paraphrase"),
    (4, "slot_distinctive_word", "answer : northern", mc("B", L4, HEMI), "B", True, "anchor_paraphrase"),
    (4, "slot_direction_word", "answer: slow", mc("B", L4, SPEED), "B", True, "anchor_paraphrase"),
    (4, "option_phrase_mid_sentence", "The tiles on the left have rounded corners and the tiles on the right have "
     "sharp ones; the new figure has three sharp corners and one straight edge, like every tile in the second group "
     "and unlike the first, whose shapes are all curved. Looking at the corners, the figure belongs to set B because "
     "it has exactly three of them.", mc("B", L4, ["Set A", "Set B", "Set C"]), "B", True, "prose_paraphrase"),
    # 5. letter wordings
    (5, "select_verb", "Select A from the options, since only it keeps the rotation going.", mc("A"), "A", True,
     "chosen"),
    (5, "numbered_first_line", "1. D\n\nThe pattern adds one dot in every step.", mc("D"), "D", True, "leading"),
    (5, "numbered_lowercase", "answer : 1, d", mc("D"), "D", True, "anchor"),
    (5, "glued_to_value", "Answer: E2", mc("E", L5, ["6", "5", "4", "3", "2"]), "E", True, "anchor"),
    (5, "quoted_answer", "The shapes rotate clockwise by one corner.\n\n'Answer: A'", mc("A"), "A", True, "anchor"),
    # 6. numbers
    (6, "number_word", "Looking at the chart for 2019, there are two models that score above 80.", free("2"), "2",
     True, "last_number"),
    (6, "opening_scene_number", "Answer: In 2019, the value was 45", free("45"), "45", True, "anchor"),
    (6, "yes_no_before_letter", "Answer: No, the bar for A is shorter than the bar for B", mc("B", ["A", "B"], YN),
     "B", True, "anchor"),
    # 7. two committed answers
    (7, "earlier_value_answer", "So the answer is 4.\n\nThe correct answer is (A) 5", mc("A", L4, ["5", "6", "7", "8"]),
     "A", False, "anchor+conflict"),
    (7, "stated_value_of_other_option", "Since the points lie on a straight line, angle CDE is 180 degrees. The answer "
     "is C", mc("C", L4, ANGLES), "C, D", False, "anchor+conflict+several"),
    (7, "hedge", "Both (C) and (G) can be considered correct, but let's choose (G).\n\nAnswer: G", mc("G", L10),
     "C, G", False, "anchor+conflict+several"),
    # 8. yes/no by statement
    (8, "predicate_denied", "The function is not convex.", mc("B", ["A", "B"], YN, "Is the function convex?"), "B",
     True, "prose_yes_no"),
    (8, "comparative_opposite", "The value of X is less than Y.", mc("B", ["A", "B"], YN, "Is X greater than Y?"), "B",
     True, "prose_yes_no"),
    (8, "comparative_swapped", "Y is less than X.", mc("A", ["A", "B"], YN, "Is X greater than Y?"), "A", True,
     "prose_yes_no"),
    (8, "pronoun_subject", "The blue line has several sharp peaks, so it is not the smoothest.",
     mc("B", ["A", "B"], YN, "Is Dark Blue the smoothest?"), "B", True, "prose_yes_no"),
    # 9. refusals holding a gold token
    (9, "cannot_be_determined", "The value is smaller than 0, so it cannot be determined.", free("0"), None, False,
     "abstains"),
    (9, "none_of_the_options", "The answer is none of the options A, B, C, D.", mc("A", L4, ["1", "2", "3", "4"]),
     None, False, "none_of_options"),
    (9, "boxed_article", "So the locus of the point is $\\boxed{\\text{a circle}}$.", mc("A", L5, LETTERS), None, False,
     None),
    # 10. option text over punctuation, label with its text, options named in passing
    (10, "hyphen_as_space", "Answer: PDE Refiner", mc("B", L4, MODELS), "B", True, "anchor"),
    (10, "label_with_own_text", "The tiles of the first group all have straight edges and an even number of "
     "corners, and the tiles of the second group all have a dot in the middle. The new figure has curved edges and "
     "no dot at all, so it fits none of the groups that are shown above.\nAfter comparing both groups: C. Neither "
     "set A nor set B, as the curved edges rule out both",
     mc("C", L4, SETS, multi=True), "C", True, "last_line"),
    (10, "options_named_in_passing", "Answer: Solution A and Solution B have the same volume; A is higher in particles",
     mc("B", L4, SOLUTIONS), None, False, None),
]

# (class, guard, response, item, extracted, correct)
GUARDS = [
    # 1: a refusal is about the image itself; reasoning about a hidden face is not one
    (1, "refusal_object_is_the_image", "Since we are unable to see the back of the cube in the figure, count the "
     "visible faces: 1, 2 and 3 dots.\n\n(C)", mc("C"), "C", True),
    # 1: a one-letter option is still said where its capital stands as a label token
    (1, "one_letter_option_in_capitals", "There are 2 trees in section A and 1 tree in section B, so to make both "
     "sides of the path equal, the new tree should be planted in section C.", mc("C", L5, LETTERS), "C", True),
    # 2: on a multiple-answer item "A, B, C" is an answer
    (2, "multi_select_run_is_an_answer", "A, B, C", mc("A, B, C", L5, multi=True), "A, B, C", True),
    # 2: a label after a blank line ends the listing as its answer
    (2, "label_after_blank_line", "(A) 12 centimetres\n(B) 15 centimetres\n(C) 18 centimetres\n\nD",
     mc("D", L4, ["12 centimetres", "15 centimetres", "18 centimetres", "20 centimetres"]), "D", True),
    # 3: the same question answered again is a second answer, not an invented one
    (3, "repeated_question_is_two_answers", "The answer is (A) 8.\n\nQuestion: In the figure, AB:AC = 2:5 and AC = 20. "
     "What is AB?\nThe answer is (B) 10.", mc("B", L4, ["8", "10", "12", "14"],
                                           "In the figure, AB:AC = 2:5 and AC = 20. What is AB?"), "A, B", False),
    # 3: a head that only mentions a label commits to nothing: the follow-up is not cut
    (3, "head_must_commit", "I will check option (B) first, because its block looks the largest in the picture."
     "\n\nQuestion: which block is heavier?\nAfter weighing both, the "
     "answer is D.", mc("D"), "D", True),
    # 4: a negated option is not said
    (4, "negated_option", "Even without the foxes, the amount of grass would not decrease.", mc("B", L4, CHANGE), None,
     False),
    # 4: two directions in one sentence say neither
    (4, "two_directions", "The grass would increase at first and then decrease.", mc("B", L4, CHANGE), None, False),
    # 4: a slot word found in two options is no choice
    (4, "slot_word_in_two_options", "answer : hemisphere", mc("B", L4, HEMI), None, False),
    # 5: the echoed instruction "Select from A, B, C and D" chooses nothing
    (5, "select_from_instruction", "Select from A, B, C and D. The pattern has to continue.", mc("A"),
     None, False),
    # 5: a verb of choosing with two labels chooses neither
    (5, "select_one_of_two", "I would select A, C or D, depending on the rotation, which the image does not show.",
     mc("A"), None, False),
    # 5: a label glued to a value that is not its own option's
    (5, "glued_to_other_value", "Answer: E3", mc("E", L5, ["6", "5", "4", "3", "2"]), None, False),
    # 5: a numbered list of labels is a listing, not "1. A" as an answer
    (5, "numbered_list", "1. A\n2. B\n3. C\n4. D\nThe pattern repeats every four steps.", mc("A"),
     None, False),
    # 6: "one of" is no count
    (6, "one_of_is_no_count", "The red bar is one of 5 bars.", free("5"), "5", True),
    # 6: a one-word option leads only when punctuation follows it
    (6, "option_word_needs_punctuation", "Answer: No matter how you count, (A) has more", mc("A", ["A", "B"], YN),
     "A", True),
    # 7: the response maps its value to the closest option on purpose
    (7, "closest_option", "So the answer is 4.9.\nRounding to the nearest choice, the correct answer is (A) 5",
     mc("A", L4, ["5", "6", "7", "8"]), "A", True),
    # 7: the chosen value is stated too: the other value was a step
    (7, "chosen_value_stated", "Angle CDE is 150 degrees, and angle ABC is 30 degrees. The answer is C",
     mc("C", L4, ["30°", "120°", "150°", "180°"]), "C", True),
    # 7: only a value that ends its sentence is stated ("is 2, so ..." is a step)
    (7, "value_must_end_sentence", "The numerator is 1 and the denominator is 2, so the probability is "
     "\\frac{1}{2}. The answer is B", mc("B", L4, ["2", "1/2", "1", "3"]), "B", True),
    # 7: a hedge whose other label is then rejected
    (7, "hedge_then_rejected", "Both (C) and (G) seem plausible, but (C) is wrong because it ignores friction.\n\n"
     "Answer: G", mc("G", L10), "G", True),
    # 8: a hedged statement settles nothing
    (8, "hedged_statement", "The function is probably not convex.", mc("B", ["A", "B"], YN, "Is the function convex?"),
     None, False),
    # 8: the question's subject must be the statement's subject
    (8, "other_subject", "The high median is the line above Cadet Blue.",
     mc("A", ["A", "B"], YN, "Is Cadet Blue the high median?"), None, False),
    # 8: a negation about something else
    (8, "negation_elsewhere", "The windows have a shape that most houses do not have.",
     mc("B", ["A", "B"], YN, "Do the windows have a shape that most houses have?"), None, False),
    # 9: only the final statement abstains
    (9, "abstention_before_result", "We cannot determine x directly, so we use the area instead.\nThe total area "
     "is 24.", free("24"), "24", True),
    # 9: "none of the options except (B)" chooses B
    (9, "none_except", "None of the options except (B) fits the pattern.", mc("B"), "B", True),
    # 10: one option named is a choice
    (10, "one_option_named", "Both beakers hold the same volume of water, so the one with more dissolved "
     "particles per unit of volume is the more concentrated one. Counting the dots in the picture gives nine "
     "particles on the left and twelve on the right, and the right beaker is the second one shown. The particles "
     "are spread evenly in both.\nAnswer: Solution B, because it holds more particles.", mc("B", L4, SOLUTIONS),
     "B", True),
    # 10: a hyphen next to a digit stays (a minus, a range): "x 1" is not `x-1`
    (10, "digits_keep_hyphen", "Answer: x 1", mc("A", L4, ["x-1", "x+1", "2x", "1-x"]), None, False),
]


@pytest.mark.parametrize("row", GOLDEN, ids=[f"c{r[0]}-{r[1]}" for r in GOLDEN])
def test_golden(row):
    _cls, _name, resp, kw, want_ext, want_ok, want_rule = row
    s = score(resp, Item(id="x", **kw))
    assert (s.extracted, s.correct) == (want_ext, want_ok), s.detail
    if want_rule is not None:
        assert s.detail == want_rule
    if want_ext is None:
        assert s.parse_status == "no_answer"


@pytest.mark.parametrize("row", GUARDS, ids=[f"c{r[0]}-{r[1]}" for r in GUARDS])
def test_guard(row):
    _cls, _name, resp, kw, want_ext, want_ok = row
    s = score(resp, Item(id="x", **kw))
    assert (s.extracted, s.correct) == (want_ext, want_ok), s.detail


def test_every_class_has_golden_and_guard_rows():
    assert {r[0] for r in GOLDEN} == set(range(1, 11)) == {r[0] for r in GUARDS}


def test_guard_one_option_named_is_read_by_its_anchor():
    # class 10: only two options named in passing void an anchor's labels; one named is read
    # there (the score-level row above may also be recovered later, by the slot readings)
    assert choice_from_segment("Solution B, because it holds more", L4, SOLUTIONS, False) == ["B"]
    assert choice_from_segment("Solution A and Solution B have the same volume", L4, SOLUTIONS, False) == []


def test_possessive_and_contraction_are_no_labels():
    # a quote may close a label ('Answer: A'), but "A's" and "I'm" stay words
    assert label_tokens("A's area is larger", L10) == []
    assert label_tokens("I'm sure", L10) == []
    assert [lab for _, lab in label_tokens("'A'", L10)] == ["A"]


def test_versions_bumped_to_1_3():
    for name in ("default", "mathvista", "mathvision", "logicvista", "mmmu_pro", "geo3k"):
        assert SCORER_VERSIONS[name] == "1.3"
    assert SCORER_VERSIONS["toy"] == "1.0"
    assert scorer_version("mathvision", compat=True) == "mathvision-1.3+compat:mathv-a1f5cc3"
