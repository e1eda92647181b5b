"""Pictures of toy problems (Pillow). The quantities appear here and nowhere in the question.

Qwen2.5-VL cuts 14 px patches and merges 2x2 of them into one visual token (28x28 px): a
112x112 picture is 16 tokens. Every number is drawn ~20 px tall inside one token's cell.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

SIZE = 112
CELL = 28  # one merged visual token: 2x2 patches of 14 px
CARD_FILLS = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa"]
# Each letter has its own card colour, and each card fills exactly one visual token, so one
# token carries both "which card" and "which digit": a tiny model from scratch learns that
# in minutes, while reading a letter that sits in another token takes far longer to learn.
LETTER_FILLS = {"A": "#fde047", "B": "#93c5fd", "C": "#86efac", "D": "#fca5a5"}


@lru_cache(maxsize=4)
def _font(size: int):
    # Pillow's bundled scalable font: identical on every machine, no system fonts needed.
    return ImageFont.load_default(size=size)


def _centered(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: int, fill="black"):
    draw.text(xy, text, font=_font(size), fill=fill, anchor="mm")


def render_cards(values: dict[str, int], dx: int = 0, dy: int = 0, hue: int = 0) -> Image.Image:
    """112x56 (8 visual tokens): the cards in a row, one token each, letters underneath."""
    img = Image.new("RGB", (SIZE, 2 * CELL), "white")
    d = ImageDraw.Draw(img)
    jx, jy = max(-1, min(1, dx)), max(-1, min(1, dy))
    for i, (name, v) in enumerate(values.items()):
        x0, y0 = CELL * i + 2 + jx, 2 + jy
        d.rectangle([x0, y0, x0 + 23, y0 + 23], fill=LETTER_FILLS[name], outline="black")
        _centered(d, (x0 + 12, y0 + 12), str(v), 20)
        _centered(d, (CELL * i + 14, CELL + 12), name, 14)
    return img


# The side labels are drawn as the cards are (a black digit on a tinted tag filling one visual
# token): in toy-v2 they were coloured digits on white, which the student read only 54-83% of
# the time, often off by one, as if it read the drawn size instead of the label.
SIDE_FILLS = {"width": "#bfdbfe", "height": "#fecaca"}


def _tag(d: ImageDraw.ImageDraw, cx: int, cy: int, text: str, fill: str) -> None:
    d.rectangle([cx - 12, cy - 12, cx + 11, cy + 11], fill=fill, outline="black")
    _centered(d, (cx, cy), text, 20)


def render_rect(width: int, height: int, dx: int = 0, dy: int = 0, hue: int = 0) -> Image.Image:
    """112x112: a rectangle drawn roughly to scale; its width on a blue tag below it, its
    height on a red tag left of it, each tag filling one visual token."""
    img = Image.new("RGB", (SIZE, SIZE), "white")
    d = ImageDraw.Draw(img)
    wpx, hpx = 20 + 6 * width, 16 + 6 * height
    x0, y0 = 70 - wpx // 2, 42 - hpx // 2
    d.rectangle([x0, y0, x0 + wpx, y0 + hpx], outline="black", width=2,
                fill=CARD_FILLS[hue % len(CARD_FILLS)])
    jx, jy = max(-1, min(1, dx)), max(-1, min(1, dy))
    _tag(d, 70 + jx, 98 + jy, str(width), SIDE_FILLS["width"])
    _tag(d, 14 + jx, 42 + jy, str(height), SIDE_FILLS["height"])
    return img


def value_cells(p) -> list[tuple[int, int]]:
    """(visual token, quantity) for each number a problem's picture shows; tokens count
    row-major over the merged 28 px grid (cards: one per card in the top row; rect: the
    height tag at row 1 col 0, the width tag at row 3 col 2)."""
    if p.skill == "cards":
        return list(enumerate(p.values.values()))
    cols = SIZE // CELL
    return [(1 * cols + 0, p.values["height"]), (3 * cols + 2, p.values["width"])]


def render_problem(p) -> Image.Image:
    if p.skill == "cards":
        return render_cards(p.values, **p.layout)
    return render_rect(p.values["width"], p.values["height"], **p.layout)


def examples_sheet(n: int = 6, scale: int = 2) -> Image.Image:
    """The first n image-form test problems side by side, upscaled (docs/toy-examples.png)."""
    from vold_train.toy.world import problems

    pics = [render_problem(p).resize((SIZE * scale, (SIZE if p.skill == "rect" else 2 * CELL) * scale),
                                     Image.NEAREST) for p in problems("test", n=n)]
    sheet = Image.new("RGB", (sum(p.width for p in pics) + 8 * (n + 1), SIZE * scale + 16), "#e5e7eb")
    x = 8
    for pic in pics:
        sheet.paste(pic, (x, 8))
        x += pic.width + 8
    return sheet


if __name__ == "__main__":  # python -m vold_train.toy.render [out.png]: the sheet and its table
    import sys

    from vold_train.toy.world import problems

    out = sys.argv[1] if len(sys.argv) > 1 else "docs/toy-examples.png"
    examples_sheet().save(out)
    for p in problems("test", n=6):
        print(f"| {p.uid} | {p.image_question()} | {p.text_question()} | {p.answer} |")
