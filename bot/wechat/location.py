"""WeChat's shared-location XML → a WGS-84 `Location`. Pure functions; no SDK import.

Puppets hand a location message over as text holding WeChat's own XML, for example
`<msg><location x="31.230416" y="121.473701" scale="16" label="上海市黄浦区人民大道200号"
maptype="roadmap" poiname="上海市人民政府" poiid="…" /></msg>`, sometimes after a
`wxid_…:\n` sender prefix, sometimes HTML-escaped. `x` is the latitude and `y` the longitude,
both GCJ-02 (China's shifted datum); the ticket stores WGS-84.
"""

from __future__ import annotations

import html
import math
import re

from handlers.geo.coords import gcj02_to_wgs84, plausible
from handlers.types import Location

_TAG = re.compile(r"<\s*location\b(?P<attrs>[^<>]*?)/?\s*>", re.IGNORECASE | re.DOTALL)
_ATTR = re.compile(r"""([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.DOTALL)


def looks_like_location(text: str | None) -> bool:
    """The text carries a location tag (readable or not)."""
    if not text:
        return False
    return _TAG.search(text) is not None or "&lt;location" in text.lower()


def _attributes(text: str) -> dict[str, str] | None:
    match = _TAG.search(text)
    if match is None and "&lt;" in text:
        match = _TAG.search(html.unescape(text))
    if match is None:
        return None
    attrs: dict[str, str] = {}
    for name, double, single in _ATTR.findall(match.group("attrs")):
        attrs[name.lower()] = html.unescape(double if double or not single else single).strip()
    return attrs


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_location(text: str | None) -> Location | None:
    """The WGS-84 point and place name in a WeChat location message, or None if unreadable."""
    if not text:
        return None
    attrs = _attributes(text)
    if attrs is None:
        return None
    lat, lon = _number(attrs.get("x")), _number(attrs.get("y"))
    if lat is None or lon is None:
        return None
    if abs(lat) > 90 and abs(lon) <= 90:  # a puppet that wrote them the other way round
        lat, lon = lon, lat
    if not plausible(lat, lon):
        return None
    lat, lon = gcj02_to_wgs84(lat, lon)
    names: list[str] = []
    for key in ("poiname", "label"):
        value = " ".join((attrs.get(key) or "").split())
        if value and value not in names:
            names.append(value)
    return Location(lat, lon, " ".join(names) or None)
