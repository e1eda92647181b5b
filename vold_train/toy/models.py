"""Tiny Qwen-family models and their shared tokenizer, built offline from configs.

The toy student is a real `Qwen2_5_VLForConditionalGeneration` and the toy teacher a real
`Qwen3ForCausalLM`, only small: every code path (processor, chat template, image tokens,
from_pretrained, vLLM) is the one the 3B/8B models take. They share one tokenizer, so their
logits index one vocabulary, as Qwen2.5-VL and Qwen3 do for ids below 151,665.

`make_tiny_pair` saves random-init models for tests; `build.py` trains the shipped ones.
"""
from __future__ import annotations

from pathlib import Path

# Qwen's own special tokens, same spellings. They sit after the learned vocabulary, as in Qwen.
SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
    "<think>", "</think>",
]

# Qwen2-VL's template minus the default system prompt (it would cost ~10 tokens per toy
# sequence), and with no vision marks around an image placed in the text: an image part that
# follows a text part becomes its <|image_pad|> alone, which the processor expands to one pad
# per merged visual token. A toy picture is one visual token, so the toy world's image form
# (each picture in its number's place) is the text form with the number's token swapped for
# the picture's, position for position (toy-v5). With Qwen2-VL's marks (toy-v4) the text-only
# cold start tied the student's reading to the text form's layout: it then read marked text
# as badly as pictures (docs/toy-world.md). Images that open a turn or follow another image
# (images-first prompts, every real benchmark) keep <|vision_start|><|image_pad|><|vision_end|>:
# the marks keep adjacent images apart, which Qwen2.5-VL's position ids need. Videos keep them.
CHAT_TEMPLATE = (
    "{%- for message in messages -%}"
    "<|im_start|>{{ message['role'] + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] }}"
    "{%- else -%}{%- for part in message['content'] -%}"
    "{%- if part['type'] == 'image' or 'image' in part -%}"
    "{%- if loop.previtem is defined and loop.previtem.type == 'text' -%}<|image_pad|>"
    "{%- else -%}<|vision_start|><|image_pad|><|vision_end|>{%- endif -%}"
    "{%- elif part['type'] == 'video' or 'video' in part -%}<|vision_start|><|video_pad|><|vision_end|>"
    "{%- elif part['type'] == 'text' -%}{{ part['text'] }}"
    "{%- endif -%}{%- endfor -%}{%- endif -%}"
    "{{ '<|im_end|>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<|im_start|>assistant\\n' }}{%- endif -%}"
)

# Qwen2's pre-tokenizer regex, except numbers are kept in groups of up to three digits (as
# Llama-3 / GPT-4 do) with an optional leading space, so every toy quantity 0..999 is one token:
# a small model then learns arithmetic as a lookup instead of digit-carry algorithms, which
# minutes of CPU allow.
PRETOKENIZE_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+| ?\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Words the toy world and generic chat use; the world adds its own sentences via `corpus`.
_BASE_WORDS = (
    "the a an is are of and or to in on with what how many much there picture shows number numbers "
    "answer final so then first next step add adds added subtract take away minus plus times "
    "multiply double half sum total difference product value values each box boxes card cards "
    "rectangle square circle circles squares triangle triangles shape shapes wide tall width height "
    "side sides length perimeter area count counts apples coins red blue green left right top bottom "
    "think compute result gives get gets we have has let be equal equals it its this that "
    "question user assistant system you helpful read write only digit digits put your in within "
    "boxed The What How There So Let First Then Next Step We Answer Question"
).split()


def _corpus_lines(extra: list[str] | None) -> list[str]:
    lines = [" ".join(_BASE_WORDS)] * 4
    lines += [" ".join(f"{w} {n}" for n in range(200)) for w in ("is", "=", "+", "-", "*")]
    lines += [f"\\boxed{{{n}}} {{{n}}} = ( ) , . ? : ; !" for n in range(200)] * 2
    lines += [" ".join(f"{c} {c}: {c}= {c}," for c in "ABCDEFGH")] * 2
    if extra is None:
        try:  # the world's own sentences, so its phrases become single tokens
            from vold_bench.toy.world import corpus_lines
            extra = corpus_lines()
        except ImportError:
            extra = []
    return lines + list(extra)


def build_tokenizer(out_dir: str | Path | None = None, corpus: list[str] | None = None,
                    vocab_size: int = 1024):
    """Train a byte-level BPE on the toy corpus and wrap it as an HF fast tokenizer.

    Byte-level means any text encodes (model output never hits an unknown token); the learned
    merges make the toy world's words and numbers single tokens."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(SPECIAL_TOKENS), min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(_corpus_lines(corpus), trainer=trainer)
    # <think> and </think> are ordinary added tokens, as in Qwen3: decoding with
    # skip_special_tokens=True must keep them so a scorer can see the reasoning block.
    tok.add_special_tokens(SPECIAL_TOKENS[:-2])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in SPECIAL_TOKENS[-2:]])

    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
        unk_token=None, bos_token=None, model_max_length=4096, padding_side="left",
        extra_special_tokens={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
                              "vision_bos_token": "<|vision_start|>",
                              "vision_eos_token": "<|vision_end|>"},
    )
    hf.chat_template = CHAT_TEMPLATE
    if out_dir is not None:
        hf.save_pretrained(str(out_dir))
    return hf


def _padded(n: int, multiple: int = 64) -> int:
    # Logit rows padded past the tokenizer, like Qwen (151,936 rows for 151,665 tokens).
    return (n + multiple - 1) // multiple * multiple


def _token_ids(tokenizer) -> dict[str, int]:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    return ids


def tiny_student_config(tokenizer, hidden: int = 128, layers: int = 2, heads: int = 2,
                        vision_hidden: int = 64, vision_depth: int = 2, vision_heads: int = 2):
    """Qwen2_5_VLConfig at toy scale. Text head_dim stays 64 (hidden / heads) because vLLM's
    CPU attention only supports a few head sizes; the mRoPE sections sum to head_dim / 2."""
    from transformers import Qwen2_5_VLConfig

    ids = _token_ids(tokenizer)
    head_dim = hidden // heads
    text = dict(
        vocab_size=_padded(len(tokenizer)), hidden_size=hidden, intermediate_size=hidden * 3,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=1024, rms_norm_eps=1e-6, use_sliding_window=False,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                         "mrope_section": [head_dim // 8, 3 * head_dim // 16, 3 * head_dim // 16]},
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False,
    )
    vision = dict(
        depth=vision_depth, hidden_size=vision_hidden, intermediate_size=vision_hidden * 2,
        num_heads=vision_heads, out_hidden_size=hidden, patch_size=14, spatial_merge_size=2,
        temporal_patch_size=2, window_size=112, fullatt_block_indexes=[vision_depth - 1],
    )
    return Qwen2_5_VLConfig(
        text_config=text, vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False,
    )


def tiny_teacher_config(tokenizer, hidden: int = 256, layers: int = 4, heads: int = 4):
    """Qwen3Config at toy scale, head_dim 64, same padded vocabulary as the student."""
    from transformers import Qwen3Config

    ids = _token_ids(tokenizer)
    return Qwen3Config(
        vocab_size=_padded(len(tokenizer)), hidden_size=hidden, intermediate_size=hidden * 3,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        head_dim=hidden // heads, max_position_embeddings=1024, rms_norm_eps=1e-6,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"], tie_word_embeddings=False,
    )


# 112x112 images -> 8x8 patches of 14 px -> 16 merged visual tokens; keep the toy images
# inside these bounds so the processor never resizes them.
MIN_PIXELS = 28 * 28
MAX_PIXELS = 224 * 224


def build_processor(tokenizer):
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    image_processor = Qwen2VLImageProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    video_processor = Qwen2VLVideoProcessor(min_pixels=MIN_PIXELS, max_pixels=MAX_PIXELS)
    return Qwen2_5_VLProcessor(image_processor=image_processor, tokenizer=tokenizer,
                               video_processor=video_processor, chat_template=CHAT_TEMPLATE)


def save_student(model, tokenizer, out_dir: str | Path) -> None:
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(out_dir))
    build_processor(tokenizer).save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


def save_teacher(model, tokenizer, out_dir: str | Path) -> None:
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


def make_tiny_pair(tmp_dir: str | Path, train: bool = False, seed: int = 0,
                   corpus: list[str] | None = None) -> tuple[str, str]:
    """Random-init student and teacher saved under tmp_dir/{student,teacher}, one tokenizer.

    With train=True the shipped trained toy models are copied instead (an error if not built),
    for tests that need models which actually solve the toy tasks."""
    import shutil

    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen3ForCausalLM

    tmp_dir = Path(tmp_dir)
    student_dir, teacher_dir = tmp_dir / "student", tmp_dir / "teacher"
    if train:
        from vold_train.toy import resolve_model
        for name, dst in (("toy-student", student_dir), ("toy-teacher", teacher_dir)):
            shutil.copytree(resolve_model(name), dst, dirs_exist_ok=True)
        return str(student_dir), str(teacher_dir)

    tokenizer = build_tokenizer(corpus=corpus)
    torch.manual_seed(seed)
    student = Qwen2_5_VLForConditionalGeneration(tiny_student_config(tokenizer))
    teacher = Qwen3ForCausalLM(tiny_teacher_config(tokenizer, hidden=128, layers=2, heads=2))
    save_student(student, tokenizer, student_dir)
    save_teacher(teacher, tokenizer, teacher_dir)
    return str(student_dir), str(teacher_dir)
