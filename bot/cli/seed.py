"""`woodpecker seed`: a made-up but plausible history of street groups, riders and tickets,
written straight into a new SQLite file (a database to render a digest from, and what
`bench/digest.py` fills with a year of a million tickets). Deterministic for a given seed."""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.cli import common
from bot.cli.seed_geo import add_sample_grids
from bot.settings import Settings
from handlers.config import utc_now
from storage.migrate import upgrade_sync

STREETS = (
    "友谊路", "长江南路", "泰和路", "宝杨路", "同济路", "牡丹江路", "密山路", "海江路",
    "双城路", "永乐路", "铁山路", "淞滨路", "盘古路", "漠河路", "团结路", "春雷路",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("强", "伟", "军", "磊", "涛", "明", "超", "勇", "杰", "斌", "鹏", "辉", "刚", "平", "波")
COMPANIES = ("美团", "饿了么", "顺丰", "京东物流", "中通快递", "圆通速递", "滴滴出行", "闪送")
# (category, weight): what riders report most, from the seed stories.
CATEGORIES = (
    ("共享单车乱停", 16), ("乱堆乱放", 14), ("井盖损坏", 10), ("道路积水", 9),
    ("车辆长期占道", 9), ("飞线充电", 8), ("卫生死角", 8), ("公共设施损坏", 7),
    ("行道树隐患", 5), ("噪音扰民", 4), ("路面突发事件", 3), ("换电站", 3), ("其他", 4),
)  # fmt: skip
DEPARTMENTS = ("城运中心", "城管", "绿化", "市容", "交警")
BASE = (31.405, 121.489)  # 宝山区友谊路街道


@dataclass(frozen=True)
class Plan:
    tickets: int
    groups: int
    riders: int
    days: int
    end: datetime  # naive UTC; tickets are created before it
    seed: int = 7


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "seed",
        help="fill a new SQLite file with made-up tickets (demo, bench)",
        parents=[common.progress_option()],
    )
    s.add_argument("--db", default="data/seed.db", metavar="FILE", help="the new SQLite file")
    s.add_argument("--replace", action="store_true", help="overwrite the file if it exists")
    s.add_argument("--tickets", type=int, default=2500)
    s.add_argument("--weeks", type=int, default=8)
    s.add_argument("--groups", type=int, default=6)
    s.add_argument("--riders", type=int, default=120)
    s.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    path = Path(args.db)
    if "://" in args.db:
        raise common.CliError(f"seed 只写 SQLite 文件 / seed writes a SQLite file: {args.db!r}")
    if await asyncio.to_thread(path.exists) and not args.replace:
        raise common.CliError(
            f"{path} 已存在 / {path} exists: seed makes a new database; "
            "add --replace to overwrite it (everything in it is lost)"
        )
    end = utc_now().replace(minute=0, second=0, microsecond=0)
    plan = Plan(args.tickets, args.groups, args.riders, args.weeks * 7, end)
    progress = common.Progress.for_args(args, f"工单 tickets → {path}", args.tickets)
    await asyncio.to_thread(seed, path, plan, progress=progress)
    await asyncio.to_thread(add_sample_grids, path)  # the sample 网格, tickets placed in them
    progress.finish()
    print(f"{args.tickets} tickets over {args.weeks} weeks → {path}")
    print(f"woodpecker digest --db {path} --out data/digests")
    return 0


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", "", rng.choice(GIVEN)))


def _ts(at: datetime | None) -> str | None:
    return at.isoformat(sep=" ", timespec="microseconds") if at else None


def seed(
    db_path: Path,
    plan: Plan,
    batch: int = 50_000,
    progress: Callable[[int], None] = lambda done: None,
) -> None:
    """Create the schema at `db_path` (a new file) and fill it according to `plan`;
    `progress` hears how many tickets are made, every thousand and at the end."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    upgrade_sync(f"sqlite:///{db_path}")
    rng = random.Random(plan.seed)
    con = sqlite3.connect(db_path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    has_points = bool(
        con.execute("SELECT 1 FROM sqlite_master WHERE name = 'pointentry'").fetchone()
    )
    start = plan.end - timedelta(days=plan.days)
    made = _ts(start)
    with con:
        groups = []
        for g in range(plan.groups):
            street = STREETS[g % len(STREETS)]
            centre = (BASE[0] + rng.uniform(-0.03, 0.03), BASE[1] + rng.uniform(-0.03, 0.03))
            hotspots = [
                (centre[0] + rng.uniform(-0.004, 0.004), centre[1] + rng.uniform(-0.004, 0.004))
                for _ in range(3)
            ]
            groups.append((g + 1, street, centre, hotspots))
        con.executemany(
            "INSERT INTO chat (id, platform, chat_id, title, is_group, enabled,"
            " told_how_to_enable, created_at) VALUES (?, 'telegram', ?, ?, 1, 1, 0, ?)",
            [
                (gid, str(-1001000000000 - gid), f"{s}骑手群" + _suffix(gid, len(STREETS)), made)
                for gid, s, _, _ in groups
            ],
        )
        riders = plan.riders + plan.groups  # the last ones are the groups' secretaries
        con.executemany(
            "INSERT INTO member (id, platform, user_id, name, created_at, company)"
            " VALUES (?, 'telegram', ?, ?, ?, ?)",
            [
                (m, str(7_000_000 + m), _name(rng), made, rng.choice(COMPANIES))
                for m in range(1, riders + 1)
            ],
        )
        con.executemany(
            "INSERT INTO role (member_pk, chat_pk, role, granted_at) VALUES (?, ?, 'secretary', ?)",
            [(plan.riders + gid, gid, made) for gid, _, _, _ in groups],
        )
        home = [rng.randrange(plan.groups) for _ in range(plan.riders)]  # each rider's group
        cats, weights = zip(*CATEGORIES, strict=True)
        span = plan.days * 86400.0
        # More reports as the programme grows: density rises across the period. Riders report
        # by day (08:00–20:59 Shanghai time is 00–12 UTC). Numbered in time order, like the bot.
        times = sorted(
            min(
                (start + timedelta(seconds=span * rng.random() ** 0.8)).replace(
                    hour=rng.randrange(0, 13)
                ),
                plan.end - timedelta(minutes=1),
            )
            for _ in range(plan.tickets)
        )
        rows, points, tid = [], [], 0
        for created in times:
            tid += 1
            # A few riders report far more than the rest.
            rider = min(int(plan.riders * rng.random() ** 1.5), plan.riders - 1)
            gid, street, centre, hotspots = groups[home[rider]]
            category = rng.choices(cats, weights)[0]
            if rng.random() < 0.12:
                lat, lon = hotspots[cats.index(category) % 3]
                lat, lon = lat + rng.uniform(-0.0002, 0.0002), lon + rng.uniform(-0.0002, 0.0002)
            else:
                lat, lon = centre[0] + rng.gauss(0, 0.006), centre[1] + rng.gauss(0, 0.006)
            row = _lifecycle(rng, created, plan.end)
            status, tier, dept, accepted, resolved, closed = row
            rows.append(
                (
                    tid, gid, rider + 1, status, category, lat, lon,
                    f"{street}{rng.randrange(1, 900)}号附近", str(tid), dept, tier,
                    _ts(created), _ts(closed or resolved or accepted or created),
                    _ts(accepted), _ts(resolved), _ts(closed),
                )
            )  # fmt: skip
            if has_points and resolved is not None:
                points.append((rider + 1, 10, "award", tid, gid, _ts(resolved)))
            if len(rows) >= batch:
                _flush(con, rows, points)
                rows, points = [], []
            if tid % 1000 == 0:
                progress(tid)
        _flush(con, rows, points)
        progress(tid)
    con.close()


def _suffix(gid: int, n: int) -> str:
    return f"{(gid - 1) // n + 1}" if gid > n else ""


def _lifecycle(rng: random.Random, created: datetime, end: datetime):
    """What became of a ticket by `end`: (status, tier, department, accepted, resolved, closed)."""
    fate = rng.random()
    accepted = created + timedelta(hours=rng.expovariate(1 / 3))
    if fate < 0.04:  # rejected: not our street, not a hazard
        closed = accepted + timedelta(hours=rng.uniform(0.1, 6))
        return ("rejected", 0, None, None, None, closed) if closed < end else _open(created, end)
    if fate < 0.06:  # the same problem as an earlier ticket
        closed = accepted + timedelta(hours=rng.uniform(0.1, 6))
        return ("duplicate", 0, None, None, None, closed) if closed < end else _open(created, end)
    hours = rng.lognormvariate(math.log(20), 0.9)
    stuck = rng.random() < 0.03  # nobody fixed it: overdue
    resolved = None if stuck else created + timedelta(hours=hours)
    tier = 0 if hours < 8 else 1 if hours < 48 else 2 if hours < 120 else 3
    dept = rng.choice(DEPARTMENTS) if tier else None
    if accepted >= end:
        return "new", 0, None, None, None, None
    if resolved is None or resolved >= end:
        return ("dispatched" if tier else "accepted"), tier, dept, accepted, None, None
    closed = resolved + timedelta(hours=rng.uniform(2, 48))
    if closed < end:
        return "closed", tier, dept, accepted, resolved, closed
    return "resolved", tier, dept, accepted, resolved, None


def _open(created: datetime, end: datetime):
    return "new", 0, None, None, None, None


def _flush(con: sqlite3.Connection, rows: list, points: list) -> None:
    con.executemany(
        "INSERT INTO ticket (id, chat_pk, reporter_pk, status, category, lat, lon, address,"
        " source_message_id, department, tier, created_at, updated_at, accepted_at,"
        " resolved_at, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    if points:
        con.executemany(
            "INSERT INTO pointentry (member_pk, delta, reason, ticket_id, chat_pk, at)"
            " VALUES (?,?,?,?,?,?)",
            points,
        )
