"""toy-vteacher: an image-seeing toy teacher for VA-OPD (arXiv 2605.21924).

A second tiny Qwen2_5_VLForConditionalGeneration, built like toy-student and sharing its
tokenizer, but trained on the *image form* of every level with the teacher's worked traces
(which open by transcribing the picture: "A = 7, B = 3."). So it needs the picture to predict
exactly those tokens, which is what VA-OPD's visual advantage is meant to find.
Built by `vold toy build --vteacher` (or `python -m vold_train.toy.vteacher [steps]`).
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from vold_bench.toy import world
from vold_train.toy import models as tm
from vold_train.toy.build import _student_batch, _train


@dataclass
class VTeacherConfig:
    seed: int = 0
    hidden: int = 128
    layers: int = 3
    steps: int = 1200
    batch: int = 32
    lr: float = 3e-3
    warmup: int = 50
    threads: int = 1                 # on a busy 2-core box, 2 OpenMP threads were ~10x slower


def _examples(seed: int, n: int) -> list[tuple[str, str, list]]:
    """Image-form problems of every level with worked traces, plus 1 in 4 text-form ones (so
    it also answers without a picture, as the degraded-image pass asks it to)."""
    out = []
    for i, p in enumerate(world.problems("train", n=n, seed=seed)):
        if i % 4:
            out.append((p.image_question(), world.trace(p, "teacher"), p.pictures()))
        else:
            out.append((p.text_question(), world.trace(p, "teacher"), []))
    return out


def build_vteacher(out: str | Path, cfg: VTeacherConfig | None = None, force: bool = False) -> Path:
    from transformers import Qwen2_5_VLForConditionalGeneration

    cfg = cfg or VTeacherConfig()
    out = Path(out)
    if (out / "config.json").exists() and not force:
        return out
    torch.set_num_threads(cfg.threads)
    tokenizer = tm.build_tokenizer()
    processor = tm.build_processor(tokenizer)
    torch.manual_seed(cfg.seed + 7)
    model = Qwen2_5_VLForConditionalGeneration(tm.tiny_student_config(
        tokenizer, hidden=cfg.hidden, layers=cfg.layers, heads=cfg.hidden // 64))
    log: list = []
    t0 = time.time()
    # as toy-student: the vision encoder below the merger stays at its random init (its
    # features of clean rendered digits suffice; trained at the LM's lr they collapsed)
    encoder = [p for n, p in model.model.visual.named_parameters() if not n.startswith("merger")]
    for p in encoder:
        p.requires_grad_(False)
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": cfg.lr}]
    _train(model, lambda step: _student_batch(processor, _examples(3_000_000 + step, cfg.batch)),
           cfg.steps, cfg.lr, cfg.warmup, "vteacher", log, groups)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tm.save_student(model, tokenizer, tmp)
    (tmp / "build.json").write_text(json.dumps({"config": asdict(cfg), "world": world.WORLD_VERSION,
                                                "train_s": round(time.time() - t0, 1), "log": log}, indent=1))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def image_bound_va(model, processor, n: int) -> dict[str, list[float]]:
    """Visual advantage (VA-OPD) of an image-seeing teacher on n card problems, split into the
    tokens only the picture determines (the digits of the trace's transcription line,
    "A = 7, B = 3.") and all others, plus the teacher's log-probs of those digits with the full
    and the degraded picture. Shared by bench/va_image_bound.py and its test."""
    from vold_train.losses import visual_advantage
    from vold_train.vaopd import degrade, score_with_image

    tok, V = processor.tokenizer, len(processor.tokenizer)
    out: dict[str, list[float]] = {"bound": [], "rest": [], "lp_full": [], "lp_degraded": []}
    for p in world.problems("test", n=n, skills=("cards",)):
        text = world.trace(p, "teacher")
        ids = tok.encode(text, add_special_tokens=False)
        comp = torch.tensor([ids])
        mask = torch.ones_like(comp, dtype=torch.float)
        pics = p.pictures()
        full, _ = score_with_image(model, processor, p.image_question(), pics, comp, mask, V, 64, inline=True)
        deg, _ = score_with_image(model, processor, p.image_question(), [degrade(im) for im in pics],
                                  comp, mask, V, 64, inline=True)
        va = visual_advantage(full, deg, mask)[0].tolist()
        line_end, pos = text.index("\n", len("<think>\n")), 0
        for t, v, a, b in zip(ids, va, full[0].tolist(), deg[0].tolist()):
            piece = tok.decode([t])
            if pos < line_end and any(c.isdigit() for c in piece):
                out["bound"].append(v)
                out["lp_full"].append(a)
                out["lp_degraded"].append(b)
            else:
                out["rest"].append(v)
            pos += len(piece)
    return out


if __name__ == "__main__":
    from vold_train.toy import models_dir

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else VTeacherConfig.steps
    print(build_vteacher(models_dir() / "vteacher", VTeacherConfig(steps=steps), force=True))
