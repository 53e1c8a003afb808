"""The digest's numbers, counted by the database (SQL aggregation over indexed time ranges).

Every query is portable SQLAlchemy Core (SQLite and PostgreSQL); Python only merges a few
short result lists. A ticket counts as *open at the end of a week* when it was created before
the end and neither resolved nor closed (rejected, merged) before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, Member, PointEntry, Ticket

OPEN = ("new", "accepted", "dispatched")
CLOSED_UNRESOLVED = ("rejected", "duplicate")
CLUSTER_MIN = 3  # reports of one category within ~100 m in one week: a repeated problem
CLUSTER_GRID = 1000  # degrees × 1000: cells of about 110 m × 95 m at Shanghai's latitude
LIST_LIMIT = 10
# The spreadsheet lists overdue tickets in full up to this many (then says how many more).
OVERDUE_LIMIT = 500


@dataclass
class GroupRow:
    chat_pk: int
    title: str
    new: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0


@dataclass
class OverdueRow:
    id: int
    category: str
    group: str
    created_at: datetime
    status: str
    tier: int
    department: str | None


@dataclass
class ClusterRow:
    category: str
    lat: float
    lon: float
    count: int
    first_id: int
    last_id: int
    address: str | None


@dataclass
class ReporterRow:
    name: str
    reports: int
    resolved: int
    points: int = 0
    company: str | None = None


@dataclass
class CompanyRow:
    company: str
    reports: int
    reporters: int
    points: int = 0


@dataclass
class WeekNumbers:
    """One week of the programme, as officials read it."""

    week: str
    start: datetime
    end: datetime
    new: int = 0
    accepted: int = 0
    resolved: int = 0
    rejected: int = 0
    open: int = 0
    overdue: int = 0
    median_resolve: timedelta | None = None
    p90_resolve: timedelta | None = None
    # (week key, new, resolved), the four weeks before this one, then this one.
    history: list[tuple[str, int, int]] = field(default_factory=list)
    by_category: list[tuple[str, int, int]] = field(default_factory=list)  # (category, new, res.)
    by_group: list[GroupRow] = field(default_factory=list)
    overdue_list: list[OverdueRow] = field(default_factory=list)
    clusters: list[ClusterRow] = field(default_factory=list)
    reporters: list[ReporterRow] = field(default_factory=list)
    reporters_total: int = 0
    companies: list[CompanyRow] = field(default_factory=list)
    points: int = 0  # earned in the week (awards, shares, reversals, adjustments; not redeemed)
    # An area's digest (a street's, a district's): its name, and the streets side by side.
    area: str | None = None
    by_area: list[GroupRow] = field(default_factory=list)
    # The SQL conditions on Ticket that keep the counts to the area (none: everything).
    scope: tuple = ()


def _between(column, start: datetime, end: datetime):
    return and_(column >= start, column < end)


def _seconds(session: AsyncSession, earlier, later):
    """`later - earlier` in seconds, in this database's dialect."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def _count(session: AsyncSession, *where) -> int:
    return (await session.execute(select(func.count()).select_from(Ticket).where(*where))).scalar()


async def percentiles(
    session: AsyncSession,
    ps: tuple[float, ...],
    start: datetime,
    end: datetime,
    n: int,
    scope: tuple = (),
) -> list[timedelta | None]:
    """Nearest-rank percentiles of time to resolve over tickets resolved in [start, end):
    one sort in the database (a window function), only the wanted ranks come back."""
    if n == 0:
        return [None] * len(ps)
    ranks = [max(1, math.ceil(p * n)) for p in ps]
    duration = _seconds(session, Ticket.created_at, Ticket.resolved_at).label("d")
    ranked = (
        select(duration, func.row_number().over(order_by=duration).label("r"))
        .where(_between(Ticket.resolved_at, start, end), *scope)
        .subquery()
    )
    stmt = select(ranked.c.r, ranked.c.d).where(ranked.c.r.in_(set(ranks)))
    found = dict((await session.execute(stmt)).all())
    return [timedelta(seconds=round(found[r])) if found.get(r) is not None else None for r in ranks]


def open_at(end: datetime, scope: tuple = (), by: object = None):
    """Tickets open at `end`, as three disjoint selects that each read one covering index.
    `by`: a further column to carry (the street, for a district's side-by-side table)."""
    cols = (Ticket.id, Ticket.chat_pk, Ticket.created_at, *([by] if by is not None else []))
    before = and_(Ticket.created_at < end, *scope)
    return union_all(
        select(*cols).where(Ticket.status.in_(OPEN), before),
        select(*cols).where(Ticket.resolved_at >= end, before),
        # Closed unresolved: rejected or merged (a closed ticket was resolved first).
        select(*cols).where(Ticket.status.in_(CLOSED_UNRESOLVED), Ticket.closed_at >= end, before),
    ).subquery("open_at_end")


async def week_numbers(
    session: AsyncSession,
    week: str,
    start: datetime,
    end: datetime,
    history: list[tuple[str, datetime, datetime]],
    overdue_after: timedelta,
    area: tuple[str, str] | None = None,
) -> WeekNumbers:
    """Count one week [start, end); `history` is the earlier weeks to compare with. `area`
    (level, name): a street's or district's own numbers (tickets tagged in it at intake)."""
    scope = area_scope(area)
    w = WeekNumbers(week, start, end, area=area[1] if area else None, scope=scope)
    w.new = await _count(session, _between(Ticket.created_at, start, end), *scope)
    w.accepted = await _count(session, _between(Ticket.accepted_at, start, end), *scope)
    w.resolved = await _count(session, _between(Ticket.resolved_at, start, end), *scope)
    w.rejected = await _count(
        session, Ticket.status == "rejected", _between(Ticket.closed_at, start, end), *scope
    )
    w.median_resolve, w.p90_resolve = await percentiles(
        session, (0.5, 0.9), start, end, w.resolved, scope
    )
    await _history(session, w, [*history, (week, start, end)])
    groups = await _groups(session, w, end - overdue_after)
    if area is not None and area[0] == "区":
        await _streets(session, w, end - overdue_after)
    await _categories(session, w)
    await _overdue_list(session, w, end - overdue_after, groups)
    await _clusters(session, w)
    await _reporters(session, w)
    await _companies(session, w)
    return w


async def _history(session, w: WeekNumbers, weeks: list[tuple[str, datetime, datetime]]) -> None:
    # One range count per week and time: each reads a stretch of an index, nothing else.
    w.history = [
        (
            key,
            await _count(session, _between(Ticket.created_at, s, e), *w.scope),
            await _count(session, _between(Ticket.resolved_at, s, e), *w.scope),
        )
        for key, s, e in weeks
    ]


async def _counts_by(session, w: WeekNumbers, key, overdue_before: datetime) -> dict:
    """New, resolved, open and overdue per value of `key` (a group, a street)."""
    rows: dict = {}

    def row(value) -> GroupRow:
        return rows.setdefault(value, GroupRow(value if isinstance(value, int) else 0, ""))

    for name, column in (("new", Ticket.created_at), ("resolved", Ticket.resolved_at)):
        stmt = (
            select(key, func.count())
            .where(_between(column, w.start, w.end), *w.scope)
            .group_by(key)
        )
        for value, n in await session.execute(stmt):
            setattr(row(value), name, n)
    o = open_at(w.end, w.scope, by=None if key is Ticket.chat_pk else key)
    column = o.c[key.key]
    overdue = func.sum(case((o.c.created_at < overdue_before, 1), else_=0))
    for value, n, late in await session.execute(
        select(column, func.count(), overdue).group_by(column)
    ):
        row(value).open, row(value).overdue = n, int(late or 0)
    return rows


async def _groups(session, w: WeekNumbers, overdue_before: datetime) -> dict[int, GroupRow]:
    rows = await _counts_by(session, w, Ticket.chat_pk, overdue_before)
    if rows:
        titles = await session.execute(
            select(Chat.id, Chat.title, Chat.chat_id).where(Chat.id.in_(rows))
        )
        for chat_pk, title, chat_id in titles:
            rows[chat_pk].title = title or chat_id
    w.open = sum(r.open for r in rows.values())
    w.overdue = sum(r.overdue for r in rows.values())
    w.by_group = sorted(rows.values(), key=lambda r: (-r.new, -r.open, r.title))
    return rows


async def _categories(session, w: WeekNumbers) -> None:
    merged: dict[str, list[int]] = {}
    for i, column in enumerate((Ticket.created_at, Ticket.resolved_at)):
        stmt = (
            select(Ticket.category, func.count())
            .where(_between(column, w.start, w.end), *w.scope)
            .group_by(Ticket.category)
        )
        for category, n in await session.execute(stmt):
            merged.setdefault(category, [0, 0])[i] = n
    w.by_category = sorted(
        ((c, new, res) for c, (new, res) in merged.items()), key=lambda r: (-r[1], -r[2], r[0])
    )


async def _overdue_list(
    session, w: WeekNumbers, overdue_before: datetime, groups: dict[int, GroupRow]
) -> None:
    o = open_at(w.end, w.scope)
    ids = (
        select(o.c.id)
        .where(o.c.created_at < overdue_before)
        .order_by(o.c.created_at, o.c.id)
        .limit(OVERDUE_LIMIT)
    )
    stmt = (
        select(
            Ticket.id,
            Ticket.category,
            Ticket.chat_pk,
            Ticket.created_at,
            Ticket.status,
            Ticket.tier,
            Ticket.department,
        )
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.created_at, Ticket.id)
        .limit(OVERDUE_LIMIT)
    )
    w.overdue_list = [
        OverdueRow(
            tid,
            category,
            groups[chat_pk].title if chat_pk in groups else str(chat_pk),
            created,
            status,
            tier,
            dept,
        )
        for tid, category, chat_pk, created, status, tier, dept in await session.execute(stmt)
    ]


async def _clusters(session, w: WeekNumbers) -> None:
    cell_lat = cast(Ticket.lat * CLUSTER_GRID, Integer).label("cell_lat")
    cell_lon = cast(Ticket.lon * CLUSTER_GRID, Integer).label("cell_lon")
    n = func.count().label("n")
    stmt = (
        select(
            Ticket.category,
            cell_lat,
            cell_lon,
            n,
            func.min(Ticket.id),
            func.max(Ticket.id),
            func.max(Ticket.address),
            func.avg(Ticket.lat),
            func.avg(Ticket.lon),
        )
        .where(_between(Ticket.created_at, w.start, w.end), *w.scope)
        .group_by(Ticket.category, cell_lat, cell_lon)
        .having(func.count() >= CLUSTER_MIN)
        .order_by(n.desc(), func.min(Ticket.id))
        .limit(LIST_LIMIT)
    )
    w.clusters = [
        ClusterRow(category, lat, lon, count, first, last, address)
        for category, _, _, count, first, last, address, lat, lon in await session.execute(stmt)
    ]


async def _reporters(session, w: WeekNumbers) -> None:
    in_week = and_(_between(Ticket.created_at, w.start, w.end), *w.scope)
    w.reporters_total = (
        await session.execute(select(func.count(func.distinct(Ticket.reporter_pk))).where(in_week))
    ).scalar()
    reports = func.count().label("reports")
    resolved = func.sum(case((Ticket.resolved_at < w.end, 1), else_=0)).label("resolved")
    top = (
        select(Ticket.reporter_pk, reports, resolved)
        .where(in_week)
        .group_by(Ticket.reporter_pk)
        .order_by(reports.desc(), resolved.desc(), Ticket.reporter_pk)
        .limit(LIST_LIMIT)
        .subquery()
    )
    stmt = (
        select(Member.id, Member.name, Member.company, top.c.reports, top.c.resolved)
        .join(top, top.c.reporter_pk == Member.id)
        .order_by(top.c.reports.desc(), top.c.resolved.desc(), Member.id)
    )
    rows = list(await session.execute(stmt))
    points = dict(
        (
            await session.execute(
                select(PointEntry.member_pk, func.sum(PointEntry.delta))
                .where(_earned(w), PointEntry.member_pk.in_([r[0] for r in rows]))
                .group_by(PointEntry.member_pk)
            )
        ).all()
    )
    w.reporters = [
        ReporterRow(name, n, int(res or 0), int(points.get(pk) or 0), company)
        for pk, name, company, n, res in rows
    ]


def _earned(w: WeekNumbers):
    """Points earned in the week in the groups: every ledger line but redemptions. Naming the
    groups lets the database read the ledger by its (group, time) index."""
    in_area = (PointEntry.ticket_id.in_(select(Ticket.id).where(*w.scope)),) if w.scope else ()
    return and_(
        PointEntry.chat_pk.in_(select(Chat.id)),
        _between(PointEntry.at, w.start, w.end),
        PointEntry.reason != "redeem",
        *in_area,
    )


async def _companies(session, w: WeekNumbers) -> None:
    w.points = int(
        (await session.execute(select(func.sum(PointEntry.delta)).where(_earned(w)))).scalar() or 0
    )
    reports = func.count().label("reports")
    stmt = (
        select(Member.company, reports, func.count(func.distinct(Ticket.reporter_pk)))
        .join(Member, Member.id == Ticket.reporter_pk)
        .where(_between(Ticket.created_at, w.start, w.end), Member.company.is_not(None), *w.scope)
        .group_by(Member.company)
        .order_by(reports.desc(), Member.company)
        .limit(LIST_LIMIT)
    )
    rows = [CompanyRow(c, n, people) for c, n, people in await session.execute(stmt)]
    if rows:
        stmt = (
            select(Member.company, func.sum(PointEntry.delta))
            .join(Member, Member.id == PointEntry.member_pk)
            .where(_earned(w), Member.company.in_([r.company for r in rows]))
            .group_by(Member.company)
        )
        points = dict((await session.execute(stmt)).all())
        for r in rows:
            r.points = int(points.get(r.company) or 0)
    w.companies = rows


def area_scope(area: tuple[str, str] | None) -> tuple:
    """The conditions that keep a digest to one street or district (by the names on tickets)."""
    if area is None:
        return ()
    level, name = area
    column = {"网格": Ticket.grid, "街道": Ticket.street, "区": Ticket.district}[level]
    return (column == name,)


async def _streets(session, w: WeekNumbers, overdue_before: datetime) -> None:
    """A district's streets side by side: new, resolved, open and overdue per street."""
    rows = await _counts_by(session, w, Ticket.street, overdue_before)
    for street, row in rows.items():
        row.title = street or "—"
    w.by_area = sorted(rows.values(), key=lambda r: (-r.new, -r.open, r.title))
