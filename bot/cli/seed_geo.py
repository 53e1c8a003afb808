"""`woodpecker seed`'s geography: the sample grids and stations (handlers/data/sample_*), and
every seeded ticket placed in them, written straight into the seeded SQLite file."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from datetime import datetime
from importlib.resources import files
from pathlib import Path

import numpy as np
import shapely

from handlers.geo.grids import GridIndex, parse_grids
from handlers.geo.stations import parse_stations
from storage.geo import OPEN, geohash

SAMPLE_GRIDS = files("handlers").joinpath("data/sample_grids.geojson")
SAMPLE_STATIONS = files("handlers").joinpath("data/sample_stations.csv")


class _Row:
    def __init__(self, **kw) -> None:
        self.__dict__.update(kw)


def add_sample_grids(db_path: Path, batch: int = 50_000) -> int:
    """Load the sample grids and stations; tag every ticket with its grid. Returns the tagged."""
    raw = SAMPLE_GRIDS.read_bytes()
    rows = [spec.row() for spec in parse_grids(raw)]
    index = GridIndex.build(1, [_Row(**r) for r in rows])
    now = datetime.now().isoformat(sep=" ")
    con = sqlite3.connect(db_path)
    tagged = 0
    with con:
        cols = ", ".join(rows[0])
        marks = ", ".join("?" for _ in rows[0])
        con.executemany(
            f"INSERT INTO grid ({cols}) VALUES ({marks})", [tuple(r.values()) for r in rows]
        )
        con.execute(
            "INSERT INTO gridversion (version, digest, source, imported_at) VALUES (1, ?, ?, ?)",
            (hashlib.sha256(raw).hexdigest(), "sample_grids.geojson", now),
        )
        stations = parse_stations(SAMPLE_STATIONS.read_bytes(), "sample_stations.csv")
        con.executemany(
            "INSERT INTO station (name, address, services, hours, lat, lon) VALUES (?,?,?,?,?,?)",
            [tuple(s.values()) for s in stations],
        )
        cursor = con.execute("SELECT id, lat, lon, status FROM ticket ORDER BY id")
        while chunk := cursor.fetchmany(batch):
            updates = _placed(index, chunk)
            con.executemany(
                "UPDATE ticket SET grid=?, street=?, district=?, outside=?, geocell=? WHERE id=?",
                updates,
            )
            tagged += len(updates)
    con.close()
    return tagged


def _placed(index: GridIndex, chunk: list[tuple]) -> list[tuple]:
    """The tickets' places in one vectorised STRtree query (first hit per level, file order)."""
    points = shapely.points(np.array([(lon, lat) for _, lat, lon, _ in chunk]))
    which, hit = index.tree.query(points, predicate="intersects")
    first: dict[int, dict[str, str]] = defaultdict(dict)
    for i, g in sorted(zip(which.tolist(), hit.tolist(), strict=True)):
        name = index.names[g]
        first[i].setdefault(index.areas[name].level, name)
    out = []
    for i, (tid, lat, lon, status) in enumerate(chunk):
        found = first.get(i, {})
        grid = found.get("网格")
        street = index.parent(grid) if grid else found.get("街道")
        district = index.parent(street) if street else found.get("区")
        cell = geohash(lat, lon) if status in OPEN else None  # only open ones can be merged into
        out.append((grid, street, district, int(not found), cell, tid))
    return out
