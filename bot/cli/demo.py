"""`woodpecker demo`: a scripted scene from a street group, through the real core, printed as a
chat transcript. No network; its own SQLite file, made afresh each time."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import Woodpecker
from bot.cli.common import CliError
from bot.cli.demo_images import broken_file, street_photo
from bot.cli.transcript import Transcript
from bot.local import LocalChat
from bot.settings import Settings
from handlers.config import utc_now
from handlers.types import Sender
from storage.models import Ticket

# Riders from the seed story's street group: reporters, a chatter, one with a bad upload.
LAOWANG = Sender("u-laowang", "老王")
XIAOLI = Sender("u-xiaoli", "小李")
AQIANG = Sender("u-aqiang", "阿强")
# 宝山区友谊路街道, WGS-84.
SPOT_A = (31.40512, 121.48931)
SPOT_B = (31.40288, 121.49304)


def _clock_line(at, tz: str) -> str:
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _print_rider(user: Sender, what: str, tz: str) -> None:
    print(f"[{_clock_line(utc_now(), tz)}] {user.name}: {what}")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="play a scripted scene through the real core")
    p.add_argument(
        "--db",
        default="data/demo.db",
        metavar="FILE",
        help="the demo's own SQLite file, made afresh (default: data/demo.db)",
    )
    p.set_defaults(run=lambda settings, args: run_demo(settings, Path(args.db)))


def _real_chats(db_path: Path) -> int:
    """Chats from a real platform in the file: the demo will not wipe a bot's database."""
    if not db_path.is_file():
        return 0
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as con:
        try:
            return con.execute("SELECT count(*) FROM chat WHERE platform != 'local'").fetchone()[0]
        except sqlite3.DatabaseError:  # no chat table (or not a database): not the bot's
            return 0


def _fresh_file(db_path: Path) -> None:
    if _real_chats(db_path):
        raise CliError(
            f"{db_path} 里有真实群的数据，演示不会覆盖它 / {db_path} holds real chats: "
            "the demo only replaces its own file; give another --db"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


async def run_demo(settings: Settings, db_path: Path) -> int:
    """Play a short scene from the street group and print it as a chat transcript."""
    await asyncio.to_thread(_fresh_file, db_path)
    settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db_path}"})
    names = {u.user_id: u.name for u in (LAOWANG, XIAOLI, AQIANG)}
    chat = LocalChat(on_say=Transcript(names))
    bot = Woodpecker(settings, [chat])
    await bot.migrate()
    print(f"—— 友谊路骑手群（演示 demo）· 数据库 {db_path} ——")

    async def say(user: Sender, what: str, **kw) -> None:
        _print_rider(user, what, settings.timezone)
        await bot.handle(chat.message(user, **kw))
        await bot.flush()

    await say(
        LAOWANG,
        "📷 [照片] 共享单车堵住车道了，电瓶车过不去",
        photos=[street_photo(1)],
        text="共享单车堵住车道了，电瓶车过不去",
    )
    await say(XIAOLI, "中午吃啥？", text="中午吃啥？")
    await say(LAOWANG, "📍 [位置] 友谊路 长江南路口", location=SPOT_A)
    await say(XIAOLI, "📍 [位置]", location=SPOT_B)
    await say(
        XIAOLI,
        "📷 [照片] 这里井盖松了，晚上很危险",
        photos=[street_photo(2)],
        text="这里井盖松了，晚上很危险",
    )
    await say(
        AQIANG, "📎 [文件 IMG_0412.jpg，传了一半]", photos=[broken_file()], photo_as_file=True
    )
    await say(XIAOLI, "老王牛啊", text="老王牛啊")

    async with bot.db.read() as s:
        count = (await s.execute(select(func.count()).select_from(Ticket))).scalar_one()
        rows = (await s.execute(select(Ticket).order_by(Ticket.id))).scalars().all()
    print(f"—— 工单 tickets in {db_path}: {count} ——")
    for ticket in rows:
        where = f"({ticket.lat:.5f}, {ticket.lon:.5f})"
        print(f"  #{ticket.id} {ticket.category} {where} {ticket.description or ''}")
    await bot.close()
    return 0
