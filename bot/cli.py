"""The `woodpecker` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot import digest_cli, manage, points_cli
from bot.logs import setup_logging
from bot.settings import Settings


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as e:  # pydantic's message names the bad setting
        sys.exit(f"设置有误 / bad setting: {e}")


async def _run(settings: Settings) -> int:
    if settings.telegram_bot_token or settings.wechat_enabled:
        from bot.serve import serve

        return await serve(settings)
    from bot.demo import run_console, run_demo

    print("未设置聊天令牌 (no TELEGRAM_BOT_TOKEN): 运行本地演示 / running the local demo chat.\n")
    await run_demo(settings, Path("data/demo.db"))
    if sys.stdin.isatty():
        print("\n现在轮到你 / your turn (console):")
        return await run_console(settings, "骑手")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="woodpecker", description="啄木鸟 Woodpecker")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("run", help="run the bot (the local demo chat when no chat token is set)")
    demo = sub.add_parser("demo", help="play a scripted scene through the real core")
    demo.add_argument("--db", default="data/demo.db", help="SQLite file for the demo (recreated)")
    console = sub.add_parser("console", help="type into a local chat as a named courier")
    console.add_argument("--name", default="骑手")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    manage.add_parsers(sub)
    digest_cli.add_parsers(sub)
    points_cli.add_parsers(sub)
    args = parser.parse_args(argv)

    settings = _settings()
    setup_logging(settings)  # secrets redacted from every line (bot/logs.py)
    if args.cmd == "run":
        settings.warn_if_open()
        return asyncio.run(_run(settings))
    if args.cmd == "demo":
        from bot.demo import run_demo

        return asyncio.run(run_demo(settings, Path(args.db)))
    if args.cmd == "console":
        from bot.demo import run_console

        return asyncio.run(run_console(settings, args.name))
    if args.cmd in ("roles", "invite", "tickets"):
        return asyncio.run(manage.run(settings, args))
    if args.cmd in ("digest", "seed"):
        return asyncio.run(digest_cli.run(settings, args))
    if args.cmd in points_cli.COMMANDS:
        return asyncio.run(points_cli.run(settings, args))
    if args.cmd == "db":
        from storage.migrate import upgrade_sync

        upgrade_sync(settings.database_url)
        print("数据库已是最新 / database is up to date")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
