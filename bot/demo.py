"""`woodpecker demo` and `woodpecker console`: the real core, a chat in the terminal, no network."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.app import Woodpecker
from bot.demo_images import broken_file, street_photo
from bot.local import LocalChat, Said
from bot.settings import Settings
from handlers.config import utc_now
from handlers.types import Sender
from storage.models import Ticket

BOT_NAME = "🐦 啄木鸟"
CONSOLE_HELP = (
    "/photo 路径 [说明]、/file 路径（原图）、/loc 纬度 经度、/demo-photo [说明]、"
    "/as 名字、/report、/help、/quit；其他文字照常发送。"
)

# Riders from the seed story's street group: reporters, a chatter, one with a bad upload.
LAOWANG = Sender("u-laowang", "老王")
XIAOLI = Sender("u-xiaoli", "小李")
AQIANG = Sender("u-aqiang", "阿强")
# 宝山区友谊路街道, WGS-84.
SPOT_A = (31.40512, 121.48931)
SPOT_B = (31.40288, 121.49304)


def _clock_line(at, tz: str) -> str:
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _print_said(said: Said, names: dict[str, str]) -> None:
    who = "、".join(names.get(m, m) for m in said.mentions)
    target = f" → {who}" if who else ""
    body = said.text.replace("\n", "\n      ")
    print(f"      {BOT_NAME}{target}: {body}")


def _print_rider(user: Sender, what: str, tz: str) -> None:
    print(f"[{_clock_line(utc_now(), tz)}] {user.name}: {what}")


def _fresh_file(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


async def run_demo(settings: Settings, db_path: Path) -> int:
    """Play a short scene from the street group and print it as a chat transcript."""
    await asyncio.to_thread(_fresh_file, db_path)
    settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{db_path}"})
    names = {u.user_id: u.name for u in (LAOWANG, XIAOLI, AQIANG)}
    chat = LocalChat(on_say=lambda s: _print_said(s, names))
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


async def run_console(settings: Settings, name: str) -> int:
    """Type as a named courier (see CONSOLE_HELP); the bot's answers print below."""
    chat = LocalChat()
    names: dict[str, str] = {}
    chat.on_say = lambda s: _print_said(s, names)
    bot = Woodpecker(settings, [chat])
    await bot.migrate()
    user = Sender(f"console-{name}", name)
    names[user.user_id] = name
    print(f"以 {name} 的身份发言 / speaking as {name}. {CONSOLE_HELP}")
    seed = 100
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line or line.strip() in ("/quit", "/exit"):
            break
        line = line.strip()
        if line.startswith("/as "):
            name = line[4:].strip() or name
            user = Sender(f"console-{name}", name)
            names[user.user_id] = name
            continue
        try:
            if line.startswith("/demo-photo"):
                seed += 1
                caption = line[len("/demo-photo") :].strip() or None
                msg = chat.message(user, photos=[street_photo(seed)], text=caption)
            else:
                msg = await asyncio.to_thread(chat.parse_console_line, user, line)  # reads files
        except (OSError, ValueError) as e:
            print(f"      ✗ {e}")
            continue
        if msg is None:
            continue
        await bot.handle(msg)
        await bot.flush()
    await bot.close()
    return 0
