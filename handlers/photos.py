"""Checking a received picture and making the copies people may see: EXIF gone, size bounded."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from handlers.geo.coords import plausible
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
    copy = img.copy()
    copy.thumbnail((side, side))
    return copy


def _jpeg(img: Image.Image, optimize: bool) -> bytes:
    out = io.BytesIO()
    # No exif= argument: Pillow writes no EXIF, so GPS, device and owner are gone.
    # `optimize` saves a few per cent of bytes for several ms of CPU: worth it only when small.
    img.save(out, "JPEG", quality=85, optimize=optimize)
    return out.getvalue()


def process(data: bytes, read_gps: bool = True) -> ProcessedPhoto:
    """Validate `data` and make the display copy and thumbnail. CPU-bound: run in a thread."""
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
            if exif.get(ExifTags.Base.Orientation) in (5, 6, 7, 8):  # shown turned a quarter
                width, height = height, width
            # A very large JPEG (a 48-megapixel phone file) is decoded straight at a reduced
            # scale (1/2, 1/4…) that still covers the display copy, not in full.
            img.draft("RGB", (DISPLAY_SIDE, DISPLAY_SIDE))
            img.load()
            gps = _gps_location(exif) if read_gps else None
            upright = ImageOps.exif_transpose(img).convert("RGB")
        except Exception:
            raise PhotoRejected("photo.corrupt") from None
    display = _shrunk(upright, DISPLAY_SIDE)
    thumb = _shrunk(display, THUMB_SIDE)
    return ProcessedPhoto(
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        width=width,
        height=height,
        display_jpeg=_jpeg(display, optimize=False),
        thumb_jpeg=_jpeg(thumb, optimize=True),
        gps=gps,
        phash=dhash(thumb),
    )
