import pytest

from vold_bench.errors import VoldError
from vold_train.sizing import Plan, estimate, load_config, param_counts, preflight

STUDENT, TEACHER = "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen3-8B"


@pytest.fixture(scope="module")
def cfgs():
    return load_config(STUDENT), load_config(TEACHER)


def test_param_counts_match_the_published_models(cfgs):
    s, t = (param_counts(c) for c in cfgs)
    # the hub model cards' totals: 3,754,622,976 and 8,190,735,360 parameters
    assert s["total"] == 3_754_622_976 and t["total"] == 8_190_735_360
    assert s["vision"] + s["language"] == s["total"] and 0.6e9 < s["vision"] < 0.7e9
    assert t["vision"] == 0
    # tied embeddings in the 3B student are counted once; the teacher has a separate lm_head
    assert s["embedding"] == 151936 * 2048 and t["embedding"] == 2 * 151936 * 4096


def test_memory_scales_with_sharding_and_checkpointing(cfgs):
    base = dict(gpu_mem_gb=80, micro_batch=4, seq_len=8192)
    one = estimate(*cfgs, Plan(gpus=1, strategy="ddp", **base))
    eight = estimate(*cfgs, Plan(gpus=8, strategy="fsdp", **base))
    # optimizer states: 16 bytes per trained (language) parameter, divided by the shard count
    lang = one["student_params"]["language"]
    assert one["train_phase_gb"]["student_states"] == pytest.approx(16 * lang / 1024 ** 3)
    assert eight["train_phase_gb"]["student_states"] == pytest.approx(one["train_phase_gb"]["student_states"] / 8)
    no_ckpt = estimate(*cfgs, Plan(gpus=8, strategy="fsdp", grad_ckpt=False, **base))
    assert no_ckpt["train_phase_gb"]["activations"] > 10 * eight["train_phase_gb"]["activations"]
    assert eight["fits"] and not one["fits"]


def test_teacher_stays_replicated_and_bf16_halves_it(cfgs):
    base = dict(gpu_mem_gb=80, micro_batch=4, seq_len=8192)
    one = estimate(*cfgs, Plan(gpus=1, strategy="fsdp", **base))["train_phase_gb"]
    eight = estimate(*cfgs, Plan(gpus=8, strategy="fsdp", **base))["train_phase_gb"]
    fp32 = estimate(*cfgs, Plan(gpus=8, strategy="fsdp", bf16=False, **base))["train_phase_gb"]
    assert eight["teacher_weights"] == one["teacher_weights"] == pytest.approx(2 * 8_190_735_360 / 1024 ** 3)
    assert eight["student_states"] == pytest.approx(one["student_states"] / 8)  # the student shards
    assert fp32["teacher_weights"] == pytest.approx(2 * eight["teacher_weights"])


def test_preflight_refuses_before_loading(cfgs):
    r = preflight(STUDENT, TEACHER, Plan(gpus=8, gpu_mem_gb=80, strategy="fsdp"))
    assert r["peak_gb"] < 80
    with pytest.raises(VoldError,
                       match=r"need about \d+ GB per GPU with ddp on 1 GPU\(s\), more than 24 GB.*student_states"):
        preflight(STUDENT, TEACHER, Plan(gpus=1, gpu_mem_gb=24, strategy="ddp"))
    with pytest.raises(VoldError, match="plan.strategy"):
        estimate(*cfgs, Plan(strategy="pipeline"))


def test_local_tiny_configs(tmp_path):
    from vold_train.toy.models import make_tiny_pair

    s_dir, t_dir = make_tiny_pair(tmp_path)
    s = param_counts(load_config(s_dir))
    assert 0 < s["vision"] < s["total"]
    with pytest.raises(VoldError, match="cannot read the config"):
        load_config(str(tmp_path / "nope" / "model"))
