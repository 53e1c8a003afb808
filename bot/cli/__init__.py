"""The `woodpecker` command: one subcommand per tool, each in its own module of this folder.

Every tool takes its database the same way (`--db FILE|URL`, else `DATABASE_URL`; a missing
SQLite file is refused unless `--create`, see `common.database_url`) and ends with one sentence
and a non-zero status on any error (`errors.explain`), never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import NoReturn

from bot.cli import console, db, demo, digest, doctor, grids, manage, points, run, seed, web
from bot.cli.common import CliError
from bot.cli.errors import explain, settings_error
from bot.logs import setup_logging

log = logging.getLogger("woodpecker")
TOOLS = (run, demo, console, db, doctor, manage, digest, seed, points, grids, web)


class _Parser(argparse.ArgumentParser):
    """A mistyped command line is one sentence too (argparse would print its usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    top = _Parser(
        prog="woodpecker",
        description="啄木鸟 Woodpecker. Each tool takes --db FILE|URL (else DATABASE_URL).",
    )
    sub = top.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    for tool in TOOLS:
        tool.register(sub)
    return top


def _settings():
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        return Settings()
    except ValidationError as e:
        raise CliError(settings_error(e)) from None


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = None
    try:
        settings = _settings()
        setup_logging(settings)  # secrets redacted from every line (bot/logs.py)
        return asyncio.run(args.run(settings, args))
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except CliError as e:
        print(e, file=sys.stderr)
        return e.status
    except Exception as e:
        log.debug("the command failed", exc_info=True)
        database = getattr(args, "database_url", None)
        telegram = settings.telegram_base_url if settings else None
        print(explain(e, database, telegram), file=sys.stderr)
        return 1
