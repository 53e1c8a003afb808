"""One problem, one ticket, at scale: the duplicate lookup and the grid lookup.

    .venv/bin/python -m bench.cluster                       # 10k, 100k, 1M open tickets (~3 min)
    .venv/bin/python -m bench.cluster --sizes 10000,100000 --lookups 500

1. **Duplicate lookup** (`handlers.geo.merge.find_match`, the bot's own code, one read
   transaction per lookup through `Database.run`): a SQLite file made by the bot's migrations
   is filled with open tickets spread over Shanghai (30.70–31.50 N, 121.00–121.90 E), all
   reported within the merge window (the worst case: every one of them is a candidate), in 12
   categories. It grows 10k → 100k → 1M; at each size the same lookups run (half at an
   existing ticket's spot, half anywhere). Beside it, the lookup's SQL alone on a plain sqlite3
   connection (no session, no hop to the database thread), and for contrast the same SQL
   without the index (`NOT INDEXED`: every open ticket read) on fewer points.
2. **Grid lookup** (`GridIndex.locate`, shapely's STRtree): 10 and 5,000 grids tiling the same
   area (32-vertex polygons), random points; and a plain loop over the 5,000 polygons.

Nothing is asserted: the figures and their ratios are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

SOUTH, NORTH, WEST, EAST = 30.70, 31.50, 121.00, 121.90
NOW = datetime(2026, 11, 20, 2, 0)
CATEGORIES = (
    "共享单车乱停", "乱堆乱放", "井盖损坏", "道路积水", "车辆长期占道", "飞线充电",
    "卫生死角", "公共设施损坏", "行道树隐患", "噪音扰民", "路面突发事件", "换电站",
)  # fmt: skip


def fill(path: Path, start_id: int, count: int, rng: random.Random) -> list[tuple[float, float]]:
    """Append `count` open tickets; returns a sample of their spots."""
    from storage.geo import geohash

    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    stamp = NOW - timedelta(hours=71)
    spots = []
    with con:
        rows = []
        for tid in range(start_id, start_id + count):
            lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
            created = (stamp + timedelta(seconds=rng.uniform(0, 70 * 3600))).isoformat(sep=" ")
            rows.append(
                (tid, 1, 1, "new", rng.choice(CATEGORIES), lat, lon, str(tid), created, created,
                 geohash(lat, lon))
            )  # fmt: skip
            if len(spots) < 5000:
                spots.append((lat, lon))
            if len(rows) == 100_000:
                _insert(con, rows)
                rows = []
        _insert(con, rows)
    con.close()
    return spots


def _insert(con: sqlite3.Connection, rows: list) -> None:
    con.executemany(
        "INSERT INTO ticket (id, chat_pk, reporter_pk, status, category, lat, lon,"
        " source_message_id, created_at, updated_at, geocell) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )


def new_db() -> Path:
    from storage.migrate import upgrade_sync

    path = Path(tempfile.mkdtemp(prefix="wp-cluster-")) / "cluster.db"
    upgrade_sync(f"sqlite:///{path}")
    con = sqlite3.connect(path)
    with con:
        con.execute(
            "INSERT INTO chat (id, platform, chat_id, is_group, enabled, told_how_to_enable,"
            " created_at) VALUES (1, 'telegram', '-100', 1, 1, 0, ?)",
            (NOW.isoformat(sep=" "),),
        )
        con.execute(
            "INSERT INTO member (id, platform, user_id, name, created_at)"
            " VALUES (1, 'telegram', '1', 'bench', ?)",
            (NOW.isoformat(sep=" "),),
        )
    con.close()
    return path


def probes(spots: list[tuple[float, float]], n: int, rng: random.Random) -> list[tuple]:
    """Half near an existing ticket (a match is likely), half anywhere."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            lat, lon = rng.choice(spots)
            lat, lon = lat + rng.uniform(-2e-4, 2e-4), lon + rng.uniform(-2e-4, 2e-4)
        else:
            lat, lon = rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)
        out.append((lat, lon, rng.choice(CATEGORIES)))
    return out


async def time_lookups(path: Path, points: list[tuple]) -> tuple[float, int]:
    """Mean seconds per `find_match`, and how many found an open ticket to join."""
    from handlers.config import CoreConfig
    from handlers.deps import Deps
    from handlers.geo import merge
    from storage.db import Database
    from storage.geo import geohash
    from storage.media import MediaStore
    from storage.models import Ticket

    db = Database(f"sqlite:///{path}")
    deps = Deps(db=db, media=MediaStore(tempfile.gettempdir()), config=CoreConfig())
    found = 0
    try:
        tickets = [
            Ticket(lat=lat, lon=lon, category=cat, geocell=geohash(lat, lon))
            for lat, lon, cat in points
        ]
        for ticket in tickets[:50]:  # warm the connection and the page cache
            await db.run(lambda s, t=ticket: merge.find_match(s, deps, t, NOW), write=False)
        start = time.perf_counter()
        for ticket in tickets:
            hit = await db.run(lambda s, t=ticket: merge.find_match(s, deps, t, NOW), write=False)
            found += hit is not None
        return (time.perf_counter() - start) / len(tickets), found
    finally:
        await db.dispose()


def time_sql(path: Path, points: list[tuple], scan: bool = False) -> float:
    """The lookup's own SQL on a plain sqlite3 connection (no session, no thread hop); with
    `scan`, the same question without the index: every ticket of the window is read."""
    from storage.geo import cells_around

    con = sqlite3.connect(path)
    since = (NOW - timedelta(hours=72)).isoformat(sep=" ")
    start = time.perf_counter()
    for lat, lon, cat in points:
        cells = cells_around(lat, lon, 50)
        marks = ",".join("?" * len(cells))
        table = "ticket NOT INDEXED" if scan else "ticket"
        con.execute(
            f"SELECT id, lat, lon, status FROM {table} WHERE geocell IN ({marks})"
            " AND category = ? AND created_at >= ?",
            (*cells, cat, since),
        ).fetchall()
    con.close()
    return (time.perf_counter() - start) / len(points)


def grid_rows(n_lat: int, n_lon: int):
    import shapely

    class Row:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    dy, dx = (NORTH - SOUTH) / n_lat, (EAST - WEST) / n_lon
    whole = shapely.to_wkb(shapely.box(WEST, SOUTH, EAST, NORTH), hex=True)
    rows = [Row(name="区", level="区", parent=None, chat=None, geometry=whole)]
    for i in range(n_lat):
        for j in range(n_lon):
            x0, y0 = WEST + j * dx, SOUTH + i * dy
            edge = [k / 8 for k in range(8)]
            ring = (
                [(x0 + f * dx, y0) for f in edge]
                + [(x0 + dx, y0 + f * dy) for f in edge]
                + [(x0 + dx - f * dx, y0 + dy) for f in edge]
                + [(x0, y0 + dy - f * dy) for f in edge]
            )
            poly = shapely.Polygon(ring)
            rows.append(Row(name=f"网格{i}-{j}", level="网格", parent=None, chat=None,
                            geometry=shapely.to_wkb(poly, hex=True)))  # fmt: skip
    return rows


def bench_grids(n_points: int, rng: random.Random) -> None:
    from shapely.geometry import Point

    from handlers.geo.grids import GridIndex

    points = [(rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST)) for _ in range(n_points)]
    print("\nGrid lookup (GridIndex.locate through shapely's STRtree)")
    print(f"{'grids':>7} {'build ms':>9} {'µs/lookup':>10} {'ratio':>6}")
    first = None
    for shape in ((2, 5), (50, 100)):
        rows = grid_rows(*shape)
        start = time.perf_counter()
        index = GridIndex.build(1, rows)
        built = time.perf_counter() - start
        start = time.perf_counter()
        for lat, lon in points:
            index.locate(lat, lon)
        per = (time.perf_counter() - start) / len(points)
        first = first or per
        print(f"{len(rows) - 1:>7,} {built * 1000:>9.1f} {per * 1e6:>10.1f} {per / first:>6.2f}")
    few = points[: max(1, n_points // 20)]
    start = time.perf_counter()
    for lat, lon in few:
        p = Point(lon, lat)
        [g for g in index.geometries if g.intersects(p)]  # every level, as `locate` needs
    loop = (time.perf_counter() - start) / len(few)
    print(f"  a plain loop over the {len(rows) - 1:,} polygons: {loop * 1e6:,.0f} µs/lookup")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--scans", type=int, default=20, help="unindexed lookups per size")
    parser.add_argument("--grid-points", type=int, default=20000)
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    rng = random.Random(13)
    path = new_db()
    print(f"database: {path}")
    print("\nDuplicate lookup (merge.find_match: geohash cells, ix_ticket_geocell, haversine)")
    print(
        f"{'open tickets':>13} {'fill s':>7} {'µs/lookup':>10} {'ratio':>6} {'joined':>7}"
        f" {'SQL µs':>7} {'ratio':>6} {'scan µs':>10} {'ratio':>7}"
    )
    have, spots, base, base_sql, base_scan = 0, [], None, None, None
    points = None
    for size in sizes:
        start = time.perf_counter()
        spots += fill(path, have + 1, size - have, rng)
        filled = time.perf_counter() - start
        have = size
        points = points or probes(spots, args.lookups, random.Random(5))
        per, found = asyncio.run(time_lookups(path, points))
        sql = time_sql(path, points)
        scan = time_sql(path, points[: args.scans], scan=True)
        base, base_sql, base_scan = base or per, base_sql or sql, base_scan or scan
        print(
            f"{size:>13,} {filled:>7.1f} {per * 1e6:>10.1f} {per / base:>6.2f} {found:>7,}"
            f" {sql * 1e6:>7.1f} {sql / base_sql:>6.2f}"
            f" {scan * 1e6:>10,.0f} {scan / base_scan:>7.1f}"
        )
    print(
        f"  ({args.lookups:,} lookups per size, {args.scans} unindexed; ratios to the first size)"
    )
    bench_grids(args.grid_points, rng)


if __name__ == "__main__":
    main()
