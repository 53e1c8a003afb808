"""`woodpecker digest …`: render a week to files (text, chart, spreadsheet), or manage which
officials' chats receive it."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from bot.cli import common
from bot.settings import Settings
from handlers import digest, subscriptions
from handlers.config import utc_now
from handlers.deps import Deps
from handlers.periods import to_local, week_key

STEPS = 4  # counted, chart, spreadsheet, files written


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser(
        "digest",
        help="render the weekly digest to files, or manage who gets it",
        parents=[common.database_options(), common.progress_option()],
    )
    actions = ["render", "subscribe", "unsubscribe", "list"]
    d.add_argument("action", nargs="?", default="render", choices=actions)
    d.add_argument("--week", help="ISO week like 2026-W47 (default: the last complete week)")
    d.add_argument("--out", default="data/digests", help="folder for the .txt, .png and .xlsx")
    d.add_argument("--chat", help="the officials' chat id (subscribe / unsubscribe)")
    d.add_argument("--platform", default="telegram")
    d.set_defaults(run=run)


def last_complete_week(tz: str) -> str:
    return week_key(to_local(utc_now(), tz).date() - timedelta(days=7))


async def run(settings: Settings, args: argparse.Namespace) -> int:
    settings = common.on_database(settings, args)
    if args.action in ("subscribe", "unsubscribe") and not args.chat:
        raise common.CliError("需要 --chat / --chat is required")
    async with common.operator_deps(settings) as deps:
        if args.action == "render":
            return await _render(deps, args)
        if args.action == "list":
            for line in await subscriptions.list_subscriptions(deps):
                print(line)
            return 0
        subscribe = args.action == "subscribe"
        changed = await subscriptions.subscribe_chat(deps, args.platform, args.chat, subscribe)
        if subscribe:
            print("subscribed / 已订阅" if changed else "already subscribed / 已订阅过")
        else:
            print("unsubscribed / 已退订" if changed else "not subscribed / 未订阅")
        return 0


async def _render(deps: Deps, args: argparse.Namespace) -> int:
    week = (args.week or last_complete_week(deps.config.timezone)).upper()
    progress = common.Progress.for_args(args, f"周报 digest {week}", STEPS)
    try:
        result = await digest.build(deps, week, deps.clock(), progress=progress)
    except ValueError:
        progress.finish()
        raise common.CliError(
            f"周数格式应为 2026-W47 / bad week {week!r}: use the ISO form 2026-W47"
        ) from None
    out = Path(args.out)
    stem = out / f"woodpecker-{result.week}"

    def write() -> None:
        out.mkdir(parents=True, exist_ok=True)
        stem.with_suffix(".txt").write_text(result.text + "\n", "utf-8")
        stem.with_suffix(".png").write_bytes(result.png)
        stem.with_suffix(".xlsx").write_bytes(result.xlsx)
        if result.map_png is not None:
            out.joinpath(f"{stem.name}-map.png").write_bytes(result.map_png)

    await asyncio.to_thread(write)
    progress(STEPS)
    progress.finish()
    print(result.text)
    print(f"\n→ {stem}.txt .png .xlsx" + (" -map.png" if result.map_png else ""))
    return 0
