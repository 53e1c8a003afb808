"""The year-end commendation (年度表彰): top riders and top companies/stations, by points and by
resolved reports, with counts per category. `woodpecker report commendation --year 2026`."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from handlers import categories, workflow
from handlers import points_rules as pr
from handlers.deps import Deps
from storage import ledger

NO_COMPANY = "（未填写）"
HEADER = [
    "榜单 List",
    "名次 Rank",
    "姓名 Name",
    "账号 Account",
    "公司/站点 Company",
    "人数 Riders",
    "积分 Points",
    "已解决上报 Resolved reports",
]


@dataclass
class Row:
    name: str
    account: str = ""
    company: str = ""
    riders: int = 1
    points: int = 0
    resolved: int = 0
    by_category: Counter = field(default_factory=Counter)


async def gather(deps: Deps, year: int) -> tuple[list[Row], list[Row]]:
    """Every rider with points or a resolved report in the year, and the same per company."""
    start, end = pr.year_bounds(year, deps.config.timezone)
    async with deps.db.read() as s:
        points = await ledger.points_by_member(s, pr.RANKED, start, end)
        resolved = await ledger.resolved_by_member(
            s, (workflow.RESOLVED, workflow.CLOSED), start, end
        )
        members = await ledger.members_by_id(s, [*points, *(pk for pk, _, _ in resolved)])
    people: dict[int, Row] = {}
    for pk, member in members.items():
        people[pk] = Row(
            name=member.name,
            account=f"{member.platform}:{member.user_id}",
            company=member.company or NO_COMPANY,
            points=points.get(pk, 0),
        )
    for pk, category, n in resolved:
        people[pk].resolved += n
        people[pk].by_category[category] += n
    firms: dict[str, Row] = defaultdict(lambda: Row(name="", riders=0))
    for row in people.values():
        firm = firms[row.company]
        firm.name = firm.company = row.company
        firm.riders += 1
        firm.points += row.points
        firm.resolved += row.resolved
        firm.by_category.update(row.by_category)
    return list(people.values()), list(firms.values())


def tables(people: list[Row], firms: list[Row], top: int) -> tuple[list[str], list[list]]:
    """One header and the rows of the four lists: riders and companies, by points and by
    resolved reports, each with its counts per category."""
    seen = {c for r in people for c in r.by_category}
    names = [c.name for c in categories.all_categories()] + [categories.OTHER]
    cats = [c for c in names if c in seen] + sorted(seen - set(names))
    header = HEADER + cats
    rows: list[list] = []
    lists = (
        ("个人·积分 Riders by points", people, lambda r: (-r.points, -r.resolved, r.name)),
        ("个人·上报 Riders by resolved", people, lambda r: (-r.resolved, -r.points, r.name)),
        ("单位·积分 Companies by points", firms, lambda r: (-r.points, -r.resolved, r.name)),
        ("单位·上报 Companies by resolved", firms, lambda r: (-r.resolved, -r.points, r.name)),
    )
    for title, source, key in lists:
        for rank, r in enumerate(sorted(source, key=key)[:top], 1):
            is_person = source is people
            rows.append(
                [
                    title,
                    rank,
                    r.name if is_person else "",
                    r.account,
                    r.company,
                    "" if is_person else r.riders,
                    r.points,
                    r.resolved,
                ]
                + [r.by_category.get(c, 0) for c in cats]
            )
    return header, rows


def write(path: Path, header: list[str], rows: list[list]) -> None:
    """XLSX (one sheet per list) or CSV (one table, the list named in the first column)."""
    if path.suffix.lower() == ".csv":
        with path.open("w", newline="", encoding="utf-8-sig") as f:  # -sig: Excel reads UTF-8
            out = csv.writer(f)
            out.writerow(header)
            out.writerows(rows)
        return
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title in dict.fromkeys(r[0] for r in rows) or ["—"]:
        sheet = book.create_sheet(title.split(" ")[0].replace("·", "-"))
        sheet.append(header[1:])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r in rows:
            if r[0] == title:
                sheet.append(r[1:])
        sheet.freeze_panes = "A2"
    book.save(path)
