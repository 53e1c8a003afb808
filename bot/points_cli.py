"""Operator commands for points: `woodpecker rewards add|list|disable|import`,
`woodpecker members set-company`, `woodpecker report commendation --year 2026 --out FILE`."""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from pathlib import Path

from sqlalchemy import select

from bot import commendation
from bot.manage import operator_deps
from bot.settings import Settings
from handlers.deps import Deps
from storage import ledger
from storage import repository as repo
from storage.models import Chat, Reward

COMMANDS = ("rewards", "members", "report")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("rewards", help="the rewards catalogue riders redeem points for")
    r.add_argument("action", choices=["add", "list", "disable", "import"])
    r.add_argument("id", nargs="?", help="disable: the reward's number; import: a TOML file")
    r.add_argument("--merchant", help="商户, e.g. 张记面馆")
    r.add_argument("--item", help="物品, e.g. 午餐")
    r.add_argument("--cost", type=int, help="积分 (points)")
    r.add_argument("--chat", help="offer it in this group only (omit: every group)")
    r.add_argument("--platform", default="telegram")
    r.add_argument("--all", action="store_true", help="list: withdrawn ones too")
    m = sub.add_parser("members", help="riders' details")
    m.add_argument("action", choices=["set-company"])
    m.add_argument("--user", required=True, help="the rider's platform user id")
    m.add_argument("--platform", default="telegram")
    m.add_argument("--company", required=True, help="公司/站点, e.g. 美团友谊路站")
    p = sub.add_parser("report", help="reports for officials")
    p.add_argument("kind", choices=["commendation"])
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    p.add_argument("--top", type=int, default=20, help="how many in each list")


async def run(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_deps(settings) as deps:
        if args.cmd == "rewards":
            return await _rewards(deps, args)
        if args.cmd == "members":
            return await _members(deps, args)
        return await _report(deps, args)


def _line(reward: Reward, chat: Chat | None) -> str:
    where = f"{chat.platform}:{chat.chat_id}" if chat else "*"
    state = "" if reward.active else "\t已下架 withdrawn"
    return f"{reward.id}\t{reward.merchant}\t{reward.item}\t{reward.cost}\t{where}{state}"


async def _chat_pk(s, deps: Deps, platform: str, chat_id: str | None) -> int | None:
    if chat_id is None:
        return None
    return (await repo.upsert_chat(s, platform, chat_id, None, True, deps.clock())).id


async def _rewards(deps: Deps, args: argparse.Namespace) -> int:
    now = deps.clock()
    if args.action == "add":
        if not (args.merchant and args.item and args.cost and args.cost > 0):
            print("需要 --merchant --item --cost / --merchant, --item and a positive --cost")
            return 2
        async with deps.db.write() as s:
            reward = Reward(
                merchant=args.merchant,
                item=args.item,
                cost=args.cost,
                chat_pk=await _chat_pk(s, deps, args.platform, args.chat),
                created_at=now,
            )
            s.add(reward)
            await s.flush()
            print(f"已添加 / added: {_line(reward, await _chat(s, reward))}")
        return 0
    if args.action == "disable":
        async with deps.db.write() as s:
            reward = await s.get(Reward, int(args.id)) if (args.id or "").isdigit() else None
            if reward is None:
                print(f"没有该奖励 / no reward {args.id}")
                return 1
            reward.active = False
            print(f"已下架 / withdrawn: {_line(reward, await _chat(s, reward))}")
        return 0
    if args.action == "import":
        return await _import(deps, Path(args.id or ""))
    async with deps.db.read() as s:
        for reward in await ledger.all_rewards(s):
            if reward.active or args.all:
                print(_line(reward, await _chat(s, reward)))
    return 0


async def _chat(s, reward: Reward) -> Chat | None:
    return await s.get(Chat, reward.chat_pk) if reward.chat_pk else None


async def _import(deps: Deps, path: Path) -> int:
    """A TOML file the admin keeps (`[[reward]] merchant, item, cost, chat?, platform?`): each
    reward is added, or its cost updated and put back on offer; the file is the truth."""
    if not await asyncio.to_thread(path.is_file):
        print(f"没有文件 / no such file: {path}")
        return 2
    raw = tomllib.loads(await asyncio.to_thread(path.read_text, "utf-8"))
    now, count = deps.clock(), 0
    async with deps.db.write() as s:
        for item in raw.get("reward", []):
            chat_pk = await _chat_pk(s, deps, item.get("platform", "telegram"), item.get("chat"))
            found = (
                await s.execute(
                    select(Reward).where(
                        Reward.merchant == item["merchant"],
                        Reward.item == item["item"],
                        Reward.chat_pk.is_(None) if chat_pk is None else Reward.chat_pk == chat_pk,
                    )
                )
            ).scalar_one_or_none()
            if found is None:
                found = Reward(merchant=item["merchant"], item=item["item"], cost=0, created_at=now)
                found.chat_pk = chat_pk
                s.add(found)
            found.cost, found.active = int(item["cost"]), bool(item.get("active", True))
            count += 1
    print(f"已导入 {count} 项 / imported {count} rewards")
    return 0


async def _members(deps: Deps, args: argparse.Namespace) -> int:
    async with deps.db.write() as s:
        member = await repo.find_member(s, args.platform, args.user)
        if member is None:
            print(f"没见过此人 / unknown rider {args.platform}:{args.user}")
            return 1
        member.company = args.company[:64]
        print(f"{member.name}\t{member.company}")
    return 0


async def _report(deps: Deps, args: argparse.Namespace) -> int:
    people, firms = await commendation.gather(deps, args.year)
    header, rows = commendation.tables(people, firms, args.top)
    out = Path(args.out)
    await asyncio.to_thread(commendation.write, out, header, rows)
    print(f"{out}: {len(people)} 人 riders, {len(firms)} 单位 companies")
    return 0
