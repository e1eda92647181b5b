"""Random-init Qwen2.5-VL-3B-Instruct and Qwen3-8B from their configs, no hub (bench/gpu_check.py).

    python bench/_gpu_models.py --out DIR [--tiny] [--device cuda|cpu]

writes DIR/student (Qwen2.5-VL: weights, processor, tokenizer), DIR/teacher (Qwen3) and
DIR/build.json (parameter counts, seconds, bytes on disk).

The configs are sizing.KNOWN_CONFIGS, the public config.json numbers of the paper's two
models. `--tiny` keeps everything of them except the widths and depths (same vocabulary, same
special-token ids, mRoPE, GQA, tied student embeddings), so the dry run takes the real-size
code paths on CPU in seconds.

The tokenizer is a stand-in, not Qwen's: a byte-level BPE trained on the toy corpus with Qwen2's
pre-tokenizer regex, its vocabulary filled with unreachable placeholder entries up to id
151,642, Qwen's 26 special tokens at their real ids 151,643-151,668 (<|im_end|> 151,645,
<|image_pad|> 151,655, <think> 151,667), then placeholders up to 151,936, the logit rows of
both models. Filling every row matters: a random-init model samples any row, and a row the
tokenizer cannot decode is a crash in a detokenizer, not a throughput figure. Token counts per
text differ from Qwen's (the merges are the toy corpus's), so generated tokens/s are real;
prompt lengths are not Qwen's.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

STUDENT_ID, TEACHER_ID = "Qwen/Qwen2.5-VL-3B-Instruct", "Qwen/Qwen3-8B"
ROWS = 151_936          # both models' logit rows (config vocab_size)
FIRST_SPECIAL = 151_643
# Qwen2.5's special tokens in id order from 151,643, then the four Qwen3 adds; the first 14
# are `special` (skipped when decoding), the rest ordinary added tokens, as in Qwen's files.
QWEN_SPECIALS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>",
    "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
    "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
    "<think>", "</think>",
]
N_SPECIAL_FLAG = 14
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
               r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# Tiny widths: text head_dim 64 (vLLM's CPU attention supports few head sizes, as toy/models.py
# says), mRoPE sections summing to head_dim / 2, GQA kept (2 heads, 1 KV head).
TINY_TEXT = dict(hidden_size=128, intermediate_size=384, num_hidden_layers=2, num_attention_heads=2,
                 num_key_value_heads=1, max_position_embeddings=32768)
TINY_VISION = dict(depth=2, hidden_size=64, intermediate_size=128, num_heads=2, out_hidden_size=128,
                   fullatt_block_indexes=[1])


def standin_tokenizer():
    """PreTrainedTokenizerFast of ROWS tokens with Qwen's special tokens at Qwen's ids."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    from vold_train.toy.models import CHAT_TEMPLATE, _corpus_lines

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_REGEX), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(_corpus_lines(None), trainer=trainers.BpeTrainer(
        vocab_size=8192, min_frequency=2, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    # Placeholders are vocabulary entries no merge produces: encoding never emits them,
    # decoding them gives their ASCII spelling.
    i = 0
    while len(vocab) < FIRST_SPECIAL:
        vocab.setdefault(f"<fill{i}>", len(vocab))
        i += 1
    tok = Tokenizer.from_str(json.dumps(spec))
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in QWEN_SPECIALS[:N_SPECIAL_FLAG]])
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in QWEN_SPECIALS[N_SPECIAL_FLAG:]])
    tok.add_tokens([AddedToken(f"<|extra_{k}|>", special=False, normalized=False)
                    for k in range(ROWS - tok.get_vocab_size())])
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token=None,
        bos_token=None, model_max_length=131072, padding_side="left",
        extra_special_tokens={"image_token": "<|image_pad|>", "video_token": "<|video_pad|>",
                              "vision_bos_token": "<|vision_start|>", "vision_eos_token": "<|vision_end|>"})
    hf.chat_template = CHAT_TEMPLATE
    bad = {t: hf.convert_tokens_to_ids(t) for t in QWEN_SPECIALS
           if hf.convert_tokens_to_ids(t) != FIRST_SPECIAL + QWEN_SPECIALS.index(t)}
    if bad or len(hf) != ROWS:
        raise RuntimeError(f"stand-in tokenizer is off: {len(hf)} tokens, misplaced {bad}")
    return hf


def paper_configs(tiny: bool):
    """(student, teacher) transformers configs of the paper's models; `tiny` shrinks widths only."""
    from transformers import AutoConfig

    from vold_train.sizing import KNOWN_CONFIGS

    out = []
    for name in (STUDENT_ID, TEACHER_ID):
        d = json.loads(json.dumps(KNOWN_CONFIGS[name]))  # deep copy
        if tiny:
            d.update(TINY_TEXT)
            if "vision_config" in d:
                d["vision_config"].update(TINY_VISION)
                d["rope_scaling"]["mrope_section"] = [8, 12, 12]
            else:
                d["head_dim"] = 64
        d.update(pad_token_id=FIRST_SPECIAL)  # <|endoftext|>, as Qwen's generation configs
        out.append(AutoConfig.for_model(d.pop("model_type"), **d))
    return out


def build(out: Path, tiny: bool, device: str) -> dict:
    import torch
    from transformers import (
        AutoModelForCausalLM,
        AutoModelForImageTextToText,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    from vold_train.sizing import param_counts

    t0 = time.perf_counter()
    tok = standin_tokenizer()
    info = {"tiny": tiny, "device": device, "tokenizer_s": round(time.perf_counter() - t0, 2),
            "vocab": len(tok), "models": {}}
    # bf16 on GPU, as the real checkpoints ship; fp32 on CPU, where the trainer and hf backend
    # load fp32 anyway.
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    student_cfg, teacher_cfg = paper_configs(tiny)
    for role, cfg, cls in (("student", student_cfg, AutoModelForImageTextToText),
                           ("teacher", teacher_cfg, AutoModelForCausalLM)):
        t = time.perf_counter()
        torch.manual_seed(0)
        with torch.device(device):  # initialise where it will run: 8B params init in seconds on a GPU
            model = cls.from_config(cfg, dtype=dtype)
        model.generation_config.pad_token_id = tok.pad_token_id
        model.generation_config.eos_token_id = tok.eos_token_id
        d = out / role
        model.save_pretrained(str(d))
        tok.save_pretrained(str(d))
        if role == "student":  # Qwen2.5-VL's own pixel bounds (min 3,136, max 12,845,056)
            Qwen2_5_VLProcessor(image_processor=Qwen2VLImageProcessor(min_pixels=3136, max_pixels=12845056),
                                tokenizer=tok,
                                video_processor=Qwen2VLVideoProcessor(),
                                chat_template=tok.chat_template).save_pretrained(str(d))
        del model
        if device.startswith("cuda"):
            torch.cuda.empty_cache()
        info["models"][role] = {
            "config_of": STUDENT_ID if role == "student" else TEACHER_ID, "path": str(d),
            "params": param_counts(cfg), "build_s": round(time.perf_counter() - t, 2),
            "disk_gb": round(sum(f.stat().st_size for f in d.iterdir()) / 1024 ** 3, 3)}
    info["wall_s"] = round(time.perf_counter() - t0, 2)
    (out / "build.json").write_text(json.dumps(info, indent=2) + "\n")
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--tiny", action="store_true", help="same configs at toy widths (the dry run)")
    ap.add_argument("--device", default="cpu", help="where to initialise: cuda or cpu")
    a = ap.parse_args()
    if a.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            sys.exit("error: --device cuda but torch sees no CUDA device")
    a.out.mkdir(parents=True, exist_ok=True)
    info = build(a.out, a.tiny, a.device)
    print(json.dumps({r: {k: m[k] for k in ("build_s", "disk_gb")} | {"params_b": m["params"]["total"] / 1e9}
                      for r, m in info["models"].items()}))


if __name__ == "__main__":
    main()
