"""`woodpecker db upgrade`: apply the database migrations (the bot also does this at start)."""

from __future__ import annotations

import argparse

from bot.cli import common
from bot.settings import Settings
from storage.migrate import upgrade


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="database maintenance", parents=[common.database_options()])
    p.add_argument("action", choices=["upgrade"])
    p.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    url = common.database_url(settings, args)
    await upgrade(url)
    print(f"数据库已是最新 / database is up to date: {common.shown(url)}")
    return 0
