"""Where does an image-seeing teacher need the picture? Mean visual advantage (VA-OPD, arXiv
2605.21924) on the tokens of a worked trace that only the picture determines (the digits of
the transcription line, "A = 7, B = 3.") against all other tokens, and the teacher's mean
log-prob of those digits with the full and the degraded picture (chance is log 1/9 = -2.20).

    python bench/va_image_bound.py [teacher (default toy-vteacher)] [n problems (default 24)]
"""
from __future__ import annotations

import sys

import torch


def main() -> None:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from vold_train.common import model_path
    from vold_train.losses import visual_advantage
    from vold_train.toy import world
    from vold_train.vaopd import degrade, score_with_image

    name = sys.argv[1] if len(sys.argv) > 1 else "toy-vteacher"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    torch.set_num_threads(1)
    path = model_path(name)
    proc = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    tok, V = proc.tokenizer, len(proc.tokenizer)
    va_bound, va_rest, lp_full, lp_deg = [], [], [], []
    for p in world.problems("test", n=n, skills=("cards",)):
        text = world.trace(p, "teacher")
        ids = tok.encode(text, add_special_tokens=False)
        comp = torch.tensor([ids])
        mask = torch.ones_like(comp, dtype=torch.float)
        full, _ = score_with_image(model, proc, p.image_question(), p.render(), comp, mask, V, 64)
        deg, _ = score_with_image(model, proc, p.image_question(), degrade(p.render()), comp, mask, V, 64)
        va = visual_advantage(full, deg, mask)[0].tolist()
        line_end, pos = text.index("\n", len("<think>\n")), 0
        for t, v, a, b in zip(ids, va, full[0].tolist(), deg[0].tolist()):
            piece = tok.decode([t])
            if pos < line_end and any(c.isdigit() for c in piece):
                va_bound.append(v)
                lp_full.append(a)
                lp_deg.append(b)
            else:
                va_rest.append(v)
            pos += len(piece)

    def mean(x):
        return sum(x) / max(len(x), 1)

    print(f"teacher {name} ({path}), {n} card problems")
    print(f"mean VA, image-bound digit tokens ({len(va_bound)}): {mean(va_bound):.4f} nats")
    print(f"mean VA, other tokens ({len(va_rest)}): {mean(va_rest):.4f} nats")
    print(f"mean log p(digit), full picture {mean(lp_full):.3f}, degraded {mean(lp_deg):.3f} (chance -2.197)")


if __name__ == "__main__":
    main()
