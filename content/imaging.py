"""Image processing for post attachments: a clean original and one rendition per network.

The original goes through the one image pipeline every stored image takes
(``organizations.images``: validated, re-encoded upright in sRGB without any metadata);
cover-cropped renditions are then cut from it for LinkedIn, X, Facebook and the in-app
thumbnail.
"""

from __future__ import annotations

import functools
import io
import math
import random
import unicodedata
from dataclasses import dataclass
from typing import IO

from django.core.files.base import File
from PIL import (
    Image,
    ImageColor,
    ImageDraw,
    ImageFont,
    ImageOps,
)

from organizations.images import (
    JPEG_QUALITY,
    has_alpha,
    image_reencode,
    pillow_errors_as_validation,
)

RENDITIONS: dict[str, tuple[int, int]] = {
    "linkedin": (1200, 627),
    "x": (1600, 900),
    "facebook": (1200, 630),
    "thumb": (480, 270),
}


@dataclass(frozen=True)
class ProcessedImage:
    original: bytes
    format: str
    width: int
    height: int
    renditions: dict[str, bytes]


def image_process(upload: File | IO[bytes]) -> ProcessedImage:
    """Validate ``upload`` and return its cleaned original and renditions.

    Raises ValidationError (and nothing else) for anything that is not a processable
    JPEG, PNG, WebP or GIF.
    """
    clean = image_reencode(upload)
    with pillow_errors_as_validation():
        renditions = _renditions(clean.first_frame)
    return ProcessedImage(
        original=clean.data,
        format=clean.format,
        width=clean.width,
        height=clean.height,
        renditions=renditions,
    )


def _renditions(image: Image.Image) -> dict[str, bytes]:
    transparent = has_alpha(image)
    base = _rendition_base(image, "RGBA" if transparent else "RGB")
    base = _prescale(base)
    renditions = {}
    for key, size in RENDITIONS.items():
        fitted = ImageOps.fit(base, size, method=Image.Resampling.LANCZOS, centering=(0.5, 0.5))
        buffer = io.BytesIO()
        if transparent:
            fitted.save(buffer, format="PNG", optimize=True)
        else:
            fitted.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        renditions[key] = buffer.getvalue()
    return renditions


def _rendition_base(image: Image.Image, mode: str) -> Image.Image:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        # 16-bit greyscale: scale to 8 bits instead of clipping everything above 255 to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert(mode)


def _prescale(image: Image.Image) -> Image.Image:
    """Cheaply shrink huge sources to twice what the largest rendition needs."""
    needed = max(
        max(width / image.width, height / image.height) for width, height in RENDITIONS.values()
    )
    factor = math.floor(1 / (2 * needed)) if needed > 0 else 1
    return image.reduce(factor) if factor >= 2 else image


# -- Demo illustrations -------------------------------------------------------------------


def demo_image_draw(
    *, title: str, colour: str, size: tuple[int, int] = (1200, 627), seed: int = 0
) -> bytes:
    """A deterministic demo illustration: a gradient in ``colour`` with soft shapes and
    ``title`` in white. Pillow only (its bundled font); returns PNG bytes."""
    width, height = size
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise ValueError(f"Demo image size must be between 16 and 4096 pixels, got {size!r}.")
    try:
        red, green, blue = ImageColor.getrgb(colour)[:3]
    except ValueError as exc:
        raise ValueError(f"Unknown colour {colour!r}.") from exc
    # Not security sensitive: only makes the shapes vary with the seed and title.
    rng = random.Random(f"{seed}:{title}:{colour}")  # noqa: S311

    # Diagonal gradient from a lighter to a darker shade of the colour.
    light = Image.new("RGB", size, _mix((red, green, blue), (255, 255, 255), 0.25))
    dark = Image.new("RGB", size, _mix((red, green, blue), (0, 0, 0), 0.35))
    vertical = Image.linear_gradient("L").resize(size)
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    mask = Image.blend(vertical, horizontal, 0.5)
    canvas = Image.composite(dark, light, mask).convert("RGBA")

    shapes = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(shapes)
    unit = min(width, height)
    for _index in range(rng.randint(4, 7)):
        radius = rng.uniform(0.12, 0.45) * unit
        x, y = rng.uniform(0.3, 1.1) * width, rng.uniform(-0.2, 1.0) * height
        box = (x - radius, y - radius, x + radius, y + radius)
        if rng.random() < 0.6:
            draw.ellipse(box, fill=(255, 255, 255, rng.randint(14, 38)))
        else:
            outline = max(2, round(unit * rng.uniform(0.008, 0.02)))
            draw.ellipse(box, outline=(255, 255, 255, rng.randint(40, 80)), width=outline)
    step = max(8, unit // 28)
    dots_x, dots_y = rng.uniform(0.55, 0.8) * width, rng.uniform(0.08, 0.2) * height
    dot = max(1, step // 6)
    for row in range(4):
        for column in range(7):
            cx, cy = dots_x + column * step, dots_y + row * step
            draw.ellipse((cx - dot, cy - dot, cx + dot, cy + dot), fill=(255, 255, 255, 90))
    canvas = Image.alpha_composite(canvas, shapes)

    # A dark scrim at the bottom keeps white text readable on light colours too.
    luminance = (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255
    scrim_strength = round(90 + 110 * luminance)
    scrim_mask = (
        Image.linear_gradient("L").resize(size).point(lambda value: value * scrim_strength // 255)
    )
    scrim = Image.new("RGBA", size, (0, 0, 0, 0))
    scrim.putalpha(scrim_mask)
    canvas = Image.alpha_composite(canvas, scrim)

    _draw_title(canvas, title.strip(), width, height)
    buffer = io.BytesIO()
    canvas.convert("RGB").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _mix(
    colour: tuple[int, int, int], other: tuple[int, int, int], amount: float
) -> tuple[int, int, int]:
    return (
        round(colour[0] + (other[0] - colour[0]) * amount),
        round(colour[1] + (other[1] - colour[1]) * amount),
        round(colour[2] + (other[2] - colour[2]) * amount),
    )


# Pillow's bundled font only covers ASCII and a few symbols: accented letters are drawn
# as their base letter plus a hand-drawn mark, other missing characters are replaced or
# dropped, so a French title never shows "tofu" boxes.
_MARKS = {
    "\u0300": "grave",
    "\u0301": "acute",
    "\u0302": "circumflex",
    "\u0303": "tilde",
    "\u0308": "diaeresis",
    "\u0327": "cedilla",
}
_REPLACEMENTS = {
    "œ": "oe",
    "Œ": "OE",
    "æ": "ae",
    "Æ": "AE",
    "ß": "ss",
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "€": "EUR",
    "\u00a0": " ",
    "\u202f": " ",
}
_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def _has_glyph(char: str) -> bool:
    font = ImageFont.load_default(size=20)
    missing = font.getmask("\uffff")
    mask = font.getmask(char)
    return mask.size != missing.size or bytes(mask) != bytes(missing)


def _drawable(title: str) -> str:
    """``title`` in NFD, limited to characters the bundled font (plus our marks) can draw."""
    chars: list[str] = []
    for char in unicodedata.normalize("NFC", title):
        char = _REPLACEMENTS.get(char, char)
        if char == "\n" or len(char) > 1 or _has_glyph(char):
            chars.append(char)
        elif char.isspace():
            chars.append(" ")
        else:
            decomposed = unicodedata.normalize("NFD", char)
            base, marks = decomposed[0], decomposed[1:]
            if _has_glyph(base):
                chars.append(base + "".join(mark for mark in marks if mark in _MARKS))
            # else: emoji or a script the font lacks; left out.
    return "".join(chars)


def _bare(text: str) -> str:
    return "".join(char for char in text if not unicodedata.combining(char))


def _width(font: _Font, text: str) -> float:
    return font.getlength(_bare(text))


def _draw_title(canvas: Image.Image, title: str, width: int, height: int) -> None:
    title = _drawable(title).strip()
    if not _bare(title).strip():
        return
    margin = round(min(width, height) * 0.09)
    max_width = width - 2 * margin
    max_height = height * 0.55
    font_size = max(12, round(height * 0.11))
    while True:
        font = ImageFont.load_default(size=font_size)
        lines = _wrap(title, font, max_width)
        line_height = round(font_size * 1.18)
        if (len(lines) * line_height <= max_height and len(lines) <= 4) or font_size <= 12:
            break
        font_size = max(12, round(font_size * 0.88))
    max_lines = max(1, int(max_height // line_height))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _ellipsize(lines[-1], font, max_width)

    top = height - margin - len(lines) * line_height
    bar_height = max(4, font_size // 8)
    bar_top = top - bar_height - font_size // 2
    ImageDraw.Draw(canvas).rounded_rectangle(
        (margin, bar_top, margin + font_size * 2, bar_top + bar_height),
        radius=bar_height // 2,
        fill=(255, 255, 255, 230),
    )

    # The text is drawn as a mask first, so marks can be added and the dots of accented
    # i's removed; the mask then paints a soft shadow and the white text.
    mask = Image.new("L", canvas.size, 0)
    draw = ImageDraw.Draw(mask)
    for index, line in enumerate(lines):
        y = top + index * line_height
        draw.text((margin, y), _bare(line), font=font, fill=255)
        _draw_marks(draw, font, font_size, line, margin, y)
    shadow = max(1, font_size // 24)
    shadow_mask = Image.new("L", canvas.size, 0)
    shadow_mask.paste(mask.point(lambda value: value * 110 // 255), (shadow, shadow))
    canvas.paste((0, 0, 0, 255), (0, 0), shadow_mask)
    canvas.paste((255, 255, 255, 255), (0, 0), mask)


def _draw_marks(
    draw: ImageDraw.ImageDraw, font: _Font, font_size: int, line: str, left: int, y: int
) -> None:
    ascent = font.getbbox("H", anchor="la")[1]
    x_height_top = y + font.getbbox("x", anchor="la")[1]
    cap_top = y + ascent
    baseline = y + font.getbbox("x", anchor="la")[3]
    stroke = max(1, round(font_size * 0.07))
    size = font_size * 0.2
    bare = ""
    for position, char in enumerate(line):
        if unicodedata.combining(char):
            continue
        marks = []
        for following in line[position + 1 :]:
            if not unicodedata.combining(following):
                break
            marks.append(_MARKS.get(following))
        x = left + font.getlength(bare)
        bare += char
        if not marks:
            continue
        centre = x + font.getlength(char) / 2
        top = cap_top if char.isupper() else x_height_top
        if char in "ij" and any(mark != "cedilla" for mark in marks):
            # Dotless i/j are not in the font: erase the dot, the mark replaces it.
            draw.rectangle((x, y - stroke, x + font.getlength(char), top - 1), fill=0)
        bottom = top - font_size * 0.06
        for mark in marks:
            _draw_mark(draw, mark, centre, bottom, baseline, size, stroke)


def _draw_mark(
    draw: ImageDraw.ImageDraw,
    mark: str | None,
    centre: float,
    bottom: float,
    baseline: float,
    size: float,
    stroke: int,
) -> None:
    upper = bottom - size
    if mark == "acute":
        draw.line((centre - size * 0.3, bottom, centre + size * 0.4, upper), 255, stroke)
    elif mark == "grave":
        draw.line((centre + size * 0.3, bottom, centre - size * 0.4, upper), 255, stroke)
    elif mark == "circumflex":
        points = [(centre - size * 0.55, bottom), (centre, upper), (centre + size * 0.55, bottom)]
        draw.line(points, 255, stroke, joint="curve")
    elif mark == "tilde":
        points = [
            (centre + size * step / 4, bottom - size * (0.45 + 0.25 * math.sin(step * 1.4)))
            for step in range(-3, 4)
        ]
        draw.line(points, 255, stroke, joint="curve")
    elif mark == "diaeresis":
        radius = stroke * 0.8
        for dot_x in (centre - size * 0.45, centre + size * 0.45):
            dot_y = bottom - size * 0.4
            draw.ellipse((dot_x - radius, dot_y - radius, dot_x + radius, dot_y + radius), 255)
    elif mark == "cedilla":
        points = [
            (centre, baseline),
            (centre, baseline + size * 0.35),
            (centre + size * 0.3, baseline + size * 0.55),
            (centre - size * 0.25, baseline + size * 0.85),
        ]
        draw.line(points, 255, max(1, stroke - 1), joint="curve")


def _wrap(text: str, font: _Font, max_width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}".strip()
            if _width(font, candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = word
            while _width(font, current) > max_width and len(_bare(current)) > 1:
                # A single word wider than the line: cut it where it overflows.
                low, high = 1, len(current) - 1
                while low < high:  # the longest prefix that fits
                    middle = (low + high + 1) // 2
                    if _width(font, current[:middle]) <= max_width:
                        low = middle
                    else:
                        high = middle - 1
                cut = low
                while cut > 1 and unicodedata.combining(current[cut]):
                    cut -= 1
                lines.append(current[:cut])
                current = current[cut:]
        if current:
            lines.append(current)
    return lines


def _ellipsize(line: str, font: _Font, max_width: int) -> str:
    shortened = line
    while shortened and _width(font, shortened + "…") > max_width:
        shortened = shortened[:-1]
    return shortened.rstrip() + "…"
