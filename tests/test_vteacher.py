"""The shipped toy-vteacher (vold_train/toy/vteacher.py) needs the picture exactly where VA-OPD
says it does: its visual advantage is far larger on the digits it transcribes from the picture
than on the rest of a worked trace. Skips when the vteacher is not there."""
import pytest
import torch

from vold_train.losses import visual_advantage
from vold_train.toy import models_dir, world

VT = models_dir() / "vteacher"
pytestmark = pytest.mark.skipif(not (VT / "config.json").exists(),
                                reason="toy-vteacher not built (python -m vold_train.toy.vteacher)")


def test_visual_advantage_is_largest_on_image_bound_tokens():
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vold_train.vaopd import degrade, score_with_image

    proc = AutoProcessor.from_pretrained(VT)
    model = AutoModelForImageTextToText.from_pretrained(VT).eval()
    tok, V = proc.tokenizer, len(proc.tokenizer)
    bound, rest = [], []
    for p in world.problems("test", n=8, skills=("cards",)):
        text = world.trace(p, "teacher")
        ids = tok.encode(text, add_special_tokens=False)
        comp = torch.tensor([ids])
        mask = torch.ones_like(comp, dtype=torch.float)
        full, _ = score_with_image(model, proc, p.image_question(), p.render(), comp, mask, V, 64)
        deg, _ = score_with_image(model, proc, p.image_question(), degrade(p.render()), comp, mask, V, 64)
        va = visual_advantage(full, deg, mask)[0]
        # tokens that spell a digit of the transcription line: only the picture tells them
        line_end, pos = text.index("\n", len("<think>\n")), 0
        for t, v in zip(ids, va.tolist()):
            piece = tok.decode([t])
            (bound if pos < line_end and any(c.isdigit() for c in piece) else rest).append(v)
            pos += len(piece)
    assert len(bound) >= 16 and len(rest) > len(bound)
    mb, mr = sum(bound) / len(bound), sum(rest) / len(rest)
    assert mb > 1.0 and mb > 10 * mr, (mb, mr)
