"""bench/toy_grpo_sanity.py: the easy reward and the per-block means it prints."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_grpo_sanity as gs  # noqa: E402


def test_even_answer_rewards_the_boxed_parity_only():
    assert gs.even_answer("<think>\n8 + 4 = 12.\n</think>\nThe answer is \\boxed{12}.", None) == 1.0
    assert gs.even_answer("Answer: \\boxed{7}", None) == 0.0
    assert gs.even_answer("8 + 4 = 12.", None) == 0.0  # no boxed answer, no reward


def test_block_means_read_the_rl_lines(tmp_path):
    lines = [{"stage": "sft", "step": 1, "loss": 1.0}]
    lines += [{"stage": "rl", "step": i + 1, "reward": r} for i, r in enumerate([0.0] * 10 + [1.0] * 5)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    assert gs.block_means(tmp_path / "metrics.jsonl") == [0.0, 1.0]
