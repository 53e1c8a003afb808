"""What every command-line tool shares: which database it works on, the one-sentence error, the
core's dependencies for one command, and a progress counter on stderr."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings
from handlers.deps import Deps
from storage.db import Database
from storage.media import MediaStore
from storage.migrate import upgrade

DEFAULT_DATABASE_URL = Settings.model_fields["database_url"].default
SUPPORTED = ("sqlite", "postgresql")


class CliError(Exception):
    """Something the operator can put right: printed as one sentence, no traceback."""

    def __init__(self, sentence: str, status: int = 2) -> None:
        super().__init__(sentence)
        self.status = status


def database_options(default: str | None = None, what: str = "") -> argparse.ArgumentParser:
    """`--db` and `--create`, the same for every tool (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    fallback = f"default: {default}" if default else "default: DATABASE_URL"
    parent.add_argument(
        "--db",
        default=default,
        metavar="FILE|URL",
        help=f"a SQLite file or a database URL{what} ({fallback})",
    )
    parent.add_argument(
        "--create",
        action="store_true",
        help="make the SQLite file if it does not exist (otherwise a missing file is an error)",
    )
    return parent


def progress_option() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--progress",
        action="store_true",
        help="show progress on stderr even when it is not a terminal",
    )
    return parent


def shown(url: str) -> str:
    """A URL fit to print: the password, if any, masked."""
    return re.sub(r"(//[^/:@]*:)[^/@]*@", r"\1***@", url)


def as_url(given: str) -> str:
    """`data/x.db` → a SQLite URL; anything with `://` is taken as a URL."""
    return given if "://" in given else f"sqlite+aiosqlite:///{given}"


def parse_url(url: str, source: str) -> URL:
    """The URL, or one sentence saying what is wrong with it and what would be right."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CliError(
            f"{source} 不是数据库地址 / {source} is not a database URL: {shown(url)!r} "
            "(e.g. sqlite:///data/woodpecker.db or postgresql://user:pass@host/woodpecker)"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED:
        raise CliError(
            f"不支持的数据库 / unsupported database {parsed.get_backend_name()!r} in {source}: "
            "Woodpecker runs on SQLite or PostgreSQL"
        )
    return parsed


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names (None: another database, or SQLite in memory)."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return None if url.database.startswith("file:") else Path(url.database)


def database_url(settings: Settings, args: argparse.Namespace, may_create: bool = False) -> str:
    """The database a command works on: `--db` if given, else DATABASE_URL. A SQLite file that
    does not exist is refused (a typo would otherwise make an empty database) unless the command
    was asked to `--create` it; then its folder is made too."""
    given = getattr(args, "db", None)
    source = "--db" if given else "DATABASE_URL"
    url = as_url(given) if given else settings.database_url
    path = sqlite_file(parse_url(url, source))
    if path is not None and not path.exists():
        if not (getattr(args, "create", False) or may_create):
            raise CliError(
                f"没有数据库文件 {path} / no database file {path} (from {source}): "
                "check the name, or add --create to make a new one"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    args.database_url = url  # for error messages about it later
    return url


def on_database(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with the command's database in place of DATABASE_URL."""
    return settings.model_copy(update={"database_url": database_url(settings, args)})


@asynccontextmanager
async def operator_deps(settings: Settings) -> AsyncIterator[Deps]:
    """The core's dependencies for one command-line command, on a migrated database."""
    await upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        yield Deps(db=db, media=MediaStore(settings.media_dir), config=settings.core())
    finally:
        await db.dispose()


class Progress:
    """`label 1200/2500` on one line of stderr, rewritten in place; only for a person watching
    (stderr is a terminal) or when asked (`--progress`), so logs and pipes stay clean."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self._shown = False

    @classmethod
    def for_args(cls, args: argparse.Namespace, label: str, total: int) -> Progress:
        return cls(label, total, getattr(args, "progress", False) or sys.stderr.isatty())

    def __call__(self, done: int) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{self.label} {done}/{self.total}")
            sys.stderr.flush()
            self._shown = True

    def finish(self) -> None:
        if self._shown:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._shown = False
