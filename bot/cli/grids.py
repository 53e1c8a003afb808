"""`woodpecker grids import FILE | list` and `woodpecker stations import FILE | list`."""

from __future__ import annotations

import argparse

from bot.cli import common
from bot.settings import Settings
from handlers.geo import grids, stations


def register(sub: argparse._SubParsersAction) -> None:
    db = [common.database_options()]
    g = sub.add_parser(
        "grids", help="load the grids file (网格/街道/区) or list the grids", parents=db
    )
    g.add_argument("action", choices=["import", "list"])
    g.add_argument("file", nargs="?", help="GeoJSON FeatureCollection (import)")
    s = sub.add_parser(
        "stations", help="load the rest stations file (CSV or GeoJSON) or list them", parents=db
    )
    s.add_argument("action", choices=["import", "list"])
    s.add_argument("file", nargs="?", help="CSV or GeoJSON (import)")
    for p in (g, s):
        p.set_defaults(run=run)


async def run(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "import" and not args.file:
        raise common.CliError(f"需要文件 / a FILE is required: woodpecker {args.cmd} import FILE")
    async with common.operator_deps(common.on_database(settings, args)) as deps:
        if args.cmd == "grids":
            return await _grids(deps, args)
        return await _stations(deps, args)


async def _grids(deps, args: argparse.Namespace) -> int:
    if args.action == "list":
        lines = await grids.list_grids(deps)
        print("\n".join(lines) if lines else "还没有网格 / no grids loaded")
        return 0
    try:
        done = await grids.import_file(deps, args.file)
    except grids.GridFileError as e:
        print(f"没有导入，{len(e.problems)} 处问题 / nothing imported, {len(e.problems)} problems:")
        for problem in e.problems:
            print(f"  {problem}")
        return 1
    except OSError as e:
        print(f"读不了文件 / cannot read {args.file}: {e}")
        return 1
    counts = "、".join(f"{level} {n}" for level, n in done.by_level.items())
    print(f"已导入 {done.count} 个区域（{counts}） / imported {done.count} areas")
    return 0


async def _stations(deps, args: argparse.Namespace) -> int:
    if args.action == "list":
        lines = await stations.list_stations(deps)
        print("\n".join(lines) if lines else "还没有驿站 / no stations loaded")
        return 0
    try:
        count = await stations.import_file(deps, args.file)
    except stations.StationFileError as e:
        print(f"没有导入，{len(e.problems)} 处问题 / nothing imported, {len(e.problems)} problems:")
        for problem in e.problems:
            print(f"  {problem}")
        return 1
    except (OSError, UnicodeDecodeError) as e:
        print(f"读不了文件 / cannot read {args.file}: {e}")
        return 1
    print(f"已导入 {count} 个驿站 / imported {count} stations")
    return 0
