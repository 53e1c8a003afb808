"""Grids and levels (微网格 → 街道 → 区): the grids file, its validation, and where a point is.

A grids file is a GeoJSON FeatureCollection of polygons; each feature's properties are `name`
(unique), `level` (网格, 街道 or 区), `parent` (the name of the feature one level up; null
for a 区) and `chat` (`telegram:<chat id>` or `wechat:<room id>`, or null). Coordinates are
WGS-84 [longitude, latitude] as GeoJSON says, unless the collection says `"datum": "gcj02"`
(polygons drawn on Amap), in which case they are converted on import.

An import checks every feature and names each bad one; one bad feature loads nothing. A
point is found through shapely's STRtree, built once per process per import (the `gridversion`
row tells a process its tree is stale), never by a loop over polygons.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from shapely.geometry import Point, mapping, shape
from shapely.validation import explain_validity

from handlers.deps import Deps
from handlers.geo import coords
from handlers.uow import CLI, Source, Work, perform
from storage import geo as store

log = logging.getLogger(__name__)

LEVELS = ("网格", "街道", "区")  # tier 1, 2, 3 of 分级吹哨
LEVEL_ALIASES = {"grid": "网格", "street": "街道", "district": "区", "网格": "网格",
                 "街道": "街道", "区": "区"}  # fmt: skip
TIER_LEVEL = {1: "网格", 2: "街道", 3: "区"}


# ------------------------------------------------------------------------------ the file


@dataclass(frozen=True)
class Problem:
    """One bad feature: which (1-based, and its name when it has one), what kind, why."""

    index: int
    name: str | None
    kind: str  # not_polygon, invalid_geometry, unknown_parent, wrong_level_order,
    # duplicate_name, bad_chat, missing_name, bad_level, not_feature, not_collection
    detail: str = ""

    def __str__(self) -> str:
        what = {
            "not_collection": "不是 GeoJSON FeatureCollection / not a GeoJSON FeatureCollection",
            "not_feature": "不是 Feature / not a Feature",
            "not_polygon": "不是多边形 / not a polygon",
            "invalid_geometry": "几何图形无效 / invalid geometry",
            "missing_name": "缺少 name / no name",
            "duplicate_name": "名称重复 / duplicate name",
            "bad_level": "level 应为 网格、街道 或 区 / level must be 网格, 街道 or 区",
            "unknown_parent": "上级不存在 / unknown parent",
            "wrong_level_order": "层级不对 / wrong level order",
            "bad_chat": "chat 应为 telegram:<id> 或 wechat:<room> / bad chat reference",
        }[self.kind]
        where = f"第 {self.index} 个要素 / feature {self.index}" if self.index else "文件 / file"
        if self.name:
            where += f"「{self.name}」"
        return f"{where}: {what}" + (f" ({self.detail})" if self.detail else "")


class GridFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class GridSpec:
    name: str
    level: str
    parent: str | None
    chat: str | None
    geometry: shapely.Geometry

    def row(self) -> dict:
        minx, miny, maxx, maxy = self.geometry.bounds
        return {
            "name": self.name,
            "level": self.level,
            "parent": self.parent,
            "chat": self.chat,
            "geometry": shapely.to_wkb(self.geometry, hex=True),
            "min_lon": minx,
            "min_lat": miny,
            "max_lon": maxx,
            "max_lat": maxy,
        }


def _gcj_to_wgs(geometry: shapely.Geometry) -> shapely.Geometry:
    def convert(xy):
        out = xy.copy()
        for i, (lon, lat) in enumerate(xy):
            out[i, 1], out[i, 0] = coords.gcj02_to_wgs84(lat, lon)
        return out

    return shapely.transform(geometry, convert)


def _geometry(raw: object, datum: str) -> tuple[shapely.Geometry | None, Problem | None]:
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        return None, Problem(0, None, "not_polygon", str(kind))
    try:
        geometry = shape(raw)
    except Exception as e:  # shapely says what is wrong with the coordinate lists
        return None, Problem(0, None, "invalid_geometry", str(e)[:120])
    if geometry.is_empty:
        return None, Problem(0, None, "invalid_geometry", "empty")
    minx, miny, maxx, maxy = geometry.bounds
    if 18 < minx and maxx < 54 and 73 < miny and maxy < 136:  # China, written [lat, lon]
        hint = "经纬度写反了？应为 [经度, 纬度] / latitude and longitude swapped? [lon, lat]"
        return None, Problem(0, None, "invalid_geometry", hint)
    if not all(coords.plausible(y, x) for x, y in ((minx, miny), (maxx, maxy))):
        return None, Problem(0, None, "invalid_geometry", "coordinates out of range")
    if not geometry.is_valid:
        return None, Problem(0, None, "invalid_geometry", explain_validity(geometry))
    if datum == "gcj02":
        geometry = _gcj_to_wgs(geometry)
    return geometry, None


def parse_grids(text: str | bytes) -> list[GridSpec]:
    """Every feature of a grids file, checked; raises GridFileError naming each bad one."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise GridFileError([Problem(0, None, "not_collection", str(e)[:120])]) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise GridFileError([Problem(0, None, "not_collection")])
    datum = str(data.get("datum") or "wgs84").lower()
    if datum not in coords.DATUMS:
        raise GridFileError([Problem(0, None, "not_collection", f"datum {datum!r}")])
    features = data.get("features")
    if not isinstance(features, list):
        raise GridFileError([Problem(0, None, "not_collection", "no features")])
    problems: list[Problem] = []
    specs: list[tuple[int, GridSpec]] = []
    seen: set[str] = set()
    for i, feature in enumerate(features, 1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            problems.append(Problem(i, None, "not_feature"))
            continue
        props = feature.get("properties") or {}
        name = str(props.get("name") or "").strip() or None
        bad = len(problems)
        if name is None:
            problems.append(Problem(i, None, "missing_name"))
        elif name in seen:
            problems.append(Problem(i, name, "duplicate_name"))
        seen.add(name or "")
        level = LEVEL_ALIASES.get(str(props.get("level") or "").strip().lower())
        if level is None:
            problems.append(Problem(i, name, "bad_level", str(props.get("level"))))
        chat = props.get("chat")
        chat = str(chat).strip() if chat not in (None, "") else None
        if chat is not None and coords.parse_chat_ref(chat) is None:
            problems.append(Problem(i, name, "bad_chat", chat))
        geometry, problem = _geometry(feature.get("geometry"), datum)
        if problem is not None:
            problems.append(Problem(i, name, problem.kind, problem.detail))
        if len(problems) == bad:
            parent = str(props.get("parent") or "").strip() or None
            specs.append((i, GridSpec(name, level, parent, chat, geometry)))
    problems += _hierarchy(specs, seen)
    if problems:
        raise GridFileError(sorted(problems, key=lambda p: p.index))
    return [spec for _, spec in specs]


def _hierarchy(specs: list[tuple[int, GridSpec]], names: set[str]) -> list[Problem]:
    """Each 网格 names its 街道, each 街道 its 区; a 区 names none."""
    levels = {spec.name: spec.level for _, spec in specs}
    problems = []
    for i, spec in specs:
        rank = LEVELS.index(spec.level)
        if spec.level == "区":
            if spec.parent is not None:
                detail = f"区 没有上级 / a 区 has no parent ({spec.parent})"
                problems.append(Problem(i, spec.name, "wrong_level_order", detail))
        elif spec.parent is None or spec.parent not in names:
            problems.append(Problem(i, spec.name, "unknown_parent", str(spec.parent)))
        elif spec.parent in levels and levels[spec.parent] != LEVELS[rank + 1]:
            want = LEVELS[rank + 1]
            detail = f"{spec.level} → {levels[spec.parent]}「{spec.parent}」, 应为 {want}"
            problems.append(Problem(i, spec.name, "wrong_level_order", detail))
    return problems


# ------------------------------------------------------------------------- where a point is


@dataclass(frozen=True)
class Place:
    grid: str | None = None
    street: str | None = None
    district: str | None = None
    outside: bool = False  # grids are loaded and none covers the point (区域外)


@dataclass(frozen=True)
class Area:
    name: str
    level: str
    parent: str | None
    chat: str | None


@dataclass
class GridIndex:
    """A snapshot of the loaded grids with an STRtree over their polygons; pure lookups."""

    version: int
    areas: dict[str, Area] = field(default_factory=dict)
    geometries: list[shapely.Geometry] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # in file order, parallel to geometries
    tree: shapely.STRtree | None = None

    @classmethod
    def build(cls, version: int, rows: Iterable) -> GridIndex:
        """From `Grid` rows (or anything with their fields), in file order."""
        index = cls(version)
        rows = list(rows)
        geometries = shapely.from_wkb([r.geometry for r in rows]) if rows else []
        for row, geometry in zip(rows, geometries, strict=True):
            index.areas[row.name] = Area(row.name, row.level, row.parent, row.chat)
            index.names.append(row.name)
            index.geometries.append(geometry)
        if rows:
            index.tree = shapely.STRtree(index.geometries)
        return index

    @property
    def loaded(self) -> bool:
        return bool(self.names)

    def locate(self, lat: float, lon: float) -> Place:
        """The grid covering the point (a border counts as inside; on a shared border the grid
        listed first in the file wins), its street and district."""
        if self.tree is None:
            return Place()
        hits = sorted(int(i) for i in self.tree.query(Point(lon, lat), predicate="intersects"))
        first: dict[str, str] = {}
        for i in hits:
            first.setdefault(self.areas[self.names[i]].level, self.names[i])
        if not first:
            return Place(outside=True)
        grid = first.get("网格")
        street = self.parent(grid) if grid else first.get("街道")
        district = self.parent(street) if street else first.get("区")
        return Place(grid, street, district)

    def parent(self, name: str | None) -> str | None:
        area = self.areas.get(name) if name else None
        return area.parent if area else None

    def area_at_tier(self, name: str | None, tier: int) -> Area | None:
        """The area of `tier` (1 网格, 2 街道, 3 区) that holds the named one."""
        want = TIER_LEVEL.get(tier)
        area = self.areas.get(name) if name else None
        while area is not None and want is not None:
            if area.level == want:
                return area
            if LEVELS.index(area.level) > LEVELS.index(want):
                return None  # asked for a lower level than the area itself
            area = self.areas.get(area.parent) if area.parent else None
        return None

    def chat_for_tier(self, name: str | None, tier: int) -> str | None:
        area = self.area_at_tier(name, tier)
        return area.chat if area else None

    def areas_of_chat(self, ref: str) -> list[Area]:
        """The areas a chat answers for, widest first."""
        found = [a for a in self.areas.values() if a.chat == ref]
        return sorted(found, key=lambda a: -LEVELS.index(a.level))

    def area_of_chat(self, ref: str) -> tuple[str, str] | None:
        found = self.areas_of_chat(ref)
        return (found[0].level, found[0].name) if found else None

    def chat_for_place(self, place: Place) -> str | None:
        """The nearest responsible chat: the grid's, else its street's, else its district's."""
        for name in (place.grid, place.street, place.district):
            area = self.areas.get(name) if name else None
            if area is not None and area.chat:
                return area.chat
        return None

    def geometry_of(self, name: str) -> shapely.Geometry | None:
        try:
            return self.geometries[self.names.index(name)]
        except ValueError:
            return None


async def current(s, deps: Deps) -> GridIndex:
    """This process's index of the grids, rebuilt when an import moved the version on."""
    row = await store.grid_version(s)
    version = row.version if row else 0
    cached = deps.grid_index
    if cached is not None and cached.version == version:
        return cached
    index = GridIndex.build(version, await store.all_grids(s))
    deps.grid_index = index
    return index


def ticket_in_area(ticket, level: str, name: str) -> bool:
    """Whether the ticket lies in the named area of that level (by the names tagged at intake)."""
    level = LEVEL_ALIASES.get(level, level)
    value = {"网格": ticket.grid, "街道": ticket.street, "区": ticket.district}.get(level)
    return value is not None and value == name


async def chat_for_tier(s, deps: Deps, grid_name: str | None, tier: int) -> str | None:
    """The chat of tier 1 (the grid's group), 2 (its street's) or 3 (its district's)."""
    return (await current(s, deps)).chat_for_tier(grid_name, tier)


async def area_of_chat(s, deps: Deps, ref: str) -> tuple[str, str] | None:
    """(level, name) of the widest area this chat answers for, or None."""
    return (await current(s, deps)).area_of_chat(ref)


# ------------------------------------------------------------------------------- importing


@dataclass(frozen=True)
class Imported:
    count: int
    by_level: dict[str, int]
    version: int
    changed: bool


async def import_grids(
    deps: Deps, text: str | bytes, source: str | None = None, only_if_changed: bool = False
) -> Imported:
    """Check the whole file, then replace every grid in one transaction (all or nothing)."""
    raw = text.encode() if isinstance(text, str) else text
    digest = hashlib.sha256(raw).hexdigest()
    if only_if_changed:
        async with deps.db.read() as s:
            row = await store.grid_version(s)
        if row is not None and row.digest == digest:
            return Imported(0, {}, row.version, False)
    specs = await asyncio.to_thread(parse_grids, raw)
    rows = await asyncio.to_thread(lambda: [spec.row() for spec in specs])
    by_level = {level: sum(s.level == level for s in specs) for level in LEVELS}

    async def run(w: Work) -> int:
        return await store.replace_grids(w.s, rows, digest, source, w.now)

    version = await perform(deps, run, source=Source(CLI))
    return Imported(len(specs), by_level, version, True)


async def import_file(deps: Deps, path: str | Path, only_if_changed: bool = False) -> Imported:
    data = await asyncio.to_thread(Path(path).read_bytes)
    return await import_grids(deps, data, str(path), only_if_changed)


async def load_setting(deps: Deps, path: str | None) -> None:
    """GRIDS_FILE at start: loaded when it changed; a bad file stops the start, naming why."""
    if not path:
        return
    done = await import_file(deps, path, only_if_changed=True)
    if done.changed:
        log.info("grids loaded from %s: %d areas (version %d)", path, done.count, done.version)


async def list_grids(deps: Deps) -> list[str]:
    """One line per area for `woodpecker grids list`: level, name, parent, chat, size."""
    async with deps.db.read() as s:
        rows = await store.all_grids(s)
    lines = []
    for r in rows:
        lat = (r.min_lat + r.max_lat) / 2
        w = coords.haversine_m(lat, r.min_lon, lat, r.max_lon)
        h = coords.haversine_m(r.min_lat, r.min_lon, r.max_lat, r.min_lon)
        size = f"{w / 1000:.1f}×{h / 1000:.1f} km"
        lines.append(f"{r.level}\t{r.name}\t{r.parent or '—'}\t{r.chat or '—'}\t{size}")
    return lines


def feature_of(name: str, area: Area, geometry: shapely.Geometry) -> dict:
    """A grid back as a GeoJSON feature (maps, exports)."""
    props = {"name": name, "level": area.level, "parent": area.parent, "chat": area.chat}
    return {"type": "Feature", "properties": props, "geometry": mapping(geometry)}


async def outlines(deps: Deps, shift=None) -> dict:
    """Every grid as a GeoJSON FeatureCollection (name and level only), for a map; `shift`
    (lat, lon) → (lat, lon) moves the points onto the map's datum (Amap's GCJ-02)."""
    async with deps.db.read() as s:
        rows = await store.all_grids(s)

    def moved(xy):
        out = xy.copy()
        for i, (lon, lat) in enumerate(xy):
            out[i, 0], out[i, 1] = shift(lat, lon)[::-1]
        return out

    def build() -> dict:
        features = []
        for row in rows:
            geometry = shapely.from_wkb(row.geometry)
            if shift is not None:
                geometry = shapely.transform(geometry, moved)
            props = {"name": row.name, "level": row.level}
            features.append({"type": "Feature", "properties": props, "geometry": mapping(geometry)})
        return {"type": "FeatureCollection", "features": features}

    return await asyncio.to_thread(build)
