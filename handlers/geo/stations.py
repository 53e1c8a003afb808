"""The nearest rest stations (友好服务阵地, 骑手驿站): `/nearby` or 附近驿站, then a location.

The stations come from a file (`woodpecker stations import FILE`): CSV with the columns
name,address,services,hours,lat,lon,datum, or a GeoJSON FeatureCollection of points with
those properties. `datum` is wgs84 or gcj02 (Amap's coordinates); everything is stored as
WGS-84. The lookup reads the stations in a growing box around the rider (an index on lat, lon)
and sorts those by great-circle distance; the box grows until three lie within its circle.

Waiting for the location is a row (`NearbyRequest`), so a restart or a second instance still
answers it. The answer goes where it was asked: this is the rider's own question.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from handlers.commands import BARE_WORDS
from handlers.deps import Deps
from handlers.geo import coords
from handlers.i18n import t
from handlers.maps import amap_url
from handlers.types import Incoming
from handlers.uow import CLI, Source, Work, perform
from storage import geo as store
from storage.models import Station

NEARBY_WORDS = {w for w, c in BARE_WORDS.items() if c == "nearby"}
NEAREST = 3
FIRST_RADIUS_M = 2_000.0
MAX_RADIUS_M = 64_000.0
_SERVICE_SPLIT = re.compile(r"[、,，/;；|]+")
FIELDS = ("name", "address", "services", "hours", "lat", "lon", "datum")


# --------------------------------------------------------------------------------- the file


class StationFileError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def _services(value: object) -> str | None:
    items = value if isinstance(value, list) else _SERVICE_SPLIT.split(str(value or ""))
    joined = "、".join(s for s in (str(x).strip() for x in items) if s)
    return joined[:256] or None


def _row(where: str, raw: dict, default_datum: str) -> tuple[dict | None, str | None]:
    name = str(raw.get("name") or "").strip()
    if not name:
        return None, f"{where}: 缺少 name / no name"
    datum = str(raw.get("datum") or default_datum).strip().lower()
    if datum not in coords.DATUMS:
        return None, f"{where}「{name}」: datum 应为 wgs84 或 gcj02 / datum must be wgs84 or gcj02"
    try:
        lat, lon = float(raw.get("lat")), float(raw.get("lon"))
    except (TypeError, ValueError):
        return None, f"{where}「{name}」: lat/lon 不是数字 / lat and lon must be numbers"
    if not coords.plausible(lat, lon):
        return None, f"{where}「{name}」: 坐标不可能 / impossible coordinates ({lat}, {lon})"
    lat, lon = coords.to_wgs84(lat, lon, datum)
    return {
        "name": name[:128],
        "address": str(raw.get("address") or "").strip()[:256] or None,
        "services": _services(raw.get("services")),
        "hours": str(raw.get("hours") or "").strip()[:64] or None,
        "lat": lat,
        "lon": lon,
    }, None


def parse_stations(data: bytes, filename: str = "") -> list[dict]:
    """Rows of a stations file (CSV, or GeoJSON when it looks like one); one bad row, none."""
    text = data.decode("utf-8-sig")
    if filename.lower().endswith((".geojson", ".json")) or text.lstrip().startswith("{"):
        items = _geojson_items(text)
    else:
        reader = csv.DictReader(io.StringIO(text))
        missing = {"name", "lat", "lon"} - set(reader.fieldnames or ())
        if missing:
            cols = ",".join(FIELDS)
            raise StationFileError([f"CSV 缺少列 / CSV lacks columns {sorted(missing)}: {cols}"])
        items = [(f"第 {n} 行 / line {n}", row, "wgs84") for n, row in enumerate(reader, 2)]
    rows, problems = [], []
    for where, raw, datum in items:
        row, problem = _row(where, raw, datum)
        if problem:
            problems.append(problem)
        else:
            rows.append(row)
    if problems:
        raise StationFileError(problems)
    return rows


def _geojson_items(text: str) -> list[tuple[str, dict, str]]:
    try:
        data = json.loads(text)
    except ValueError as e:
        raise StationFileError([f"不是 JSON / not JSON: {e}"]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise StationFileError(["不是 GeoJSON FeatureCollection / not a FeatureCollection"])
    datum = str(data.get("datum") or "wgs84")
    items = []
    for n, feature in enumerate(data.get("features") or [], 1):
        where = f"第 {n} 个要素 / feature {n}"
        geometry = (feature or {}).get("geometry") or {}
        props = dict((feature or {}).get("properties") or {})
        point = geometry.get("coordinates") if geometry.get("type") == "Point" else None
        if not isinstance(point, list) or len(point) < 2:
            props["lat"] = props["lon"] = None  # reported as not numbers
        else:
            props["lon"], props["lat"] = point[0], point[1]
        items.append((where, props, datum))
    return items


async def import_file(deps: Deps, path: str | Path) -> int:
    """Check the whole file, then replace every station in one transaction."""
    data = await asyncio.to_thread(Path(path).read_bytes)
    rows = await asyncio.to_thread(parse_stations, data, str(path))

    async def run(w: Work) -> None:
        await store.replace_stations(w.s, rows)

    await perform(deps, run, source=Source(CLI))
    return len(rows)


async def list_stations(deps: Deps) -> list[str]:
    async with deps.db.read() as s:
        rows = await store.all_stations(s)
    return [
        f"{r.name}\t{r.lat:.6f},{r.lon:.6f}\t{r.services or '—'}\t{r.hours or '—'}\t"
        f"{r.address or ''}"
        for r in rows
    ]


# ------------------------------------------------------------------------------ the lookup


@dataclass(frozen=True)
class Nearby:
    metres: float
    station: Station


async def nearest(s, lat: float, lon: float, k: int = NEAREST) -> list[Nearby]:
    """The k nearest stations within MAX_RADIUS_M. A box of radius r holds every station within
    r; once k of those lie inside the circle, nothing outside the box can be nearer."""
    radius = FIRST_RADIUS_M
    while True:
        found = sorted(
            (coords.haversine_m(lat, lon, st.lat, st.lon), st.id, st)
            for st in await store.stations_in_box(s, lat, lon, radius)
        )
        within = [Nearby(d, st) for d, _, st in found if d <= radius]
        if len(within) >= k or radius >= MAX_RADIUS_M:
            return within[:k]
        radius *= 2


def answer_text(found: list[Nearby], name: str, locale: str) -> str:
    lines = [t("nearby.head", locale, name=name)]
    for i, near in enumerate(found, 1):
        st = near.station
        lines.append(f"{i}. {st.name} · {coords.distance_text(near.metres, locale)}")
        lines.append(f"   {st.services or '—'} · {st.hours or '—'}")
        if st.address:
            lines.append(f"   {st.address}")
        lines.append(f"   {amap_url(st.lat, st.lon, st.name)}")
    return "\n".join(lines)


def asks_nearby(msg: Incoming) -> bool:
    return msg.command == "nearby" or (msg.text or "").strip() in NEARBY_WORDS


# ---------------------------------------------------------------------------- the commands


async def _answer(w: Work, msg: Incoming) -> None:
    locale, loc = w.locale, msg.location
    if await store.station_count(w.s) == 0:
        w.reply(t("nearby.none_loaded", locale))
        return
    found = await nearest(w.s, loc.lat, loc.lon)
    if not found:
        w.reply(t("nearby.none_near", locale, km=round(MAX_RADIUS_M / 1000)))
        return
    w.reply(answer_text(found, msg.sender.name, locale))


async def on_nearby(msg: Incoming, deps: Deps) -> None:
    """/nearby, 附近驿站: with a location, the answer; without, wait for one (a row)."""

    async def run(w: Work) -> None:
        if msg.location is not None:
            await _answer(w, msg)
            return
        until = w.now + deps.config.pair_window
        await store.ask_nearby(w.s, msg.platform, msg.chat_id, msg.sender.user_id, until)
        name, minutes = msg.sender.name, deps.config.window_minutes
        w.reply(t("nearby.ask", w.locale, name=name, minutes=minutes))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def on_location(msg: Incoming, deps: Deps) -> bool:
    """A location that answers a /nearby (asked before, or in its own words): the nearest
    stations, and True. False: an ordinary location, for the intake."""
    if asks_nearby(msg):
        await on_nearby(msg, deps)
        return True
    now = deps.clock()
    key = (msg.platform, msg.chat_id, msg.sender.user_id)
    async with deps.db.read() as s:
        if not await store.nearby_pending(s, *key, now):
            return False

    async def run(w: Work) -> None:
        if not await store.take_nearby(w.s, *key, w.now):
            raise _Ordinary  # taken meanwhile: roll back, the intake gets the message
        await _answer(w, msg)

    try:
        await perform(deps, run, source=Source.message(msg), sender=msg.sender)
    except _Ordinary:
        return False
    return True  # answered now, or a redelivery answered before


class _Ordinary(Exception):
    """The location answers no /nearby after all."""
