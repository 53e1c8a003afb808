"""Coordinates: what counts as a real place, distances, and China's GCJ-02 datum. No I/O.

Everything stored is WGS-84. WeChat and Amap speak GCJ-02 (about 480 m off in Shanghai);
adapters and importers convert at the edge with these functions.
"""

from __future__ import annotations

import math
import re

import eviltransform

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
DATUMS = ("wgs84", "gcj02")
# `local` is the console chat (bot/local.py): a district can try its grids file there first.
CHAT_REF = re.compile(r"^(telegram|wechat|local):(\S+)$")


def plausible(lat: float, lon: float) -> bool:
    """A point a rider can stand on: finite, in range, and not exactly 0,0 (a GPS with no fix)."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return False
    return not (lat == 0 and lon == 0)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """The exact inverse of the GCJ-02 shift (unchanged outside China)."""
    return eviltransform.gcj2wgs_exact(lat, lon)


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    return eviltransform.wgs2gcj(lat, lon)


def to_wgs84(lat: float, lon: float, datum: str) -> tuple[float, float]:
    """A point given in `datum` (wgs84 or gcj02) as WGS-84."""
    if datum == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if datum == "wgs84":
        return lat, lon
    raise ValueError(f"unknown datum {datum!r} (wgs84 or gcj02)")


def parse_chat_ref(ref: str | None) -> tuple[str, str] | None:
    """`telegram:-1001234` → ("telegram", "-1001234"); None for anything else."""
    match = CHAT_REF.match((ref or "").strip())
    return (match.group(1), match.group(2)) if match else None


def distance_text(metres: float, locale: str) -> str:
    if metres < 1000:
        return f"{round(metres)} 米" if locale == "zh_CN" else f"{round(metres)} m"
    km = f"{metres / 1000:.1f}"
    return f"{km} 公里" if locale == "zh_CN" else f"{km} km"
