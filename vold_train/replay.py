"""Replay of the toy student's own pretraining mix during text-only training (a toy deviation).

A 3B VLM keeps its perception through text-only SFT and RL because its reading was learned from
billions of images; a 3-layer toy student forgets it within tens of text-only steps (toy-v2:
transcription 92.7% -> 23.3% after 25 SFT steps). `sft.replay` / `rl.replay` stand in for that
robustness: each optimizer step adds

    replay * NLL(a fresh batch of the perception part of the student's own pretraining)

(pictures of problems of every level, "Write down the numbers." -> "A = 7, B = 3.",
`toy.build.transcriptions`). Only perception is replayed, never the student's own answering
style: replaying its one-step answers would pull it back from the teacher's reasoning. It is off by
default and in every recipe; set with --set, it applies to every variant alike (e.g.
`python bench/toy_ablation.py --set sft.replay=0.5 rl.replay=0.5`). It did not make reading
survive the cold start (docs/toy-world.md), so the shipped ablation runs without it. It only
exists for the toy student (its tokenizer and pictures) and runs in one process.
"""
from __future__ import annotations

from vold_bench.errors import VoldError


class Replay:
    def __init__(self, model_name: str, weight: float, batch: int, seed: int):
        from transformers import AutoTokenizer

        from vold_train import dist
        from vold_train.common import model_path
        from vold_train.toy import models as tm
        from vold_train.toy import resolve_model

        if dist.world() > 1:
            raise VoldError("replay (sft.replay / rl.replay) runs in one process only")
        toy_tok = AutoTokenizer.from_pretrained(resolve_model("toy-student"))
        tok = AutoTokenizer.from_pretrained(model_path(model_name))
        if tok.get_vocab() != toy_tok.get_vocab():
            raise VoldError(f"replay draws the toy student's pretraining mix; {model_name!r} does not "
                            f"use the toy tokenizer (set replay=0 for other students)")
        self.processor = tm.build_processor(toy_tok)
        self.weight, self.batch, self.seed = weight, batch, seed

    def loss(self, model, step: int):
        """weight * NLL of `batch` pretraining examples, a new draw every step (seeded)."""
        from vold_train import dist
        from vold_train.toy.build import _student_batch, transcriptions

        examples = transcriptions(9_000_000 + 100_003 * self.seed + step, self.batch)
        b = {k: v.to(dist.device()) for k, v in _student_batch(self.processor, examples).items()}
        return self.weight * model(**b).loss


def make_replay(model_name: str, weight: float, batch: int, seed: int) -> Replay | None:
    return Replay(model_name, weight, batch, seed) if weight > 0 else None
