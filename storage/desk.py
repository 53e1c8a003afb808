"""Queries of the desk: tickets by filter (SQL WHERE, LIMIT/OFFSET), one ticket whole, photos.

`scope`: the groups whose tickets a person may see, or None for all of them (an admin).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import BEFORE, Chat, Member, Photo, Ticket

OPEN = ("new", "accepted", "dispatched")
CLOSED = ("resolved", "closed", "rejected", "duplicate")
STATES = (*OPEN, *CLOSED)
SORTS = {
    "new": (Ticket.id.desc(),),
    "old": (Ticket.id.asc(),),
    "updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
    "category": (Ticket.category, Ticket.id.desc()),
    "state": (Ticket.status, Ticket.id.desc()),
    "group": (Ticket.chat_pk, Ticket.id.desc()),
}


@dataclass(frozen=True)
class Filters:
    state: str = "open"  # "open", "closed", "all" or one status
    category: str | None = None
    chat_pk: int | None = None
    tier: int | None = None
    min_age_days: int | None = None  # reported at least this many days ago
    overdue: bool = False  # open past the resolve SLA
    number: int | None = None
    sort: str = "new"
    numbers: tuple[int, ...] = ()  # any of these (Open311's service_request_id list)
    categories: tuple[str, ...] = ()  # any of these (Open311's service_code list)
    states: tuple[str, ...] = ()  # any of these statuses
    since: datetime | None = None  # reported at or after
    until: datetime | None = None  # reported before


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    group: str | None
    reporter: str


@dataclass(frozen=True)
class Seen:
    """What a person sees who is neither admin nor everywhere: some groups' tickets, and the
    tickets lying in some areas (a street's officials: (level, name) as tagged at intake)."""

    groups: frozenset[int] = frozenset()
    areas: tuple[tuple[str, str], ...] = ()


Scope = Seen | frozenset | None

AREA_COLUMNS = {"网格": Ticket.grid, "街道": Ticket.street, "区": Ticket.district}


def visible(scope: Scope):
    """The condition on Ticket for `scope` (None: no condition, everything)."""
    if scope is None:
        return None
    seen = scope if isinstance(scope, Seen) else Seen(frozenset(scope))
    conds = [Ticket.chat_pk.in_(sorted(seen.groups))] if seen.groups else []
    conds += [AREA_COLUMNS[level] == name for level, name in seen.areas]
    return or_(*conds) if conds else false()


def _where(f: Filters, scope: Scope, now: datetime, overdue_after: timedelta):
    conds = []
    if scope is not None:
        conds.append(visible(scope))
    if f.number is not None:
        conds.append(Ticket.id == f.number)
    if f.numbers:
        conds.append(Ticket.id.in_(f.numbers))
    if f.categories:
        conds.append(Ticket.category.in_(f.categories))
    if f.states:
        conds.append(Ticket.status.in_(f.states))
    if f.since is not None:
        conds.append(Ticket.created_at >= f.since)
    if f.until is not None:
        conds.append(Ticket.created_at < f.until)
    if f.state == "open":
        conds.append(Ticket.status.in_(OPEN))
    elif f.state == "closed":
        conds.append(Ticket.status.in_(CLOSED))
    elif f.state in STATES:
        conds.append(Ticket.status == f.state)
    if f.category:
        conds.append(Ticket.category == f.category)
    if f.chat_pk is not None:
        conds.append(Ticket.chat_pk == f.chat_pk)
    if f.tier is not None:
        conds.append(Ticket.tier == f.tier)
    if f.min_age_days:
        conds.append(Ticket.created_at <= now - timedelta(days=f.min_age_days))
    if f.overdue:
        conds += [Ticket.status.in_(OPEN), Ticket.created_at < now - overdue_after]
    return conds


async def ticket_page(
    session: AsyncSession,
    scope: Scope,
    f: Filters,
    now: datetime,
    overdue_after: timedelta,
    limit: int,
    offset: int = 0,
) -> tuple[list[Row], int]:
    """One page of tickets and how many match in all."""
    where = _where(f, scope, now, overdue_after)
    total = (await session.execute(select(func.count(Ticket.id)).where(*where))).scalar_one()
    rows = await ticket_rows(session, scope, f, now, overdue_after, limit, offset)
    return rows, total


async def ticket_rows(
    session: AsyncSession,
    scope: Scope,
    f: Filters,
    now: datetime,
    overdue_after: timedelta,
    limit: int,
    offset: int = 0,
) -> list[Row]:
    stmt = (
        select(Ticket, Chat.title, Member.name)
        .join(Chat, Chat.id == Ticket.chat_pk)
        .join(Member, Member.id == Ticket.reporter_pk)
        .where(*_where(f, scope, now, overdue_after))
        .order_by(*SORTS.get(f.sort, SORTS["new"]))
        .limit(limit)
        .offset(offset)
    )
    return [Row(t, title, name) for t, title, name in (await session.execute(stmt)).all()]


async def map_points(
    session: AsyncSession,
    scope: Scope,
    f: Filters,
    now: datetime,
    overdue_after: timedelta,
    limit: int,
) -> list[tuple[int, float, float, str, str]]:
    """(number, lat, lon, status, category) of the newest matching tickets, at most `limit`."""
    stmt = (
        select(Ticket.id, Ticket.lat, Ticket.lon, Ticket.status, Ticket.category)
        .where(*_where(f, scope, now, overdue_after))
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def groups(session: AsyncSession, scope: Scope) -> list[tuple[int, str]]:
    """(chat pk, title) of the groups a person may pick from (for an area: those with tickets
    there)."""
    stmt = select(Chat.id, Chat.title, Chat.chat_id).where(Chat.is_group.is_(True))
    if scope is not None:
        seen = scope if isinstance(scope, Seen) else Seen(frozenset(scope))
        conds = [Chat.id.in_(sorted(seen.groups))] if seen.groups else []
        if seen.areas:
            in_area = or_(*(AREA_COLUMNS[level] == name for level, name in seen.areas))
            conds.append(Chat.id.in_(select(Ticket.chat_pk).where(in_area).distinct()))
        stmt = stmt.where(or_(*conds) if conds else false())
    rows = (await session.execute(stmt.order_by(Chat.title, Chat.id))).all()
    return [(pk, title or chat_id) for pk, title, chat_id in rows]


async def ticket_whole(session: AsyncSession, number: int) -> tuple[Ticket, Chat, Member] | None:
    stmt = (
        select(Ticket, Chat, Member)
        .join(Chat, Chat.id == Ticket.chat_pk)
        .join(Member, Member.id == Ticket.reporter_pk)
        .where(Ticket.id == number)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1], row[2]) if row else None


async def photos(session: AsyncSession, ticket_id: int) -> list[Photo]:
    stmt = select(Photo).where(Photo.ticket_id == ticket_id).order_by(Photo.id)
    return list((await session.execute(stmt)).scalars())


async def first_photo_path(session: AsyncSession, ticket_id: int) -> str | None:
    """The report's first photo (its display copy), the "before" of a before/after pair."""
    stmt = (
        select(Photo.path)
        .where(Photo.ticket_id == ticket_id, Photo.kind == BEFORE)
        .order_by(Photo.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar()


async def merged_into(session: AsyncSession, ticket_id: int) -> list[tuple[Ticket, str]]:
    """Reports merged into this one as duplicates (重复), with their reporters' names."""
    stmt = (
        select(Ticket, Member.name)
        .join(Member, Member.id == Ticket.reporter_pk)
        .where(Ticket.duplicate_of == ticket_id)
        .order_by(Ticket.id)
    )
    return [(t, name) for t, name in (await session.execute(stmt)).all()]


async def photo_with_chat(session: AsyncSession, photo_id: int) -> tuple[Photo, int] | None:
    """A photo and the group of its ticket (None for a photo on no ticket)."""
    stmt = (
        select(Photo, Ticket.chat_pk)
        .join(Ticket, Ticket.id == Photo.ticket_id)
        .where(Photo.id == photo_id)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def public_photos(session: AsyncSession, ticket_ids: list[int]) -> dict[int, int]:
    """Each ticket's first photo cleared for the public: ticket id → photo id."""
    if not ticket_ids:
        return {}
    stmt = (
        select(Photo.ticket_id, func.min(Photo.id))
        .where(Photo.ticket_id.in_(ticket_ids), Photo.public.is_(True))
        .group_by(Photo.ticket_id)
    )
    return dict((await session.execute(stmt)).all())


async def public_photo(session: AsyncSession, photo_id: int) -> Photo | None:
    stmt = select(Photo).where(Photo.id == photo_id, Photo.public.is_(True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def ticket_by_card(
    session: AsyncSession, platform: str, chat_id: str, message_id: str
) -> int | None:
    """The ticket whose card is this message of this chat."""
    stmt = (
        select(Ticket.id)
        .join(Chat, Chat.id == Ticket.chat_pk)
        .where(
            Chat.platform == platform,
            Chat.chat_id == chat_id,
            Ticket.card_message_id == message_id,
        )
    )
    return (await session.execute(stmt)).scalar()


async def photo_with_ticket(session: AsyncSession, photo_id: int) -> tuple[Photo, Ticket] | None:
    """A photo and its ticket (None for a photo on no ticket)."""
    stmt = (
        select(Photo, Ticket).join(Ticket, Ticket.id == Photo.ticket_id).where(Photo.id == photo_id)
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None
