"""The year-end commendation (年度表彰): top riders and top companies/stations, by points and by
resolved reports, with counts per category. `woodpecker report commendation --year 2026`.

`gather` reads the year from the database; `tables` lays out the four lists, each with the
header that fits it (a rider has a name and a company; a company has a head count), as an
official would print them; `handlers.sheets` turns them into XLSX or CSV.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from handlers import categories, workflow
from handlers import points_rules as pr
from handlers.deps import Deps
from handlers.i18n import t
from handlers.sheets import Table
from storage import ledger


@dataclass
class Row:
    name: str
    company: str | None = None
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
        people[pk] = Row(name=member.name, company=member.company, points=points.get(pk, 0))
    for pk, category, n in resolved:
        people[pk].resolved += n
        people[pk].by_category[category] += n
    firms: dict[str | None, Row] = defaultdict(lambda: Row(name="", riders=0))
    for row in people.values():
        firm = firms[row.company]
        firm.company = row.company
        firm.riders += 1
        firm.points += row.points
        firm.resolved += row.resolved
        firm.by_category.update(row.by_category)
    return list(people.values()), list(firms.values())


LISTS = (  # (title key, whose, ranked by)
    ("commend.people_points", "people", lambda r: (-r.points, -r.resolved, r.name)),
    ("commend.people_resolved", "people", lambda r: (-r.resolved, -r.points, r.name)),
    ("commend.firms_points", "firms", lambda r: (-r.points, -r.resolved, r.company or "")),
    ("commend.firms_resolved", "firms", lambda r: (-r.resolved, -r.points, r.company or "")),
)


def tables(people: list[Row], firms: list[Row], top: int, locale: str) -> list[Table]:
    """The four lists: riders and companies, by points and by resolved reports, each with its
    counts per category (in the order of the category file, then any others)."""
    seen = {c for r in people for c in r.by_category}
    names = [c.name for c in categories.all_categories()] + [categories.OTHER]
    cats = [c for c in names if c in seen] + sorted(seen - set(names))
    cat_labels = [categories.label(c, locale) for c in cats]
    no_company = t("commend.no_company", locale)
    h = lambda *keys: [t(k, locale) for k in keys]  # noqa: E731
    out = []
    for key, whose, rank in LISTS:
        title = t(key, locale)
        ranked = sorted(people if whose == "people" else firms, key=rank)[:top]
        if whose == "people":
            header = h("commend.rank", "commend.name", "commend.company")
            rows = [[n, r.name, r.company or no_company] for n, r in enumerate(ranked, 1)]
        else:
            header = h("commend.rank", "commend.company", "commend.riders")
            rows = [[n, r.company or no_company, r.riders] for n, r in enumerate(ranked, 1)]
        header += h("commend.points", "commend.resolved") + cat_labels
        for row, r in zip(rows, ranked, strict=True):
            row += [r.points, r.resolved] + [r.by_category.get(c, 0) for c in cats]
        out.append(Table(sheet=title.replace("·", "-"), header=header, rows=rows, title=title))
    return out
