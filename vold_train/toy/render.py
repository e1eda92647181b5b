"""Pictures of toy problems (Pillow). The quantities appear here and nowhere in the question.

Images are 112x112: Qwen2.5-VL cuts 14 px patches and merges 2x2 of them, so each image is
16 visual tokens; digits are drawn ~20 px tall so one spans about one merged token.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 112
CARD_FILLS = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa"]


@lru_cache(maxsize=4)
def _font(size: int):
    # Pillow's bundled scalable font: identical on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _centered(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill="black"):
    draw.text(xy, text, font=_font(size), fill=fill, anchor="mm")


def render_cards(values: dict[str, int], dx: int = 0, dy: int = 0, hue: int = 0) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), "white")
    d = ImageDraw.Draw(img)
    fill = CARD_FILLS[hue % len(CARD_FILLS)]
    for i, (name, v) in enumerate(values.items()):  # cards A B / C D on a 2x2 grid
        x0, y0 = 56 * (i % 2) + 5 + dx // 2, 56 * (i // 2) + 5 + dy // 2
        d.rounded_rectangle([x0, y0, x0 + 46, y0 + 46], radius=5, fill=fill, outline="black")
        _centered(d, (x0 + 9, y0 + 9), name, 12)
        _centered(d, (x0 + 26, y0 + 27), str(v), 24)
    return img


def render_rect(width: int, height: int, dx: int = 0, dy: int = 0, hue: int = 0) -> Image.Image:
    img = Image.new("RGB", (SIZE, SIZE), "white")
    d = ImageDraw.Draw(img)
    # drawn roughly to scale, so the picture is a figure and not just two numbers
    wpx, hpx = 24 + 7 * width, 16 + 7 * height
    x0 = 26 + (86 - wpx) // 2 + dx // 2
    y0 = 4 + (80 - hpx) // 2 + dy // 2
    d.rectangle([x0, y0, x0 + wpx, y0 + hpx], outline="black", width=2,
                fill=CARD_FILLS[hue % len(CARD_FILLS)])
    _centered(d, (x0 + wpx / 2, y0 + hpx + 13), str(width), 20, fill="#1d4ed8")
    _centered(d, (x0 - 12, y0 + hpx / 2), str(height), 20, fill="#b91c1c")
    return img


def render_problem(p) -> Image.Image:
    if p.skill == "cards":
        return render_cards(p.values, **p.layout)
    return render_rect(p.values["width"], p.values["height"], **p.layout)
