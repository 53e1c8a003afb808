"""Operator commands: `woodpecker roles …`, `woodpecker invite …`, `woodpecker tickets show N`."""

from __future__ import annotations

import argparse
from datetime import timedelta

from bot.cli import common
from bot.settings import Settings
from handlers import roles, tickets
from handlers.deps import Deps


def register(sub: argparse._SubParsersAction) -> None:
    db = [common.database_options()]
    r = sub.add_parser(
        "roles", help="grant, revoke or list roles (secretary, official, admin)", parents=db
    )
    r.add_argument("action", choices=["grant", "revoke", "list"])
    r.add_argument("--role", choices=roles.ROLES, default="secretary")
    r.add_argument("--platform", default="telegram")
    r.add_argument("--user", help="the person's platform user id")
    r.add_argument("--chat", help="the group's chat id (omit for a role everywhere)")
    r.add_argument("--name", help="the person's name, if the bot has not seen them yet")
    i = sub.add_parser(
        "invite", help="a one-time code; the person sends /claim CODE in the group", parents=db
    )
    i.add_argument("role", choices=["secretary"])
    i.add_argument("--chat", required=True)
    i.add_argument("--platform", default="telegram")
    i.add_argument("--days", type=int, default=3, help="how long the code stays valid")
    t = sub.add_parser("tickets", help="look at tickets", parents=db)
    t.add_argument("action", choices=["show"])
    t.add_argument("number", type=int)
    for p in (r, i, t):
        p.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    async with common.operator_deps(common.on_database(settings, args)) as deps:
        return await _dispatch(deps, args)


async def _dispatch(deps: Deps, args: argparse.Namespace) -> int:
    if args.cmd == "roles":
        if args.action == "list":
            for line in await roles.list_roles(deps):
                print(line)
            return 0
        if not args.user:
            raise common.CliError("需要 --user / --user is required")
        if args.role == "secretary" and not args.chat:
            raise common.CliError("书记需指定 --chat / a secretary belongs to a group: give --chat")
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
        raise common.CliError(f"没有工单 #{args.number} / no ticket #{args.number}", status=1)
    print(text)
    return 0
