"""Operator commands: `woodpecker roles …`, `woodpecker invite …`, `woodpecker tickets show N`."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.settings import Settings
from handlers import roles, tickets
from handlers.deps import Deps
from storage.db import Database
from storage.media import MediaStore
from storage.migrate import upgrade


@asynccontextmanager
async def operator_deps(settings: Settings) -> AsyncIterator[Deps]:
    """The core's dependencies for one command-line command, on a migrated database."""
    await upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        yield Deps(db=db, media=MediaStore(settings.media_dir), config=settings.core())
    finally:
        await db.dispose()


def add_parsers(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("roles", help="grant, revoke or list roles (secretary, official, admin)")
    r.add_argument("action", choices=["grant", "revoke", "list"])
    r.add_argument("--role", choices=roles.ROLES, default="secretary")
    r.add_argument("--platform", default="telegram")
    r.add_argument("--user", help="the person's platform user id")
    r.add_argument("--chat", help="the group's chat id (omit for a role everywhere)")
    r.add_argument("--name", help="the person's name, if the bot has not seen them yet")
    i = sub.add_parser("invite", help="a one-time code; the person sends /claim CODE in the group")
    i.add_argument("role", choices=["secretary"])
    i.add_argument("--chat", required=True)
    i.add_argument("--platform", default="telegram")
    i.add_argument("--days", type=int, default=3, help="how long the code stays valid")
    t = sub.add_parser("tickets", help="look at tickets")
    t.add_argument("action", choices=["show"])
    t.add_argument("number", type=int)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    async with operator_deps(settings) as deps:
        return await _dispatch(deps, args)


async def _dispatch(deps: Deps, args: argparse.Namespace) -> int:
    from datetime import timedelta

    if args.cmd == "roles":
        if args.action == "list":
            for line in await roles.list_roles(deps):
                print(line)
            return 0
        if not args.user:
            print("--user is required / 需要 --user")
            return 2
        if args.role == "secretary" and not args.chat:
            print("a secretary belongs to a group: give --chat / 书记需指定 --chat")
            return 2
        if args.action == "grant":
            new = await roles.grant_role(
                deps, args.platform, args.user, args.role, args.chat, args.name
            )
            print("granted / 已授予" if new else "already held / 已有该角色")
            return 0
        gone = await roles.revoke_role(deps, args.platform, args.user, args.role, args.chat)
        print("revoked / 已撤销" if gone else "not held / 没有该角色")
        return 0 if gone else 1
    if args.cmd == "invite":
        code = await roles.make_invite(
            deps, args.platform, args.chat, args.role, timedelta(days=args.days)
        )
        print(f"{code}\n在群里发送 / send in the group: /claim {code}  (领取 {code})")
        return 0
    async with deps.db.read() as s:
        text = await tickets.describe(s, deps, args.number)
    if text is None:
        print(f"no ticket #{args.number} / 没有工单 #{args.number}")
        return 1
    print(text)
    return 0


async def open311(settings: Settings, args: argparse.Namespace) -> int:
    """`woodpecker open311 key create|list|revoke`: a key is shown once, only its hash kept."""
    from handlers import open311 as o

    async with operator_deps(settings) as deps:
        if args.action == "list":
            for line in await o.list_keys(deps):
                print(line)
            return 0
        if args.action == "revoke":
            if args.id is None:
                print("--id is required / 需要 --id")
                return 2
            gone = await o.revoke_key(deps, args.id)
            print("revoked / 已停用" if gone else "no such live key / 没有该密钥")
            return 0 if gone else 1
        if not (args.name and args.chat):
            print("--name and --chat are required / 需要 --name 和 --chat")
            return 2
        key = await o.create_key(deps, args.name, args.platform, args.chat)
        print(f"{key}\n只显示这一次，请妥善保存 / shown once: keep it safe (api_key=…)")
        return 0
