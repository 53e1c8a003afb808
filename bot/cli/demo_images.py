"""Pictures for the demo and console: real JPEGs drawn on the spot, plus one broken file."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def street_photo(seed: int = 0, size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG of a made-up street scene; `seed` varies it so each one has its own hash."""
    img = Image.new("RGB", size, (120 + seed * 20 % 100, 130, 140))
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.rectangle([0, h * 2 // 3, w, h], fill=(70, 70, 75))  # road
    for i in range(5):
        x = 40 + i * 150 + seed * 7
        draw.rectangle([x, h // 2, x + 60, h * 2 // 3 + 30], fill=(30 + i * 40, 160, 200))  # bikes
    draw.ellipse([w // 2 - 60, h - 120, w // 2 + 60, h - 60], outline=(250, 250, 0), width=6)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def broken_file() -> bytes:
    """The start of a JPEG cut off mid-transfer."""
    return street_photo(9)[:700]
