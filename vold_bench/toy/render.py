"""Pictures of toy quantities (Pillow): in the image form each number is one small picture.

Qwen2.5-VL cuts 14 px patches and merges 2x2 of them into one visual token (28x28 px), so a
28x28 picture is one visual token: it stands where the text form has the number's token.
Each picture is a digit ~20 px tall on a tag of its name's colour, with a little jitter.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

CELL = 28  # one merged visual token: 2x2 patches of 14 px
BACKGROUNDS = ["#ffffff", "#f8fafc", "#fefce8", "#f0fdf4", "#fdf2f8", "#f5f5f4"]
# Each name has its own tag colour, as a card's letter or a side's label does on paper: the
# picture then says whose value it is, so reading B's value can find B's picture by what it
# shows, not only by where it stands (with one tint for all, the cold-started student read
# the first picture and copied its value into every later name; docs/toy-world.md).
NAME_FILLS = {"A": "#fde047", "B": "#93c5fd", "C": "#86efac", "D": "#fca5a5",
              "width": "#c4b5fd", "height": "#fdba74"}


@lru_cache(maxsize=4)
def _font(size: int):
    # Pillow's bundled scalable font: identical on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def render_value(value: int, name: str, dx: int = 0, dy: int = 0, hue: int = 0) -> Image.Image:
    """28x28: `value` in black on a tag of the name's colour; the problem's jitter (dx, dy)
    moves the tag by at most 2 px and its hue shifts the background a little."""
    img = Image.new("RGB", (CELL, CELL), BACKGROUNDS[hue % len(BACKGROUNDS)])
    d = ImageDraw.Draw(img)
    jx, jy = max(-2, min(2, dx)), max(-2, min(2, dy))
    cx, cy = CELL // 2 + jx, CELL // 2 + jy
    d.rectangle([cx - 11, cy - 11, cx + 10, cy + 10], fill=NAME_FILLS[name], outline="black")
    d.text((cx, cy), str(value), font=_font(20), fill="black", anchor="mm")
    return img


def examples_sheet(problems, scale: int = 3) -> Image.Image:
    """Each problem's pictures in a row, upscaled, one row per problem (docs/toy-examples.png)."""
    gap, side = 6, CELL * scale
    rows = [[pic.resize((side, side), Image.NEAREST) for pic in p.pictures()] for p in problems]
    width = max(len(r) for r in rows) * (side + gap) + gap
    sheet = Image.new("RGB", (width, len(rows) * (side + gap) + gap), "#e5e7eb")
    for i, row in enumerate(rows):
        for j, pic in enumerate(row):
            sheet.paste(pic, (gap + j * (side + gap), gap + i * (side + gap)))
    return sheet
