"""Item + prompt template -> GenRequest (HF chat messages + PIL images).

Templates are plain text with named fields in braces: {question}, {choices} ("(A) x" lines),
{choices_dot} ("A. x" lines), {labels}, {answer_hint}, {unit_hint}, {official_prompt}. Only
these names are replaced, so LaTeX such as \\boxed{} needs no escaping in the YAML.

Images go first, then the text, for every benchmark: it is what Qwen2.5-VL's own evaluation
and lmms-eval's Qwen2.5-VL class do, and placeholders like "<image1>" in the question stay as
the benchmark wrote them. The one exception is an item whose meta says `image_layout:
inline` (the toy world's image form): its text holds one "<image>" mark per image and each
image goes where its mark is. The exact text (with one "<image>" marker per image) is what
samples.jsonl records as `prompt`.
"""
from __future__ import annotations

import re
from pathlib import Path

from vold_bench.errors import VoldError
from vold_bench.schema import GenRequest, Item

FIELD = re.compile(r"\{(question|choices|choices_dot|labels|answer_hint|unit_hint|official_prompt)\}")
IMAGE_MARK = "<image>"


def _choices(item: Item, style: str) -> str:
    # MathVision lists bare letters as options when the choices are drawn in the image.
    if not item.options or item.options == item.labels[: len(item.options)]:
        return ""
    labels = item.labels or [chr(65 + i) for i in range(len(item.options))]
    fmt = "({}) {}" if style == "paren" else "{}. {}"
    return "\n".join(fmt.format(lab, opt) for lab, opt in zip(labels, item.options))


def _answer_hint(item: Item) -> str:
    if item.answer_type == "choice":
        return " Put only the letter of the correct option in the box."
    if item.answer_type == "multi_choice":
        return " If several options are correct, put all their letters in the box, separated by commas."
    if item.answer_type == "integer":
        return " The answer is an integer."
    if item.answer_type == "float" and item.precision is not None:
        return f" Round the answer to {item.precision} decimal place{'s' if item.precision != 1 else ''}."
    return ""


_PLACES = {1: ("one decimal place", "1.2, 1.3, 1.4"), 2: ("two decimal places", "1.23, 1.34, 1.45")}


def mathvista_query(item: Item) -> str:
    """MathVista's zero-shot `query` (its build_query rules), for local copies that lack it."""
    at = item.meta.get("answer_type_raw")
    if item.meta.get("question_type") == "multi_choice":
        hint = "Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
    elif at == "integer":
        hint = ("Please answer the question requiring an integer answer and provide the final value, "
                "e.g., 1, 2, 3, at the end.")
    elif at == "float":
        words, eg = _PLACES.get(item.precision or 1, (f"{item.precision} decimal places", "1.234"))
        hint = (f"Please answer the question requiring a floating-point number with {words} "
                f"and provide the final value, e.g., {eg}, at the end.")
    else:
        hint = ("Please answer the question requiring a Python list as an answer and provide the "
                "final list, e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.")
    question = f"Question: {item.question}" + (f" (Unit: {item.unit})" if item.unit else "")
    parts = [f"Hint: {hint}", question]
    if item.options:
        parts.append("Choices:\n" + _choices(item, "paren"))
    return "\n".join(parts)


def render(template: str, item: Item) -> str:
    official = item.official_prompt
    if official is None:
        official = mathvista_query(item) if "question_type" in item.meta else item.question
    fields = {
        "question": item.question,
        "choices": _choices(item, "paren"),
        "choices_dot": _choices(item, "dot"),
        "labels": ", ".join(item.labels),
        "answer_hint": _answer_hint(item),
        "unit_hint": f"(Unit: {item.unit})" if item.unit else "",
        "official_prompt": official,
    }
    text = FIELD.sub(lambda m: fields[m.group(1)], template)
    # An empty field leaves blank lines behind; keep at most one blank line.
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def open_image(img, item_id: str):
    """A path or PIL image -> RGB PIL image; VoldError naming the file and record otherwise."""
    from PIL import Image, UnidentifiedImageError

    if isinstance(img, Image.Image):
        return img.convert("RGB")
    if isinstance(img, dict) and img.get("bytes"):   # datasets' undecoded Image feature
        import io
        img = io.BytesIO(img["bytes"])
    elif isinstance(img, (str, Path)):
        if not Path(img).is_file():
            raise VoldError(f"{img}: image not found (record {item_id})")
    else:
        raise VoldError(f"record {item_id}: unsupported image value of type {type(img).__name__}")
    try:
        with Image.open(img) as im:
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise VoldError(f"{img if isinstance(img, (str, Path)) else 'image bytes'}: corrupt or "
                        f"unreadable image (record {item_id}): {e}") from None


def build_request(item: Item, template: str) -> GenRequest:
    if "image_error" in item.meta:
        raise VoldError(item.meta["image_error"])
    images = [open_image(im, item.id) for im in item.images]
    text = render(template, item)
    inline = item.meta.get("image_layout") == "inline"
    content = content_parts(text, len(images), inline=inline, where=f"record {item.id}")
    return GenRequest(id=item.id, messages=[{"role": "user", "content": content}], images=images)


def content_parts(text: str, n_images: int, inline: bool = False, where: str = "prompt") -> list[dict]:
    """Chat content parts: the images first, then the text; with `inline`, each IMAGE_MARK in
    the text is replaced by the next image instead (their count must match)."""
    if not inline:
        return [{"type": "image"} for _ in range(n_images)] + [{"type": "text", "text": text}]
    pieces = text.split(IMAGE_MARK)
    if len(pieces) != n_images + 1:
        raise VoldError(f"{where}: {len(pieces) - 1} {IMAGE_MARK} marks in the text for {n_images} images")
    out: list[dict] = []
    for i, piece in enumerate(pieces):
        if piece:
            out.append({"type": "text", "text": piece})
        if i < n_images:
            out.append({"type": "image"})
    return out


def chat_prompt(tokenizer, text: str, n_images: int = 0, inline: bool = False) -> str:
    """One user turn (`content_parts`) through the tokenizer's chat template, ready for the
    assistant's answer: the prompt the toy build, its checks and the VA-OPD teacher encode."""
    msgs = [{"role": "user", "content": content_parts(text, n_images, inline=inline)}]
    return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


def prompt_text(req: GenRequest) -> str:
    """The prompt as recorded in samples.jsonl: the text parts, one <image> per image part
    (on its own line when the images come first; in place when they are inline)."""
    out = []
    for msg in req.messages:
        parts = msg["content"] if isinstance(msg["content"], list) else [
            {"type": "text", "text": msg["content"]}]
        inline = any(a["type"] == "text" and b["type"] == "image" for a, b in zip(parts, parts[1:]))
        marks = [IMAGE_MARK if part["type"] == "image" else part["text"] for part in parts]
        out.append("".join(marks) if inline else "\n".join(marks))
    return "\n".join(out)
