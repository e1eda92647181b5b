"""vold_bench.adapters: the scorer called exactly as TRL, verl and EasyR1 call a reward function.

verl and EasyR1 load the function from a FILE PATH under a module name of their own; the tests
load adapters.py the same way. A real verl reward path runs when verl imports (it is not in
the dev extra: it pins CUDA torch and an older transformers)."""
from __future__ import annotations

import importlib.util
import sys
import time
from functools import partial
from pathlib import Path

import pytest
import yaml

from vold_bench import adapters
from vold_bench.errors import VoldError

ADAPTERS = Path(adapters.__file__)
RIGHT, WRONG = "<think>2 + 3</think> The answer is \\boxed{5}.", "<think>hm</think> \\boxed{6}"


def load_by_path(module_name: str):
    """What verl (custom_module) and EasyR1 (custom_reward_fn) do with reward_function.path."""
    spec = importlib.util.spec_from_file_location(module_name, str(ADAPTERS))
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    return module


def test_bench_table_matches_task_files():
    for path in sorted((Path(__file__).parent.parent / "tasks").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        name = "toy" if spec["name"] == "toy-text" else spec["name"]
        scorer, _, sources = adapters.BENCHES[name]
        assert scorer == spec["scorer"], name
        if not spec["hub_id"].startswith("embedded:"):
            assert spec["hub_id"] in sources, name
            assert adapters.resolve_bench(spec["hub_id"])[0] == spec["scorer"]
    with pytest.raises(VoldError, match="unknown benchmark or data_source 'nope'"):
        adapters.resolve_bench("nope")


def test_trl_reward_as_trl_calls_it():
    fn = adapters.trl_reward("toy")
    assert fn.__name__ == "vold_toy"  # TRL logs rewards/vold_toy/mean
    logged = {}
    common = dict(completion_ids=[[1], [2], [3]], trainer_state=None,
                  log_extra=lambda col, vals: logged.setdefault(col, vals), log_metric=lambda n, v: None)
    # plain (standard-format) prompts and completions
    got = fn(prompts=["q1", "q2", "q3"], completions=[RIGHT, WRONG, "no box"], answer=["5", "5", "5"], **common)
    assert got == [1.0, 0.0, 0.0]
    assert logged["vold_toy/extracted"] == ["5", "6", ""]
    # conversational: the last assistant turn, content as a string or as typed parts
    conv = [[{"role": "assistant", "content": RIGHT}],
            [{"role": "assistant", "content": [{"type": "text", "text": RIGHT}]}],
            [{"role": "assistant", "content": WRONG}]]
    prompts = [[{"role": "user", "content": "What is 2 + 3?"}]] * 3
    assert fn(prompts=prompts, completions=conv, answer=["5", "5", "5"], **common) == [1.0, 1.0, 0.0]


def test_trl_reward_reads_choice_columns_and_names_a_missing_gold():
    fn = adapters.trl_reward("mmmu-pro", gold_column="gold")
    got = fn(prompts=["q"] * 2, completions=["Answer: B", "Answer: A"], gold=["B", "B"],
             options=[["cat", "dog"], ["cat", "dog"]], labels=[["A", "B"], ["A", "B"]])
    assert got == [1.0, 0.0]
    with pytest.raises(VoldError, match="no dataset column 'gold'.*columns: answer"):
        fn(prompts=["q"], completions=["B"], answer=["B"], trainer_state=None)


def test_verl_compute_score_loaded_by_path_and_called_as_verl_does():
    mod = load_by_path("custom_module")
    fn = mod.verl_compute_score
    extra = {"index": 0, "num_turns": None, "rollout_reward_scores": {}}  # what NaiveRewardManager adds
    out = fn(data_source="hiyouga/geometry3k", solution_str="<think>x</think> \\boxed{\\frac{1}{2}}",
             ground_truth="0.5", extra_info=extra)
    assert out == {"score": 1.0, "acc": 1.0, "pred": "\\frac{1}{2}", "parse_status": "ok"}
    assert fn(data_source="toy", solution_str=WRONG, ground_truth="5")["score"] == 0.0
    # reward_kwargs merged in by verl's _call_with_kwargs force the scorer
    wrapped = partial(lambda raw, extra_kw, *a, **kw: raw(*a, **{**kw, **extra_kw}), fn, {"bench": "toy"})
    assert wrapped(data_source="my/own-data", solution_str=RIGHT, ground_truth="5", extra_info=None)["score"] == 1.0
    # multiple choice described through extra_info
    mc = fn(data_source="MMMU/MMMU_Pro", solution_str="The answer is (B).", ground_truth="B",
            extra_info={"options": ["3", "4"], "labels": ["A", "B"]})
    assert (mc["score"], mc["pred"]) == (1.0, "B")
    with pytest.raises(VoldError, match="unknown benchmark"):
        fn(data_source="openai/gsm8k", solution_str="#### 3", ground_truth="3")


def test_easyr1_compute_score_loaded_by_path_and_called_as_easyr1_does():
    mod = load_by_path("custom_reward_fn")
    reward_fn = partial(mod.easyr1_compute_score, **{"bench": "toy", "format_weight": 0.1})
    inputs = [{"response": r, "response_length": len(r), "ground_truth": "5"} for r in (RIGHT, WRONG, "five")]
    scores = reward_fn(inputs)
    assert [s["accuracy"] for s in scores] == [1.0, 0.0, 0.0]
    assert [s["format"] for s in scores] == [1.0, 1.0, 0.0]
    assert scores[0]["overall"] == pytest.approx(1.0) and scores[1]["overall"] == pytest.approx(0.1)
    for s in scores:  # EasyR1 appends every value to its reward metrics: plain floats
        assert set(s) == {"overall", "format", "accuracy"} and all(isinstance(v, float) for v in s.values())
    binary = mod.easyr1_compute_score(inputs, bench="toy")
    assert [s["overall"] for s in binary] == [1.0, 0.0, 0.0]  # format_weight 0: VOLD's binary reward
    with pytest.raises(ValueError, match="reward_type=batch"):
        mod.easyr1_compute_score(inputs[0], bench="toy")


def test_hostile_completions_are_never_executed_and_stay_bounded(tmp_path):
    marker = tmp_path / "pwned"
    hostile = [
        f"\\boxed{{__import__('os').system('touch {marker}')}}",
        f"<think>x</think>\\boxed{{exec(\"open('{marker}','w')\")}}",
        "\\boxed{" + "9**" * 2000 + "9}",                      # exponent tower
        "\\boxed{" + "(" * 5000 + "1" + ")" * 5000 + "}",      # deep nesting
        "\\boxed{\\frac{1}{" * 300 + "2" + "}" * 600,          # nested LaTeX
        "<think>" + "a" * 1_000_000,                           # unclosed, 1 MB
        ("the answer is 5 " * 20_000) + "\\boxed{10**10**10}",
    ]
    t0 = time.perf_counter()
    trl = adapters.trl_reward("geo3k")(prompts=["q"] * len(hostile), completions=hostile, answer=["5"] * len(hostile))
    verl = [adapters.verl_compute_score("hiyouga/geometry3k", h, "5") for h in hostile]
    easy = adapters.easyr1_compute_score([{"response": h, "ground_truth": "5"} for h in hostile], bench="geo3k")
    elapsed = time.perf_counter() - t0
    assert trl == [0.0] * len(hostile)
    assert [v["score"] for v in verl] == [0.0] * len(hostile)
    assert [e["overall"] for e in easy] == [0.0] * len(hostile)
    assert not marker.exists()
    # math-verify has a 3 s deadline per call; the rest is linear-time parsing
    assert elapsed < 3 * 3.5 * len(hostile), elapsed


def test_verl_real_reward_path():
    """verl's own loader and NaiveRewardManager on a DataProto (runs where verl imports)."""
    pytest.importorskip("verl")
    import torch
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager.naive import NaiveRewardManager

    from vold_train.common import load_tokenizer

    cfg = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(ADAPTERS), "name": "verl_compute_score", "reward_kwargs": {}}}})
    compute_score = get_custom_reward_fn(cfg)
    tok = load_tokenizer("toy-student")
    prompt = tok("What is 2 + 3?")["input_ids"]
    responses = [tok(r)["input_ids"] for r in (RIGHT, WRONG)]
    T = max(map(len, responses))
    resp = torch.tensor([r + [tok.pad_token_id] * (T - len(r)) for r in responses])
    attn = torch.tensor([[1] * len(prompt) + [1] * len(r) + [0] * (T - len(r)) for r in responses])
    data = DataProto.from_dict(
        tensors={"prompts": torch.tensor([prompt, prompt]), "responses": resp, "attention_mask": attn},
        non_tensors={"data_source": ["toy", "toy"], "reward_model": [{"ground_truth": "5"}] * 2,
                     "extra_info": [{"index": 0}, {"index": 1}]})
    out = NaiveRewardManager(tok, num_examine=0, compute_score=compute_score)(data, return_dict=True)
    rewards = out["reward_tensor"].sum(-1).tolist()
    assert rewards == [1.0, 0.0]
    assert list(out["reward_extra_info"]["pred"]) == ["5", "6"]
