"""VA-OPD's image-seeing teacher (arXiv 2605.21924) at work: it scores the student's completion
tokens twice, after the picture and after a degraded copy of it; the difference is the visual
advantage (losses.visual_advantage). teachers.ImageTeacher calls it each step.

The student's rollouts are the same ones every objective trains on (text-form problems, no
image), so VA-OPD here teaches a text-trained student which of its tokens the picture decides.
"""
from __future__ import annotations

import torch
from PIL import Image

from vold_bench.prompts import chat_prompt
from vold_train.common import device_of
from vold_train.logprobs import token_logprobs


def degrade(image: Image.Image, factor: float = 0.1) -> Image.Image:
    """Downsample to `factor` of each side (bilinear), then back up (nearest): the layout and
    colours survive, the digits do not."""
    img = image.convert("RGB")
    w, h = img.size
    small = img.resize((max(1, round(w * factor)), max(1, round(h * factor))), Image.BILINEAR)
    return small.resize((w, h), Image.NEAREST)


@torch.no_grad()
def score_with_image(model, processor, question: str, images: list, completion: torch.Tensor,
                     mask: torch.Tensor, shared_vocab: int, chunk: int,
                     inline: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """log p(completion tokens) and entropy (G, Tc) for the G rollouts of one image prompt
    (its images first, or with `inline` in place of the question's <image> marks).

    All rows share the prompt, so they need no padding before the completion and the
    Qwen-VL 3-D positions are the same for every row."""
    enc = processor(text=[chat_prompt(processor.tokenizer, question, len(images), inline)],
                    images=images, return_tensors="pt").to(device_of(model))  # ids, pixels, grid, mm types
    G, Tc = completion.shape
    # A sampled <|image_pad|> in the completion would be taken for an image slot (and the
    # model refuses the mismatch): the teacher reads it as padding but still scores the id.
    cfg = model.config
    slots = [i for i in (getattr(cfg, "image_token_id", None), getattr(cfg, "video_token_id", None)) if i is not None]
    read = completion.clone()
    read[torch.isin(read, torch.tensor(slots, device=read.device))] = processor.tokenizer.pad_token_id
    ids = torch.cat([enc["input_ids"].expand(G, -1), read], 1)  # (G, Lp + Tc)
    attn = torch.cat([enc["attention_mask"].expand(G, -1), mask.long()], 1)  # (G, Lp + Tc)
    kw = {}
    if "mm_token_type_ids" in enc:  # marks the image tokens: without it they get 1-D text
        # positions instead of the (t, h, w) mRoPE positions generation gives them
        kw["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"].expand(G, -1),
                                             torch.zeros_like(completion)], 1)
    h = model.model(input_ids=ids, attention_mask=attn, pixel_values=enc["pixel_values"].repeat(G, 1),
                    image_grid_thw=enc["image_grid_thw"].repeat(G, 1), use_cache=False, **kw).last_hidden_state
    L = ids.shape[1]
    return token_logprobs(h[:, L - Tc - 1:L - 1], model.get_output_embeddings(), completion, shared_vocab, chunk)


@torch.no_grad()
def va_teacher_scores(model, processor, items, ro, group_size: int, shared_vocab: int, chunk: int,
                      factor: float = 0.1) -> dict:
    """Per rollout (N, Tc): teacher log-probs with the full picture, with the degraded one,
    and the teacher's entropy (full picture). `items` are image-form problems, one per group."""
    full, degr, ent = [], [], []
    for i, it in enumerate(items):
        sl = slice(i * group_size, (i + 1) * group_size)
        inline = it.meta.get("image_layout") == "inline"
        lp, e = score_with_image(model, processor, it.question, it.images, ro.completion[sl], ro.mask[sl],
                                 shared_vocab, chunk, inline)
        lp_d, _ = score_with_image(model, processor, it.question, [degrade(im, factor) for im in it.images],
                                   ro.completion[sl], ro.mask[sl], shared_vocab, chunk, inline)
        full.append(lp)
        degr.append(lp_d)
        ent.append(e)
    return {"logp": torch.cat(full), "logp_degraded": torch.cat(degr), "entropy": torch.cat(ent)}
