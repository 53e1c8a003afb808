"""Where the map's tiles come from, and the shift our WGS-84 points need to sit on them.

Amap's tiles are drawn in GCJ-02 (China's shifted datum, ~480 m off in Shanghai): points are
moved onto it with eviltransform. OpenStreetMap and other tile URLs are WGS-84: no shift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import eviltransform


def _same(lat: float, lon: float) -> tuple[float, float]:
    return lat, lon


def _gcj(lat: float, lon: float) -> tuple[float, float]:
    return eviltransform.wgs2gcj(lat, lon)


@dataclass(frozen=True)
class Tiles:
    url: str
    subdomains: str
    attribution: str
    shift: Callable[[float, float], tuple[float, float]]


AMAP = Tiles(
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
    "1234",
    "© 高德地图 AutoNavi",
    _gcj,
)
OSM = Tiles(
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    "abc",
    "© OpenStreetMap contributors",
    _same,
)


def tiles_for(setting: str) -> Tiles:
    """`amap`, `osm`, or a WGS-84 tile URL template (`https://…/{z}/{x}/{y}.png`)."""
    name = (setting or "amap").strip()
    if name.lower() == "amap":
        return AMAP
    if name.lower() == "osm":
        return OSM
    return Tiles(name, "abc", "", _same)
