"""`woodpecker run` (what ./run.sh starts): the bot for every configured platform, or with no chat
token the local demo chat, then the console on the demo's database when a person is watching."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli import common
from bot.settings import Settings

DEMO_DB = Path("data/demo.db")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the bot (the local demo chat when no chat token is set)")
    p.add_argument(
        "--create",
        action="store_true",
        help="make the SQLite file DATABASE_URL names if it does not exist "
        "(the default data/woodpecker.db is made at the first start anyway)",
    )
    p.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    # Checked even for the demo, which does not use it: a bad DATABASE_URL shows at once.
    common.parse_url(settings.database_url, "DATABASE_URL")
    if settings.telegram_bot_token or settings.wechat_enabled:
        from bot.serve import serve

        first_start = settings.database_url == common.DEFAULT_DATABASE_URL
        url = common.database_url(settings, args, may_create=first_start)
        settings.warn_if_open()
        return await serve(settings.model_copy(update={"database_url": url}))
    from bot.cli.console import run_console
    from bot.cli.demo import run_demo

    print("未设置聊天令牌 (no TELEGRAM_BOT_TOKEN): 运行本地演示 / running the local demo chat.\n")
    await run_demo(settings, DEMO_DB)
    if sys.stdin.isatty():
        print(f"\n现在轮到你 / your turn (console, on {DEMO_DB}):")
        demo_db = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{DEMO_DB}"})
        return await run_console(demo_db, "骑手")
    return 0
