"""Real JPEGs made in the test: plain, with EXIF GPS and camera tags, broken, huge."""

from __future__ import annotations

import io
import random
import zlib
from fractions import Fraction

from PIL import ExifTags, Image, ImageDraw


def jpeg(
    seed: int = 0, size: tuple[int, int] = (640, 480), exif: Image.Exif | None = None
) -> bytes:
    img = Image.new("RGB", size, (seed * 37 % 256, 90, 160))
    ImageDraw.Draw(img).rectangle([10 + seed, 10, 200 + seed, 150], fill=(250, 200, 0))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round((value - degrees - minutes / 60) * 3600 * 10000), 10000)
    return (Fraction(degrees), Fraction(minutes), seconds)


def jpeg_with_gps(lat: float, lon: float, seed: int = 0) -> bytes:
    """What a phone writes: GPS position, camera make and model, owner name."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Model] = "Redmi Note 12"
    exif[ExifTags.Base.Artist] = "Wang Jianguo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    return jpeg(seed, exif=exif)


def truncated_jpeg() -> bytes:
    return jpeg(7)[:600]


def pixel_bomb() -> bytes:
    """A tiny PNG that would decode to 100 megapixels."""
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")
    return out.getvalue()


def scene(seed: int, size: tuple[int, int] = (640, 480), quality: int = 85) -> bytes:
    """A picture of its own: blocks of random brightness, so two seeds never look alike to a
    perceptual hash (jpeg() pictures differ only slightly) and one seed re-encoded does."""
    rng = random.Random(seed)
    img = Image.new("RGB", (16, 12))
    img.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    img = img.resize(size, Image.Resampling.BILINEAR)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def with_metadata(data: bytes) -> bytes:
    """`data` as a phone or an editor may leave it: XMP with a position, an IPTC caption naming
    the photographer, a comment, and a trailer after the end of the picture."""

    def segment(marker: int, body: bytes) -> bytes:
        return bytes([0xFF, marker]) + (len(body) + 2).to_bytes(2, "big") + body

    xmp = b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><exif:GPSLatitude>31,24.3N</x:xmpmeta>"
    extra = (
        segment(0xE1, xmp)
        + segment(0xED, b"Photoshop 3.0\x00IPTC by Wang Jianguo")
        + segment(0xFE, b"shot at Youyi Road 12")
    )
    return data[:2] + extra + data[2:] + b"SAMSUNG-TRAILER Wang Jianguo 13800138000"


def seed_of(name: str, n: int = 200) -> int:
    """A stable picture seed for a name: `hash()` of a string changes with every process, and two
    names sharing a seed make the same picture (one report's photos then count as one)."""
    return zlib.crc32(name.encode()) % n
