"""recipes/paper/*.yaml, recipes/accelerate/*.yaml and the paper data converters, all offline."""
from pathlib import Path

import pytest
import yaml

from vold_train.config import load_recipe, variant
from vold_train.paper_data import last_boxed, mot_records, orz_record
from vold_train.sizing import KNOWN_CONFIGS

ROOT = Path(__file__).resolve().parents[1]
PAPER = sorted((ROOT / "recipes" / "paper").glob("*.yaml"))
STUDENT, TEACHER = "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen3-8B"

# What each ablation switches (the paper's Table 3 rows).
VARIANTS = {
    "vold": dict(sft=True, rl=True, kd=True, kd_mask=True, trace_source="teacher"),
    "grpo-only": dict(sft=True, rl=True, kd=False, kd_mask=False, trace_source="teacher"),
    "no-mask": dict(sft=True, rl=True, kd=True, kd_mask=False, trace_source="teacher"),
    "no-cold-start": dict(sft=False, rl=True, kd=True, kd_mask=True, trace_source=None),
    "mismatched-cold-start": dict(sft=True, rl=True, kd=True, kd_mask=True, trace_source="mismatched"),
    "sft-only": dict(sft=True, rl=False, kd=False, kd_mask=False, trace_source="teacher"),
    "opd-only": dict(sft=True, rl=False, kd=True, kd_mask=False, trace_source="teacher"),
}


def test_one_recipe_per_ablation():
    assert {p.stem for p in PAPER} == set(VARIANTS)


def test_toy_recipes_run_in_fp32_without_checkpointing():
    for p in sorted((ROOT / "recipes").glob("*.yaml")):
        r = load_recipe(str(p))
        e = r.rl.engine
        assert not (r.sft.bf16 or r.sft.gradient_checkpointing or e.bf16 or e.gradient_checkpointing), p.stem


@pytest.mark.parametrize("path", PAPER, ids=lambda p: p.stem)
def test_paper_recipe_loads_and_follows_table4(path):
    r = load_recipe(str(path))  # the trainer's own loader: unknown keys would fail here
    assert variant(r) == VARIANTS[path.stem]
    if "sft" in r.stages:
        s = r.sft
        assert (s.lr, s.batch_size, s.steps, s.weight_decay, s.warmup_steps) == (5e-5, 256, 4000, 0.01, 150)
        assert s.model == STUDENT and s.freeze_vision and s.batch_size % s.micro_batch == 0
        assert s.bf16 and s.gradient_checkpointing
    if "traces" in r.stages:
        assert r.traces.teacher == TEACHER and r.traces.prompts == "data/paper/mot_prompts.jsonl"
        assert r.traces.max_trace_tokens == 8192
    if "rl" in r.stages:
        rl = r.rl
        assert (rl.lr, rl.group_size, rl.steps, rl.warmup_steps, rl.clip_low, rl.clip_high) == \
            (6e-6, 5, 60, 5, 0.2, 0.3)
        assert rl.teacher == TEACHER and rl.data == "data/paper/orz57k.jsonl"
        assert rl.model == ("sft" if "sft" in r.stages else STUDENT)
        assert rl.beta == (0.0 if path.stem == "grpo-only" else 1e-3)
        assert rl.engine.shared_vocab == 151665
        assert rl.engine.bf16 and rl.engine.gradient_checkpointing
    # every model the recipe names has a built-in config for the offline memory check
    for m in {r.traces.teacher, r.sft.model, r.rl.teacher} - {"toy-teacher", "toy-student"}:
        assert m in KNOWN_CONFIGS
    assert f"recipes/paper/{path.stem}.yaml" in path.read_text()  # its own launch line


def test_accelerate_configs():
    import transformers.models.qwen2_5_vl.modeling_qwen2_5_vl as vl
    import transformers.models.qwen3.modeling_qwen3 as q3

    fsdp = yaml.safe_load((ROOT / "recipes/accelerate/fsdp2.yaml").read_text())
    assert fsdp["distributed_type"] == "FSDP" and fsdp["fsdp_config"]["fsdp_version"] == 2
    assert fsdp["mixed_precision"] == "bf16"
    for cls in fsdp["fsdp_config"]["fsdp_transformer_layer_cls_to_wrap"].split(","):
        assert hasattr(vl, cls) or hasattr(q3, cls), cls
    ds = yaml.safe_load((ROOT / "recipes/accelerate/deepspeed_zero3.yaml").read_text())
    assert ds["distributed_type"] == "DEEPSPEED" and ds["deepspeed_config"]["zero_stage"] == 3
    cpu = yaml.safe_load((ROOT / "recipes/accelerate/cpu_2proc.yaml").read_text())
    assert cpu["num_processes"] == 2
    cpu_fsdp = yaml.safe_load((ROOT / "recipes/accelerate/cpu_2proc_fsdp2.yaml").read_text())
    assert cpu_fsdp["num_processes"] == 2 and cpu_fsdp["distributed_type"] == "FSDP"
    assert cpu_fsdp["fsdp_config"]["fsdp_version"] == 2


def test_mot_and_orz_rows_in_hub_schema():
    row = {"messages": [{"role": "user", "content": "Compute 1/2 + 1/2."},
                        {"role": "assistant",
                         "content": "<think>easy</think> So \\boxed{\\frac{2}{2}} = 1, i.e. \\boxed{1}"}],
           "num_tokens": 30, "source": "open-r1/OpenR1-Math-220k"}
    prompt, trace = mot_records(row, 7)
    assert prompt == {"id": "mot-7", "question": "Compute 1/2 + 1/2.", "gold": "1"}
    assert trace["response"].startswith("<think>")
    assert mot_records({"messages": [{"role": "user", "content": "write code"},
                                     {"role": "assistant", "content": "def f(): pass"}]}, 0) == (None, None)
    assert last_boxed("x \\boxed{\\frac{1}{2}} y") == "\\frac{1}{2}" and last_boxed("\\boxed{3") is None
    pair = [{"from": "human", "value": "What is 2+2?"}, {"from": "assistant", "ground_truth": {"value": "4"}}]
    assert orz_record(pair, 3) == {"id": "orz-3", "question": "What is 2+2?", "gold": "4"}
    assert orz_record({"0": pair[0], "1": pair[1]}, 3) == orz_record(pair, 3)
    assert orz_record([pair[0], {"from": "assistant", "ground_truth": {"value": ""}}], 0) is None
