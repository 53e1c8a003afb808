"""The weekly digest over a year of a million tickets: time and peak memory.

    .venv/bin/python -m bench.digest                # builds the database once (~1 min), then times
    .venv/bin/python -m bench.digest --tickets 200000 --repeat 5

The database is made by `bot/cli/seed.py` (the same generator as `woodpecker seed`) with the bot's
own migrations, and kept (under ./data/bench/ when ./data exists, else the temp folder) while
its ticket count matches. Each measurement runs in a fresh Python process, so its peak
resident memory (ru_maxrss, which counts SQLite's and matplotlib's C allocations too) is the
digest's alone, imports included. The code timed is the bot's: `handlers.digest.numbers` (the
SQL aggregation) and `handlers.digest.build` (numbers + text + PNG + XLSX). Targets (issue 7):
under 3 s and under 400 MB. Nothing is asserted: a missed target is printed as missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

END = datetime(2026, 11, 23, 4, 0)  # Monday noon, Shanghai: the digest of 2026-W47 is due
WEEK = "2026-W47"
TARGET_S, TARGET_MB = 3.0, 400


def default_db(tickets: int) -> Path:
    base = Path("data/bench") if Path("data").is_dir() else Path(tempfile.gettempdir())
    return base / f"digest-{tickets}.db"


def ticket_count(path: Path) -> int:
    if not path.exists():
        return -1
    try:
        con = sqlite3.connect(path)
        try:
            return con.execute("SELECT count(*) FROM ticket").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return -1


def build_db(path: Path, tickets: int) -> None:
    from bot.cli.seed import Plan, seed

    if ticket_count(path) == tickets:
        from storage.migrate import upgrade_sync

        upgrade_sync(f"sqlite:///{path}")  # indexes added since it was built
        print(f"database: {path} ({tickets:,} tickets, kept from an earlier run)")
        return
    print(f"database: building {path} with {tickets:,} tickets over a year …", flush=True)
    started = time.perf_counter()
    groups, riders = max(5, tickets // 3000), max(50, tickets // 50)
    seed(path, Plan(tickets=tickets, groups=groups, riders=riders, days=365, end=END))
    size = path.stat().st_size / 2**20
    print(f"database: built in {time.perf_counter() - started:.0f} s, {size:.0f} MB", flush=True)


async def child(db: str, week: str) -> dict:
    """One measurement, in this (fresh) process."""
    from handlers import digest
    from handlers.deps import Deps
    from storage.db import Database
    from storage.media import MediaStore

    database = Database(f"sqlite:///{db}")
    deps = Deps(db=database, media=MediaStore(tempfile.gettempdir()), clock=lambda: END)
    t0 = time.perf_counter()
    numbers = await digest.numbers(deps, week)
    t1 = time.perf_counter()
    result = await digest.build(deps, week, END)
    t2 = time.perf_counter()
    await database.dispose()
    return {
        "sql_s": t1 - t0,
        "build_s": t2 - t1,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "new": numbers.new,
        "resolved": numbers.resolved,
        "open": numbers.open,
        "overdue": numbers.overdue,
        "png_kb": len(result.png) / 1024,
        "xlsx_kb": len(result.xlsx) / 1024,
    }


def measure(db: Path, week: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--child", str(db), "--week", week],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--week", default=WEEK)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.week))))
        return 0
    db = args.db or default_db(args.tickets)
    build_db(db, args.tickets)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}")  # fmt: skip
    runs = []
    for i in range(args.repeat):
        r = measure(db, args.week)
        runs.append(r)
        print(
            f"run {i + 1}: SQL aggregation {r['sql_s']:.2f} s · whole digest (numbers, text, "
            f"PNG, XLSX) {r['build_s']:.2f} s · peak RSS {r['peak_mb']:.0f} MB",
            flush=True,
        )
    r = runs[0]
    print(
        f"week {args.week}: new {r['new']:,}, resolved {r['resolved']:,}, open at the end "
        f"{r['open']:,}, overdue {r['overdue']:,}; PNG {r['png_kb']:.0f} KB, "
        f"XLSX {r['xlsx_kb']:.0f} KB"
    )
    worst_s = max(x["build_s"] for x in runs)
    peak = max(x["peak_mb"] for x in runs)
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    print(
        f"weekly digest over {ticket_count(db):,} tickets: slowest {worst_s:.2f} s "
        f"(target < {TARGET_S:.0f} s: {verdict(worst_s < TARGET_S)}), peak {peak:.0f} MB "
        f"(target < {TARGET_MB} MB: {verdict(peak < TARGET_MB)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
