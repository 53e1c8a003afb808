"""`woodpecker digest …` (render a week to files, manage subscriptions) and `woodpecker seed`."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from pathlib import Path

from bot.manage import operator_deps
from bot.settings import Settings
from handlers import digest, subscriptions
from handlers.config import utc_now
from handlers.deps import Deps
from handlers.periods import to_local, week_key


def add_parsers(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("digest", help="render the weekly digest to files, or manage who gets it")
    actions = ["render", "subscribe", "unsubscribe", "list"]
    d.add_argument("action", nargs="?", default="render", choices=actions)
    d.add_argument("--week", help="ISO week like 2026-W47 (default: the last complete week)")
    d.add_argument("--out", default="data/digests", help="folder for the .txt, .png and .xlsx")
    d.add_argument("--db", help="a SQLite file to read instead of DATABASE_URL")
    d.add_argument("--chat", help="the officials' chat id (subscribe / unsubscribe)")
    d.add_argument("--platform", default="telegram")
    s = sub.add_parser("seed", help="fill a new SQLite file with made-up tickets (demo, bench)")
    s.add_argument("--db", default="data/seed.db")
    s.add_argument("--tickets", type=int, default=2500)
    s.add_argument("--weeks", type=int, default=8)
    s.add_argument("--groups", type=int, default=6)
    s.add_argument("--riders", type=int, default=120)


def last_complete_week(tz: str) -> str:
    return week_key(to_local(utc_now(), tz).date() - timedelta(days=7))


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.cmd == "seed":
        return await _seed(settings, args)
    if args.db:
        settings = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{args.db}"})
    async with operator_deps(settings) as deps:
        if args.action == "render":
            return await _render(deps, args)
        if args.action == "list":
            for line in await subscriptions.list_subscriptions(deps):
                print(line)
            return 0
        if not args.chat:
            print("--chat is required / 需要 --chat")
            return 2
        subscribe = args.action == "subscribe"
        changed = await subscriptions.subscribe_chat(deps, args.platform, args.chat, subscribe)
        if subscribe:
            print("subscribed / 已订阅" if changed else "already subscribed / 已订阅过")
        else:
            print("unsubscribed / 已退订" if changed else "not subscribed / 未订阅")
        return 0


async def _render(deps: Deps, args: argparse.Namespace) -> int:
    week = (args.week or last_complete_week(deps.config.timezone)).upper()
    try:
        result = await digest.build(deps, week, deps.clock())
    except ValueError:
        print(f"bad week {week!r}: use the ISO form 2026-W47 / 周数格式应为 2026-W47")
        return 2
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
    print(result.text)
    print(f"\n→ {stem}.txt .png .xlsx" + (" -map.png" if result.map_png else ""))
    return 0


async def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from bot.seed import Plan, seed
    from bot.seed_geo import add_sample_grids

    end = utc_now().replace(minute=0, second=0, microsecond=0)
    plan = Plan(args.tickets, args.groups, args.riders, args.weeks * 7, end)
    await asyncio.to_thread(seed, Path(args.db), plan)
    await asyncio.to_thread(add_sample_grids, Path(args.db))  # the sample 网格, tickets placed
    print(f"{args.tickets} tickets over {args.weeks} weeks → {args.db}")
    print(f"woodpecker digest --db {args.db} --out data/digests")
    return 0
