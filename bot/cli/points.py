"""Operator commands for points: `woodpecker rewards add|list|disable|import`,
`woodpecker members set-company`, `woodpecker report commendation --year 2026 --out FILE`."""

from __future__ import annotations

import argparse
import asyncio
import tomllib
from pathlib import Path

from sqlalchemy import select

from bot.cli import common
from bot.settings import Settings
from handlers import commendation, sheets
from handlers.deps import Deps
from storage import ledger
from storage import repository as repo
from storage.models import Chat, Reward


def register(sub: argparse._SubParsersAction) -> None:
    db = [common.database_options()]
    r = sub.add_parser(
        "rewards",
        help="the rewards catalogue riders redeem points for",
        parents=[*db, common.progress_option()],
    )
    r.add_argument("action", choices=["add", "list", "disable", "import"])
    r.add_argument("id", nargs="?", help="disable: the reward's number; import: a TOML file")
    r.add_argument("--merchant", help="商户, e.g. 张记面馆")
    r.add_argument("--item", help="物品, e.g. 午餐")
    r.add_argument("--cost", type=int, help="积分 (points)")
    r.add_argument("--chat", help="offer it in this group only (omit: every group)")
    r.add_argument("--platform", default="telegram")
    r.add_argument("--all", action="store_true", help="list: withdrawn ones too")
    m = sub.add_parser("members", help="riders' details", parents=db)
    m.add_argument("action", choices=["set-company"])
    m.add_argument("--user", required=True, help="the rider's platform user id")
    m.add_argument("--platform", default="telegram")
    m.add_argument("--company", required=True, help="公司/站点, e.g. 美团友谊路站")
    p = sub.add_parser("report", help="reports for officials", parents=db)
    p.add_argument("kind", choices=["commendation"])
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", required=True, help="FILE.xlsx or FILE.csv")
    p.add_argument("--top", type=int, default=20, help="how many in each list")
    for parser in (r, m, p):
        parser.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    settings = common.on_database(settings, args)
    if args.cmd == "report" and Path(args.out).suffix.lower() not in (".xlsx", ".csv"):
        raise common.CliError(
            f"--out 应以 .xlsx 或 .csv 结尾 / --out must end in .xlsx or .csv: {args.out}"
        )
    async with common.operator_deps(settings) as deps:
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
            raise common.CliError(
                "需要 --merchant --item --cost / --merchant, --item and a positive --cost"
            )
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
                raise common.CliError(f"没有该奖励 / no reward {args.id}", status=1)
            reward.active = False
            print(f"已下架 / withdrawn: {_line(reward, await _chat(s, reward))}")
        return 0
    if args.action == "import":
        return await _import(deps, Path(args.id or ""), args)
    async with deps.db.read() as s:
        for reward in await ledger.all_rewards(s):
            if reward.active or args.all:
                print(_line(reward, await _chat(s, reward)))
    return 0


async def _chat(s, reward: Reward) -> Chat | None:
    return await s.get(Chat, reward.chat_pk) if reward.chat_pk else None


async def _import(deps: Deps, path: Path, args: argparse.Namespace) -> int:
    """A TOML file the admin keeps (`[[reward]] merchant, item, cost, chat?, platform?`): each
    reward is added, or its cost updated and put back on offer; the file is the truth."""
    if not await asyncio.to_thread(path.is_file):
        raise common.CliError(f"没有文件 / no such file: {path}")
    try:
        raw = tomllib.loads(await asyncio.to_thread(path.read_text, "utf-8"))
        items = list(raw.get("reward", []))
        bad = next((i for i in items if not {"merchant", "item", "cost"} <= set(i)), None)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError) as e:
        raise common.CliError(f"{path} 不是奖励目录 / {path} is not a rewards file: {e}") from None
    if bad is not None:
        raise common.CliError(
            f"{path}: 每项要有 merchant、item、cost / every [[reward]] needs merchant, item "
            f"and cost: {bad}"
        )
    now, count = deps.clock(), 0
    progress = common.Progress.for_args(args, f"奖励 rewards ← {path}", len(items))
    async with deps.db.write() as s:
        for item in items:
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
            progress(count)
    progress.finish()
    print(f"已导入 {count} 项 / imported {count} rewards")
    return 0


async def _members(deps: Deps, args: argparse.Namespace) -> int:
    async with deps.db.write() as s:
        member = await repo.find_member(s, args.platform, args.user)
        if member is None:
            raise common.CliError(
                f"没见过此人 / unknown rider {args.platform}:{args.user}", status=1
            )
        member.company = args.company[:64]
        print(f"{member.name}\t{member.company}")
    return 0


async def _report(deps: Deps, args: argparse.Namespace) -> int:
    people, firms = await commendation.gather(deps, args.year)
    tables = commendation.tables(people, firms, args.top, deps.config.locale)
    out = Path(args.out)
    render = sheets.csv_bytes if out.suffix.lower() == ".csv" else sheets.xlsx
    data = await asyncio.to_thread(render, tables)
    await asyncio.to_thread(out.write_bytes, data)
    print(f"{out}: {len(people)} 人 riders, {len(firms)} 单位 companies")
    return 0
