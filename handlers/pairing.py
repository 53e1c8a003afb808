"""When a photo and a location are halves of one report, and when they are not.

A draft holds what a rider sent towards one report. A half that arrives must not be glued to a
half of another problem: after a lost half, or when a rider sends a location for one thing and
a photo of another. The rule (docs/architecture.md, "Pairing"):

1. Time: both halves arrive within `REPORT_PAIR_WINDOW_MINUTES` of the draft's first half;
   after that the draft has expired and the new half starts afresh.
2. Photos one after another: a photo (not of the same album) joins photos the draft holds
   only if the last of them came within `PHOTO_GAP`; a photo after a longer pause, with no
   location in between, is another report and the older photos are dropped.
3. Place: a photo that carries its own position (EXIF GPS, sent as a file) joins a held
   location only if the two are within `PAIR_DISTANCE_M`; otherwise the held location is
   dropped and the photo stands alone, at its own position.

A half that is dropped is never answered for: it expired like any unfinished half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers.types import Location

PHOTO_GAP = timedelta(minutes=2)
PAIR_DISTANCE_M = 500.0  # phone GPS and a shared map pin rarely differ by more than a block
EARTH_RADIUS_M = 6_371_000.0


def distance_m(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Held:
    """What a live draft, with no ticket yet, holds before the new message."""

    lat: float | None
    lon: float | None
    last_photo_at: datetime | None  # None: no photo held
    album_id: str | None


def starts_new_report(
    held: Held,
    now: datetime,
    *,
    has_photos: bool,
    album_id: str | None = None,
    photo_gps: Location | None = None,
) -> bool:
    """Whether the new message's photos belong to another report than what the draft holds."""
    if not has_photos:
        return False  # a location replaces a held one; words join what is there
    if album_id is not None and album_id == held.album_id:
        return False  # the rest of an album is always the same report
    held_location = held.lat is not None and held.lon is not None
    if (
        held.last_photo_at is not None
        and not held_location
        and now - held.last_photo_at > PHOTO_GAP
    ):
        return True
    if photo_gps is not None and held_location:
        return distance_m(held.lat, held.lon, photo_gps.lat, photo_gps.lon) > PAIR_DISTANCE_M
    return False
