"""`woodpecker doctor`: is this machine ready to run the bot? One line per check, and for each
failure what to do about it; the exit status is 1 when anything failed.

✓ fine · ! works, but worth knowing · ✗ will not work until put right.
It changes nothing: no database is made or migrated, no webhook set, no message sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.cli import common
from bot.cli.errors import explain
from bot.settings import Settings

MIN_FREE = 1 << 30  # photos are a few hundred KB each; below 1 GB the disk fills soon
TIMEOUT = 10.0


@dataclass
class Check:
    ok: bool | None  # None: a warning, which does not fail the run
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = {True: "✓", None: "!", False: "✗"}[self.ok]
        tail = f" → {self.fix}" if self.fix and self.ok is not True else ""
        return f"{mark} {self.name}: {self.detail}{tail}"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check settings, database, media, platforms and fonts")
    p.add_argument("--db", metavar="FILE|URL", help="check this database instead of DATABASE_URL")
    p.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    failed = False
    for check in _checks(settings, args):
        for result in await check():
            print(result.line(), flush=True)
            failed |= result.ok is False
    return 1 if failed else 0


def _checks(settings: Settings, args: argparse.Namespace) -> list[Callable[[], Awaitable]]:
    """The checks that apply here, in the order they print; each returns its lines."""
    checks = [
        partial(_settings, settings),
        partial(_database, settings, args),
        partial(_media, settings),
        _fonts,
    ]
    if settings.telegram_bot_token:
        checks.append(partial(_telegram, settings))
    if settings.wechat_enabled:
        checks.append(partial(_wechat, settings))
    if settings.wecom_webhook_keys:
        checks.append(partial(_wecom, settings))
    if not (settings.telegram_bot_token or settings.wechat_enabled):
        checks.append(_no_platform)
    return checks


async def _settings(settings: Settings) -> list[Check]:
    out = []
    try:
        ZoneInfo(settings.timezone)
        tz_ok = True
    except (ZoneInfoNotFoundError, ValueError):
        tz_ok = False
    if tz_ok:
        out.append(
            Check(
                True,
                "设置 settings",
                f".env and the environment read; LOCALE {settings.locale}, "
                f"TIMEZONE {settings.timezone}, QUIET_HOURS {settings.quiet_hours or 'none'}",
            )
        )
    else:
        out.append(
            Check(
                False,
                "设置 settings",
                f"TIMEZONE {settings.timezone!r} is not a time zone",
                "use a name like Asia/Shanghai",
            )
        )
    if not settings.allowed_chats:
        out.append(
            Check(
                None,
                "服务的群 chats",
                "ALLOWED_CHATS is empty: any group the bot is added to is served",
                "list your groups' ids in ALLOWED_CHATS, or let admins /enable each one",
            )
        )
    if not settings.admin_user_ids:
        out.append(
            Check(
                None,
                "管理员 admins",
                "ADMIN_USER_IDS is empty: nobody can /enable groups or appoint secretaries in chat",
                "add your user id, or use woodpecker roles grant / woodpecker invite",
            )
        )
    return out


async def _database(settings: Settings, args: argparse.Namespace) -> list[Check]:
    name = "数据库 database"
    source = "--db" if args.db else "DATABASE_URL"
    url = common.as_url(args.db) if args.db else settings.database_url
    try:
        path = common.sqlite_file(common.parse_url(url, source))
    except common.CliError as e:
        return [Check(False, name, str(e), "fix DATABASE_URL in .env or the environment")]
    where = str(path) if path else common.shown(url)
    if path is not None and not path.exists():
        if url == common.DEFAULT_DATABASE_URL and not args.db:
            fix = "./run.sh makes it at the bot's first start (or: woodpecker db upgrade --create)"
        else:
            fix = f"check {source} for a typo; to start a new database there: "
            fix += f"woodpecker db upgrade{' --db ' + args.db if args.db else ''} --create"
        return [Check(False, name, f"no database file {path}", fix)]
    try:
        current, head = await asyncio.wait_for(_revisions(url), TIMEOUT)
    except Exception as e:
        return [Check(False, name, explain(e, url), "then run woodpecker doctor again")]
    if current == head:
        return [Check(True, name, f"{where} reachable, migrations up to date ({head})")]
    state = "empty (no tables)" if current is None else f"at migration {current}"
    return [
        Check(
            False,
            name,
            f"{where} is {state}; this version needs {head}",
            f"woodpecker db upgrade{' --db ' + args.db if args.db else ''} "
            "(the bot also does it at start)",
        )
    ]


async def _revisions(url: str) -> tuple[str | None, str]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import normalise_url
    from storage.migrate import alembic_config

    url = normalise_url(url)
    kwargs = {"connect_args": {"timeout": TIMEOUT}} if url.startswith("postgresql") else {}
    engine = create_async_engine(url, **kwargs)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    finally:
        await engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    return current, head


async def _media(settings: Settings) -> list[Check]:
    return [await asyncio.to_thread(_media_check, Path(settings.media_dir))]


def _media_check(media: Path) -> Check:
    name = "照片目录 media"
    fix_dir = "point MEDIA_DIR at a folder the bot's user can write"
    if media.exists() and not media.is_dir():
        return Check(False, name, f"{media} is a file, not a folder", fix_dir)
    existing = media
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return Check(False, name, f"{existing} (on the way to {media}) is a file", fix_dir)
    if media.exists():
        try:
            with tempfile.NamedTemporaryFile(dir=media):
                pass
            writable = True
        except OSError:
            writable = False
        state = "writable"
    else:
        writable = os.access(existing, os.W_OK | os.X_OK)
        state = f"not there yet, made at the first photo ({existing} is writable)"
    if not writable:
        return Check(False, name, f"{media} is not writable", fix_dir)
    free = shutil.disk_usage(existing).free
    gb = f"{free / (1 << 30):.1f} GB free"
    if free < MIN_FREE:
        return Check(
            False,
            name,
            f"{media} {state}, only {gb}",
            "free some space, or point MEDIA_DIR at a bigger disk",
        )
    return Check(True, name, f"{media} {state}, {gb}")


async def _fonts() -> list[Check]:
    from handlers.digest_render import cjk_font

    font = await asyncio.to_thread(cjk_font)
    if font is None:
        return [
            Check(
                False,
                "周报字体 digest font",
                "no font with Chinese glyphs: the chart's labels would be boxes",
                "pip install mplfonts (setup.sh does), or apt-get install fonts-noto-cjk",
            )
        ]
    return [Check(True, "周报字体 digest font", font.name)]


async def _telegram(settings: Settings) -> list[Check]:
    from telegram import Bot
    from telegram import error as tg
    from telegram.request import HTTPXRequest

    bot = Bot(
        settings.telegram_bot_token,
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_file_url,
        request=HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT),
    )
    try:
        await bot.initialize()  # getMe: is the token valid?
        info = await bot.get_webhook_info()
    except tg.InvalidToken:
        return [
            Check(
                False,
                "Telegram 令牌 token",
                "Telegram rejected TELEGRAM_BOT_TOKEN",
                "copy it again from @BotFather (/mybots → API Token)",
            )
        ]
    except tg.NetworkError:
        api = "/".join(settings.telegram_base_url.split("/")[:3])  # not the path: no token
        return [
            Check(
                False,
                "Telegram",
                f"cannot reach the Bot API at {api}",
                "check the network or proxy, and TELEGRAM_BASE_URL",
            )
        ]
    except Exception as e:
        sentence = explain(e, telegram_url=settings.telegram_base_url)
        return [Check(False, "Telegram", sentence, "then run woodpecker doctor again")]
    finally:
        await bot.shutdown()
    me = bot.bot
    out = [Check(True, "Telegram 令牌 token", f"valid: @{me.username} (id {me.id})")]
    if me.can_read_all_group_messages is False:
        out.append(
            Check(
                None,
                "Telegram 隐私模式 privacy",
                "on: in groups the bot sees commands and replies, not photos or locations",
                "make it a group admin, or @BotFather /setprivacy → Disable, then re-add it",
            )
        )
    out.append(_webhook(settings, info))
    return out


def _webhook(settings: Settings, info) -> Check:
    name = "Telegram 接收 updates"
    wanted = settings.telegram_webhook_url
    waiting = f"{info.pending_update_count} waiting"
    if info.url and info.last_error_message:
        when = f" at {info.last_error_date:%Y-%m-%d %H:%M} UTC" if info.last_error_date else ""
        return Check(
            False,
            name,
            f"Telegram cannot deliver to the webhook {info.url}: "
            f"{info.last_error_message}{when}; {waiting}",
            "the URL must be https and reachable from the internet on port 443, 80, 88 or 8443, "
            "forwarded to TELEGRAM_WEBHOOK_LISTEN:TELEGRAM_WEBHOOK_PORT",
        )
    if not wanted:
        if info.url:
            return Check(
                None,
                name,
                f"long polling is configured, but a webhook is set ({info.url}); "
                f"woodpecker run deletes it at start; {waiting}",
                "if another deployment uses that webhook, it stops receiving: "
                "set TELEGRAM_WEBHOOK_URL here instead",
            )
        return Check(True, name, f"long polling (no webhook set), {waiting}")
    if not wanted.startswith("https://"):
        return Check(
            False,
            name,
            f"TELEGRAM_WEBHOOK_URL {wanted} is not https",
            "Telegram only delivers to https URLs",
        )
    if info.url == wanted:
        return Check(True, name, f"webhook {wanted}, {waiting}")
    now = f"set to {info.url}" if info.url else "not set yet"
    return Check(
        None,
        name,
        f"webhook {now}; woodpecker run sets {wanted} at start",
        "nothing to do unless another deployment owns this bot",
    )


async def _wechat(settings: Settings) -> list[Check]:
    name = "微信 WeChat"
    endpoint = settings.wechaty_puppet_service_endpoint
    if not settings.wechaty_puppet_service_token:
        return [
            Check(False, name, "WECHATY_PUPPET_SERVICE_TOKEN is empty", "set the gateway's token")
        ]
    if not endpoint:
        return [
            Check(
                False,
                name,
                "WECHATY_PUPPET_SERVICE_ENDPOINT is empty",
                "give the puppet-service gateway's host:port (README, WeChat)",
            )
        ]
    host, _, port = endpoint.rpartition(":")
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), TIMEOUT)
        writer.close()
        await writer.wait_closed()
    except (OSError, ValueError, TimeoutError) as e:
        return [
            Check(
                False,
                name,
                f"cannot connect to the gateway {endpoint} ({e.__class__.__name__})",
                "is the wechaty gateway running there? (README, WeChat)",
            )
        ]
    return [Check(True, name, f"gateway {endpoint} answers (the login is checked at start)")]


async def _wecom(settings: Settings) -> list[Check]:
    n = len(settings.wecom_webhook_keys)
    return [
        Check(
            True,
            "企业微信 WeCom",
            f"{n} robot key(s) set; not tried (a test message would land in their groups)",
        )
    ]


async def _no_platform() -> list[Check]:
    return [
        Check(
            None,
            "聊天平台 platforms",
            "none configured: ./run.sh plays the local demo chat",
            "set TELEGRAM_BOT_TOKEN, or WECHATY_PUPPET_SERVICE_TOKEN and _ENDPOINT",
        )
    ]
