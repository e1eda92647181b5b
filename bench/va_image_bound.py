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
    from vold_train.toy.vteacher import image_bound_va

    name = sys.argv[1] if len(sys.argv) > 1 else "toy-vteacher"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    torch.set_num_threads(1)
    path = model_path(name)
    proc = AutoProcessor.from_pretrained(path)
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    r = image_bound_va(model, proc, n)

    def mean(x):
        return sum(x) / max(len(x), 1)

    print(f"teacher {name} ({path}), {n} card problems")
    print(f"mean VA, image-bound digit tokens ({len(r['bound'])}): {mean(r['bound']):.4f} nats")
    print(f"mean VA, other tokens ({len(r['rest'])}): {mean(r['rest']):.4f} nats")
    print(f"mean log p(digit), full picture {mean(r['lp_full']):.3f}, "
          f"degraded {mean(r['lp_degraded']):.3f} (chance -2.197)")


if __name__ == "__main__":
    main()
