"""Errors as the operator should read them: one sentence saying what failed and what to do.

The command line prints this instead of a traceback (`LOG_LEVEL=DEBUG` logs the traceback too).
Known failures are recognised anywhere in the exception's chain: SQLAlchemy and
python-telegram-bot wrap the driver's error in their own.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator

from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.cli.common import CliError, shown


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        orig = getattr(exc, "orig", None)  # SQLAlchemy's DBAPIError keeps the driver's error here
        exc = orig if isinstance(orig, BaseException) else (exc.__cause__ or exc.__context__)


def _where(url: str | None) -> str:
    """host:port of a database URL, or the file of a SQLite one."""
    if not url:
        return "?"
    try:
        u = make_url(url)
    except ArgumentError:
        return shown(url)
    if u.get_backend_name() == "sqlite":
        return u.database or ":memory:"
    return f"{u.host or 'localhost'}:{u.port or 5432}"


def _host(url: str) -> str:
    """scheme://host[:port] of a URL, never its path: Telegram's holds the token."""
    return "/".join(url.split("/")[:3])


def settings_error(e: ValidationError) -> str:
    first = e.errors()[0]
    name = str(first["loc"][0]).upper() if first["loc"] else "?"
    more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"设置有误 / bad setting {name}: {message}{more} — fix it in .env or the environment"


def explain(
    exc: BaseException, database_url: str | None = None, telegram_url: str | None = None
) -> str:
    """One sentence for `exc`: what failed, and what to do about it."""
    from telegram import error as tg

    for e in _chain(exc):
        if isinstance(e, CliError):
            return str(e)
        if isinstance(e, ValidationError):
            return settings_error(e)
        if isinstance(e, tg.InvalidToken):
            return (
                "Telegram 不接受这个令牌 / Telegram rejected TELEGRAM_BOT_TOKEN: "
                "copy it again from @BotFather (/mybots → API Token)"
            )
        if isinstance(e, tg.Conflict):
            return (
                "这个令牌已在别处运行 / another process is already receiving this bot's "
                "updates (polling or a webhook): stop it first, or check with woodpecker doctor"
            )
        if isinstance(e, tg.NetworkError):
            at = f" at {_host(telegram_url)}" if telegram_url else ""
            return (
                f"连不上 Telegram / cannot reach the Telegram Bot API{at} "
                f"({e.message.split(':')[0]}): check the network or proxy, and TELEGRAM_BASE_URL"
            )
        name = type(e).__name__
        where = _where(database_url)
        if name == "InvalidPasswordError" or name == "InvalidAuthorizationSpecificationError":
            return (
                f"数据库拒绝登录 / the database at {where} refused the user or password in "
                "DATABASE_URL"
            )
        if name == "InvalidCatalogNameError":
            return (
                f"数据库不存在 / no such database at {where}: create it first "
                "(createdb), then woodpecker db upgrade"
            )
        if isinstance(e, socket.gaierror):
            return (
                f"找不到数据库主机 / cannot find the database host {where}: "
                "check the host name in DATABASE_URL"
            )
        if isinstance(e, (ConnectionError, TimeoutError)) or (
            isinstance(e, OSError) and "connect call failed" in str(e).lower()
        ):
            return (
                f"连不上数据库 / cannot reach the database at {where}: "
                "is PostgreSQL running there, and does DATABASE_URL name it right?"
            )
        if isinstance(e, sqlite3.OperationalError) and "unable to open" in str(e):
            return (
                f"打不开数据库文件 / cannot open the SQLite file {where}: "
                "check the folder exists and is writable"
            )
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return (
        f"出错了 / failed: {type(exc).__name__}: {first} "
        "(LOG_LEVEL=DEBUG shows where; woodpecker doctor checks the setup)"
    )
