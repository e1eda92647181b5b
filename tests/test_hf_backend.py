"""The hf backend on tiny random-init Qwen2.5-VL / Qwen3 models built from configs."""
import pytest
from PIL import Image

from vold_bench.backends import make_backend
from vold_bench.errors import VoldError
from vold_bench.schema import GenConfig, GenRequest


def req(i, n_images=1, words=3):
    imgs = [Image.new("RGB", (56 + 28 * i, 56), (30 * i, 100, 200)) for _ in range(n_images)]
    content = [{"type": "image"} for _ in imgs] + [{"type": "text", "text": " ".join(["add two numbers"] * words)}]
    return GenRequest(id=f"r{i}", messages=[{"role": "user", "content": content}], images=imgs)


@pytest.fixture(scope="module")
def student(tiny_pair):
    return make_backend("hf", tiny_pair[0])


def test_batched_left_padded_generation_matches_one_by_one(student):
    reqs = [req(0, 1, 1), req(1, 1, 6), req(2, 2, 2), req(3, 1, 3)]
    cfg = GenConfig(max_new_tokens=6, batch_size=3)
    batched = student.generate(reqs, cfg)
    single = [student.generate([r], GenConfig(max_new_tokens=6, batch_size=1))[0] for r in reqs]
    assert [r.id for r in batched] == ["r0", "r1", "r2", "r3"]   # caller's order, not sorted order
    for b, s in zip(batched, single):
        assert b.text == s.text and b.gen_tokens == s.gen_tokens
        assert 1 <= b.gen_tokens <= 6
        assert b.finish_reason == s.finish_reason
        assert b.finish_reason == "stop" or b.gen_tokens == 6


def test_finish_reason_and_token_count(student):
    eos = next(iter(student.eos_ids))
    r = student._result("x", [5, 6, eos, 0, 0])
    assert (r.gen_tokens, r.finish_reason) == (3, "stop")
    r = student._result("x", [5, 6, 7])
    assert (r.gen_tokens, r.finish_reason) == (3, "length")


def test_text_only_teacher_generates_and_refuses_images(tiny_pair):
    teacher = make_backend("hf", tiny_pair[1])
    text_req = GenRequest(id="t", messages=[{"role": "user", "content": [{"type": "text", "text": "two plus two"}]}])
    out = teacher.generate([text_req], GenConfig(max_new_tokens=4))
    assert out[0].id == "t" and 1 <= out[0].gen_tokens <= 4
    with pytest.raises(VoldError, match="text-only"):
        teacher.generate([req(0)], GenConfig(max_new_tokens=2))


def test_unknown_backend_and_model_are_clear_errors(tmp_path):
    with pytest.raises(VoldError, match="unknown backend 'tgi'"):
        make_backend("tgi", "x")
    with pytest.raises(VoldError, match="nope'.*no such folder"):
        make_backend("hf", str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(VoldError, match="cannot load its config"):
        make_backend("hf", str(tmp_path / "empty"))


@pytest.mark.gpu
def test_gpu_runs_in_bf16_and_agrees_with_batch_of_one(tiny_pair):
    import torch
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    gpu = make_backend("hf", tiny_pair[0])
    assert gpu.device == "cuda" and next(gpu.model.parameters()).dtype == torch.bfloat16
    reqs = [req(0, 1, 1), req(1, 1, 5)]
    out = gpu.generate(reqs, GenConfig(max_new_tokens=5, batch_size=2))
    assert [r.id for r in out] == ["r0", "r1"] and all(1 <= r.gen_tokens <= 5 for r in out)
