"""Checking a received picture and making the copies people may see: EXIF gone, size bounded."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from handlers.geo.coords import plausible
from handlers.jpeg_segments import without_metadata
from handlers.phash import dhash
from handlers.types import Location

MAX_BYTES = 20 * 1024 * 1024  # Telegram's Bot API download cap; nothing bigger is accepted anywhere
MAX_PIXELS = 60_000_000  # above any phone camera; below Pillow's own bomb warning
DISPLAY_SIDE = 2560
THUMB_SIDE = 320

# Pillow's own bomb check only warns below twice its limit, through the process-wide warnings
# machinery; we check the header's size ourselves before decoding instead.
Image.MAX_IMAGE_PIXELS = None

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF", b"BM", b"II*\x00", b"MM\x00*")


class PhotoRejected(Exception):
    """The picture cannot become part of a ticket; `key` names the message to show."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class ProcessedPhoto:
    sha256: str
    size_bytes: int
    width: int
    height: int
    display_jpeg: bytes
    thumb_jpeg: bytes
    gps: Location | None
    phash: str | None = None  # dHash of the upright picture: finds the same photo sent again


def _ratio(value: object) -> float:
    return float(value)  # IFDRational and plain numbers both convert


def _gps_location(exif: Image.Exif) -> Location | None:
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat_ref, lat, lon_ref, lon = gps[1], gps[2], gps[3], gps[4]
        lat_v = _ratio(lat[0]) + _ratio(lat[1]) / 60 + _ratio(lat[2]) / 3600
        lon_v = _ratio(lon[0]) + _ratio(lon[1]) / 60 + _ratio(lon[2]) / 3600
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError):
        return None
    if str(lat_ref).upper().startswith("S"):
        lat_v = -lat_v
    if str(lon_ref).upper().startswith("W"):
        lon_v = -lon_v
    if not plausible(lat_v, lon_v):  # a camera without a fix writes 0,0
        return None
    return Location(lat=lat_v, lon=lon_v)


def _shrunk(img: Image.Image, side: int) -> Image.Image:
    """A new picture at most `side` pixels wide and high (resized straight, not copied first)."""
    w, h = img.size
    scale = min(1.0, side / max(w, h))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == img.size:
        return img.copy()
    return img.resize(size, Image.Resampling.BICUBIC, reducing_gap=2.0)


def _jpeg(img: Image.Image, optimize: bool) -> bytes:
    out = io.BytesIO()
    # No exif= argument: Pillow writes no EXIF, so GPS, device and owner are gone.
    # `optimize` saves a few per cent of bytes for several ms of CPU: worth it only when small.
    img.save(out, "JPEG", quality=85, optimize=optimize)
    return out.getvalue()


def process(data: bytes, read_gps: bool = True) -> ProcessedPhoto:
    """Validate `data` and make the display copy and thumbnail. CPU-bound: run it off the loop
    (handlers/imagework.py)."""
    if len(data) > MAX_BYTES:
        raise PhotoRejected("photo.too_big")
    looks_like_image = data.startswith(_IMAGE_MAGIC)
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise PhotoRejected("photo.corrupt" if looks_like_image else "photo.not_image") from None
    except Exception:
        raise PhotoRejected("photo.corrupt" if looks_like_image else "photo.not_image") from None
    with img:
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise PhotoRejected("photo.too_many_pixels")
        try:
            exif = img.getexif()
            turn = exif.get(ExifTags.Base.Orientation)
            gps = _gps_location(exif) if read_gps else None
        except Exception:
            raise PhotoRejected("photo.corrupt") from None
        if _kept_as_is(img, turn):
            done = _thumbnail_only(data, width, height, gps)
            if done is not None:
                return done
        try:
            if turn in (5, 6, 7, 8):  # shown turned a quarter
                width, height = height, width
            # A very large JPEG (a 48-megapixel phone file) is decoded straight at a reduced
            # scale (1/2, 1/4…) that still covers the display copy, not in full.
            img.draft("RGB", (DISPLAY_SIDE, DISPLAY_SIDE))
            img.load()
            # Each copy of a 12-megapixel picture costs as much as a small photo's whole work:
            # shrink in place, and make the thumbnail straight from the display copy.
            display = ImageOps.exif_transpose(img) if turn not in (None, 1) else img
            if display.mode != "RGB":
                display = display.convert("RGB")
            display.thumbnail((DISPLAY_SIDE, DISPLAY_SIDE))
            thumb = _shrunk(display, THUMB_SIDE)
            display_jpeg = _jpeg(display, optimize=False)
        except Exception:
            raise PhotoRejected("photo.corrupt") from None
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
        display_jpeg=display_jpeg,
        thumb_jpeg=_jpeg(thumb, optimize=True),
        gps=gps,
        phash=dhash(thumb),
    )


def _kept_as_is(img: Image.Image, turn: object) -> bool:
    """A JPEG already small enough and upright (every compressed photo a chat app sends) is
    shown as it came, less its metadata, instead of decoded and re-encoded."""
    small = max(img.size) <= DISPLAY_SIDE and turn in (None, 1)
    return small and img.format == "JPEG" and img.mode in ("RGB", "L")


def _thumbnail_only(data: bytes, width: int, height: int, gps) -> ProcessedPhoto | None:
    """The display copy is `data` without its metadata segments. What is stored is what gets
    decoded here (straight at the thumbnail's scale, a fraction of a full decode): None when
    that fails, and the caller decodes the file in full, refusing it if it is broken."""
    display = without_metadata(data)
    if display is None:
        return None
    try:
        with Image.open(io.BytesIO(display)) as img:
            side = max(width, height)
            img.draft("RGB", (-(-width * THUMB_SIDE // side), -(-height * THUMB_SIDE // side)))
            img.load()
            thumb = _shrunk(img.convert("RGB"), THUMB_SIDE)
    except Exception:
        return None
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
        display_jpeg=display,
        thumb_jpeg=_jpeg(thumb, optimize=True),
        gps=gps,
        phash=dhash(thumb),
    )
