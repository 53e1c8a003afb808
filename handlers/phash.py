"""A perceptual fingerprint of a picture (dHash): the same photo re-sent, re-compressed or
resized keeps nearly the same 64 bits, so a recycled photo is found in any group. No I/O."""

from __future__ import annotations

from PIL import Image

# Bits that may differ between two copies of one photo. Re-encoding and resizing change 0–2;
# two different street scenes differ in about half of the 64.
NEAR = 4


def dhash(img: Image.Image) -> str:
    """16 hex digits: for each of 8 rows, whether each of 8 pixels is brighter than the next."""
    small = img.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    px = small.load()
    bits = 0
    for y in range(8):
        for x in range(8):
            bits = (bits << 1) | (px[x, y] > px[x + 1, y])
    return f"{bits:016x}"


def distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def is_near(a: str, b: str, near: int = NEAR) -> bool:
    return distance(a, b) <= near
