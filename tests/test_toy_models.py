import torch
from PIL import Image
from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

from vold_train.toy import resolve_model
from vold_train.toy.models import SPECIAL_TOKENS, build_tokenizer, make_tiny_pair


def test_special_tokens_are_single_tokens(tmp_path):
    tok = build_tokenizer(tmp_path)
    tok = AutoTokenizer.from_pretrained(tmp_path)  # round-trip through save_pretrained
    ids = [tok.encode(t, add_special_tokens=False) for t in SPECIAL_TOKENS]
    assert all(len(i) == 1 for i in ids), ids
    assert len({i[0] for i in ids}) == len(SPECIAL_TOKENS)
    # numbers are whole tokens (with their leading space), text round-trips exactly
    assert tok.tokenize(" 17") == ["Ġ17"]
    text = "<think>\nA = 7, B = 3.\n7 + 3 = 10.\n</think>\nThe answer is \\boxed{10}."
    assert tok.decode(tok.encode(text, add_special_tokens=False)) == text
    # like Qwen3, the think tags survive skip_special_tokens (a scorer needs them); chat markers do not
    assert tok.decode(tok.encode(text + "<|im_end|>", add_special_tokens=False),
                      skip_special_tokens=True) == text


def test_chat_template_places_image_parts(tmp_path):
    tok = build_tokenizer(tmp_path)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Hi?"}]}]
    text = tok.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    # images first keep Qwen2-VL's marks (they keep adjacent images apart) ...
    assert text == ("<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Hi?<|im_end|>\n"
                    "<|im_start|>assistant\n")
    # ... a picture placed after text stands bare in its place (toy-v5), so the toy image form
    # is the text form with one token swapped; a second picture right after it is marked again
    inline = [{"type": "text", "text": "A ="}, {"type": "image"}, {"type": "image"}, {"type": "text", "text": "."}]
    text = tok.apply_chat_template([{"role": "user", "content": inline}], tokenize=False)
    assert text == "<|im_start|>user\nA =<|image_pad|><|vision_start|><|image_pad|><|vision_end|>.<|im_end|>\n"
    plain = tok.apply_chat_template([{"role": "user", "content": "Hi?"}], tokenize=False)
    assert plain == "<|im_start|>user\nHi?<|im_end|>\n"


def test_tiny_pair_loads_and_generates_with_an_image(tmp_path):
    student_dir, teacher_dir = make_tiny_pair(tmp_path)
    proc = AutoProcessor.from_pretrained(student_dir)
    student = AutoModelForImageTextToText.from_pretrained(student_dir)
    teacher = AutoModelForCausalLM.from_pretrained(teacher_dir)
    assert student.config.text_config.vocab_size == teacher.config.vocab_size
    assert student.config.image_token_id == proc.tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert student.config.text_config.hidden_size // student.config.text_config.num_attention_heads == 64
    assert teacher.config.head_dim == 64
    # one shared tokenizer: identical vocabularies
    assert proc.tokenizer.get_vocab() == AutoTokenizer.from_pretrained(teacher_dir).get_vocab()

    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is A?"}]}]
    text = proc.apply_chat_template(msgs, add_generation_prompt=True, tokenize=False)
    inputs = proc(text=[text], images=[Image.new("RGB", (112, 112), "white")], return_tensors="pt")
    # 112x112 -> 8x8 patches -> 16 merged visual tokens
    assert (inputs["input_ids"] == student.config.image_token_id).sum() == 16
    out = student.generate(**inputs, max_new_tokens=5, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 5 or out[0, -1] == student.config.eos_token_id
    with torch.no_grad():
        logits = teacher(input_ids=inputs["input_ids"][:, :4]).logits
    assert logits.shape[-1] == teacher.config.vocab_size


def test_resolve_model_passes_other_names_through():
    assert resolve_model("Qwen/Qwen2.5-VL-3B-Instruct") == "Qwen/Qwen2.5-VL-3B-Instruct"
    assert resolve_model("runs/x/final") == "runs/x/final"
