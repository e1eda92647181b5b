"""bench/toy_stream.py: the RL stream's composition agrees with what a run logs
(prompt_revisit_frac), and each variant is paired with its cold start within each group."""
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_stream as ts  # noqa: E402

from vold_bench.toy import world  # noqa: E402
from vold_train.curation import Stream  # noqa: E402


def test_composition_counts_what_the_run_logs_as_revisited():
    line = ts.composition_lines([9])[0]
    n, again = re.match(r"seed 9: (\d+) prompts, ([\d.]+)% asked before", line).groups()
    items = world.toy_problems("train", n=int(n), seed=9, form="text")
    st = Stream(items)  # what rl.py logs, step by step
    logged = [st.next_batch(16, k)[1]["prompt_revisit_frac"] for k in range(int(n) // 16)]
    assert float(again) == round(100 * sum(logged) / len(logged), 1)
    # the same count by problem (skill, level, quantities, question), not by the question's text
    keys = [p.key() for p in world.problems("train", n=int(n), seed=9)]
    assert float(again) == round(100 * (len(keys) - len(set(keys))) / len(keys), 1)
    # per cell: distinct problems, e.g. rect L3's
    rect3 = [k for k in keys if k[:2] == ("rect", 3)]
    assert f"rect L3 {len(rect3)} prompts, {len(set(rect3))} distinct" in line


def _answers(correct):
    return {f"toy-test-{i:04d}": {"correct": c} for i, c in enumerate(correct)}


def test_each_group_pairs_the_variant_with_its_own_cold_start():
    runs = {"sft-only": [_answers([True, False, False, False]), _answers([True, True, False, False])],
            "grpo-only": [_answers([True, True, True, False]), _answers([False, True, False, False])]}

    def group(seed, i):
        return "first half" if int(i[-4:]) < 2 else "second half"

    lines = ts.split_lines(runs, [5, 6], group)
    # first half: cold start 3 of 4 right, grpo-only 3 of 4 (one gained, one lost)
    assert lines[0].startswith("  grpo-only, first half: n 4, cold start 75.0, +0.0 ")
    # second half: cold start 0 of 4, grpo-only 1 of 4
    assert lines[1].startswith("  grpo-only, second half: n 4, cold start 0.0, +25.0 ")
    assert len(lines) == 2
