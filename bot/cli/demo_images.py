"""Pictures for the demo and console: real JPEGs drawn on the spot, plus one broken file."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw


def street_photo(seed: int = 0, size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG of a made-up street scene. Each `seed` lays the scene out anew, so two photos
    are never near-copies by their perceptual hash (which would flag a recycled photo)."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size, (rng.randrange(60, 200), rng.randrange(90, 170), 140))
    draw = ImageDraw.Draw(img)
    horizon = rng.randrange(h // 3, h * 3 // 4)
    draw.rectangle([0, horizon, w, h], fill=(70, 70, 75))  # road
    for _ in range(rng.randrange(6, 12)):  # buildings, bikes, bins
        x, y = rng.randrange(0, w - 40), rng.randrange(0, h - 40)
        shade = tuple(rng.randrange(0, 256) for _ in range(3))
        draw.rectangle([x, y, x + rng.randrange(30, 260), y + rng.randrange(30, 220)], fill=shade)
    x, y = rng.randrange(60, w - 60), rng.randrange(horizon, h - 30)
    draw.ellipse([x - 60, y - 30, x + 60, y + 30], outline=(250, 250, 0), width=6)  # the hazard
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return out.getvalue()


def broken_file() -> bytes:
    """The start of a JPEG cut off mid-transfer."""
    return street_photo(9)[:700]
