"""The vllm backend's pure parts, in the main env (no vLLM needed)."""
import importlib.util
import json

import pytest

from vold_bench.backends.vllm import VLLMBackend, flatten_text_only, is_multimodal
from vold_bench.errors import VoldError


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_missing_vllm_is_a_clear_error():
    with pytest.raises(VoldError, match="make vllm-env"):
        VLLMBackend("toy-teacher")


def test_text_only_messages_are_flattened_for_text_templates():
    msgs = [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    assert flatten_text_only(msgs) == [{"role": "user", "content": "ab"}]
    with_image = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "a"}]}]
    assert flatten_text_only(with_image) == with_image


def test_multimodal_detection(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen2_5_vl", "vision_config": {}}))
    assert is_multimodal(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    assert not is_multimodal(str(tmp_path))
    assert is_multimodal("Qwen/Qwen2.5-VL-3B-Instruct") and not is_multimodal("Qwen/Qwen3-8B")
