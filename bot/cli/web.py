"""`woodpecker web` (the desk alone, e.g. beside a read-mostly replica) and
`woodpecker open311 key create|list|revoke` (keys of city systems posting Open311 reports)."""

from __future__ import annotations

import argparse

from bot.cli import common
from bot.settings import Settings


def register(sub: argparse._SubParsersAction) -> None:
    db = [common.database_options()]
    w = sub.add_parser("web", help="run the web desk alone (WEB_PORT, default 8080)", parents=db)
    w.add_argument("--port", type=int, help="instead of WEB_PORT")
    w.set_defaults(run=run_web)
    o = sub.add_parser(
        "open311", help="API keys of city systems posting Open311 reports", parents=db
    )
    o.add_argument("what", choices=["key"])
    o.add_argument("action", choices=["create", "list", "revoke"])
    o.add_argument("--name", help="the system's name, e.g. 12345热线")
    o.add_argument("--chat", help="the group whose secretary runs its reports")
    o.add_argument("--platform", default="telegram")
    o.add_argument("--id", type=int, help="the key to revoke")
    o.set_defaults(run=run_open311)


async def run_web(settings: Settings, args: argparse.Namespace) -> int:
    from bot.web.server import run_alone

    settings = common.on_database(settings, args)
    if args.port is not None:
        settings = settings.model_copy(update={"web_port": args.port})
    return await run_alone(settings)


async def run_open311(settings: Settings, args: argparse.Namespace) -> int:
    """A key is shown once; only its hash is kept."""
    from handlers import open311 as o

    if args.action == "revoke" and args.id is None:
        raise common.CliError("需要 --id / --id is required")
    if args.action == "create" and not (args.name and args.chat):
        raise common.CliError("需要 --name 和 --chat / --name and --chat are required")
    async with common.operator_deps(common.on_database(settings, args)) as deps:
        if args.action == "list":
            for line in await o.list_keys(deps):
                print(line)
            return 0
        if args.action == "revoke":
            gone = await o.revoke_key(deps, args.id)
            print("revoked / 已停用" if gone else "no such live key / 没有该密钥")
            return 0 if gone else 1
        key = await o.create_key(deps, args.name, args.platform, args.chat)
        print(f"{key}\n只显示这一次，请妥善保存 / shown once: keep it safe (api_key=…)")
        return 0
