"""Queries for points, rewards and redemption codes, each on the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Member,
    Photo,
    PointEntry,
    Redemption,
    Reward,
    Role,
    Ticket,
    phash_bands,
)
from storage.repository import insert_new

PENDING, CONFIRMED, EXPIRED = "pending", "confirmed", "expired"


async def add_entry(session: AsyncSession, **values) -> bool:
    """Append one ledger line; False when the unique constraints say it is already there."""
    return await insert_new(session, PointEntry, **values)


async def balance(session: AsyncSession, member_pk: int) -> int:
    stmt = select(func.coalesce(func.sum(PointEntry.delta), 0)).where(
        PointEntry.member_pk == member_pk
    )
    return int((await session.execute(stmt)).scalar_one())


async def balances(session: AsyncSession, member_pks: Iterable[int]) -> dict[int, int]:
    pks = list(set(member_pks))
    stmt = (
        select(PointEntry.member_pk, func.sum(PointEntry.delta))
        .where(PointEntry.member_pk.in_(pks))
        .group_by(PointEntry.member_pk)
    )
    found = {pk: int(total) for pk, total in (await session.execute(stmt)).all()}
    return {pk: found.get(pk, 0) for pk in pks}


async def recent(session: AsyncSession, member_pk: int, limit: int) -> list[PointEntry]:
    stmt = (
        select(PointEntry)
        .where(PointEntry.member_pk == member_pk)
        .order_by(PointEntry.id.desc())
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def earned_since(
    session: AsyncSession, member_pks: Iterable[int], reasons: tuple[str, ...], since: datetime
) -> dict[int, int]:
    stmt = (
        select(PointEntry.member_pk, func.sum(PointEntry.delta))
        .where(
            PointEntry.member_pk.in_(list(member_pks)),
            PointEntry.reason.in_(reasons),
            PointEntry.at >= since,
        )
        .group_by(PointEntry.member_pk)
    )
    return {pk: int(total) for pk, total in (await session.execute(stmt)).all()}


async def entries_on(
    session: AsyncSession, ticket_ids: Iterable[int], reasons: tuple[str, ...]
) -> list[PointEntry]:
    stmt = (
        select(PointEntry)
        .where(PointEntry.ticket_id.in_(list(ticket_ids)), PointEntry.reason.in_(reasons))
        .order_by(PointEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def duplicates_of(session: AsyncSession, ticket_id: int) -> list[Ticket]:
    stmt = select(Ticket).where(Ticket.duplicate_of == ticket_id).order_by(Ticket.id)
    return list((await session.execute(stmt)).scalars())


async def held(session: AsyncSession, member_pk: int, now: datetime) -> int:
    """Points promised to codes not yet confirmed nor expired."""
    stmt = select(func.coalesce(func.sum(Redemption.cost), 0)).where(
        Redemption.member_pk == member_pk,
        Redemption.status == PENDING,
        Redemption.expires_at > now,
    )
    return int((await session.execute(stmt)).scalar_one())


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Mark codes past their time as expired; they never touched the ledger."""
    result = await session.execute(
        update(Redemption)
        .where(Redemption.status == PENDING, Redemption.expires_at <= now)
        .values(status=EXPIRED)
    )
    return result.rowcount or 0


async def redemption_for_update(session: AsyncSession, code: str) -> Redemption | None:
    stmt = select(Redemption).where(Redemption.code == code.upper()).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def code_taken(session: AsyncSession, code: str) -> bool:
    stmt = select(Redemption.id).where(Redemption.code == code)
    return (await session.execute(stmt)).first() is not None


async def rewards_for(session: AsyncSession, chat_pk: int | None) -> list[Reward]:
    """Active rewards offered here: this group's own and those offered everywhere."""
    where = Reward.chat_pk.is_(None)
    if chat_pk is not None:
        where = where | (Reward.chat_pk == chat_pk)
    stmt = select(Reward).where(Reward.active.is_(True), where).order_by(Reward.cost, Reward.id)
    return list((await session.execute(stmt)).scalars())


async def all_rewards(session: AsyncSession) -> list[Reward]:
    return list((await session.execute(select(Reward).order_by(Reward.id))).scalars())


async def rank(
    session: AsyncSession, chat_pk: int, reasons: tuple[str, ...], since: datetime, limit: int
) -> list[tuple[Member, int]]:
    total = func.sum(PointEntry.delta).label("total")
    stmt = (
        select(Member, total)
        .join(PointEntry, PointEntry.member_pk == Member.id)
        .where(
            PointEntry.chat_pk == chat_pk,
            PointEntry.reason.in_(reasons),
            PointEntry.at >= since,
        )
        .group_by(Member.id)
        .having(total > 0)
        .order_by(total.desc(), Member.id)
        .limit(limit)
    )
    return [(m, int(n)) for m, n in (await session.execute(stmt)).all()]


async def reachable_secretaries(session: AsyncSession, chat_pk: int) -> list[Member]:
    """This group's secretaries who started the bot privately (so can be told privately)."""
    stmt = (
        select(Member)
        .join(Role, Role.member_pk == Member.id)
        .where(
            Role.chat_pk == chat_pk,
            Role.role.in_(("secretary", "admin")),
            Member.private_chat_id.is_not(None),
        )
        .distinct()
        .order_by(Member.id)
    )
    return list((await session.execute(stmt)).scalars())


async def photo_hashes(session: AsyncSession, ticket_id: int) -> list[str]:
    stmt = select(Photo.phash).where(Photo.ticket_id == ticket_id, Photo.phash.is_not(None))
    return list((await session.execute(stmt)).scalars())


async def earlier_photo_hashes(
    session: AsyncSession, ticket_id: int, hashes: list[str]
) -> list[tuple[int, str]]:
    """(ticket, hash) of photos on earlier tickets, in any group, oldest first, that share a
    slice with one of `hashes`: every near copy is among them, found through the indexes."""
    share = or_(
        *(getattr(Photo, column) == band for h in hashes for column, band in phash_bands(h).items())
    )
    stmt = (
        select(Photo.ticket_id, Photo.phash)
        .where(share, Photo.ticket_id < ticket_id)
        .order_by(Photo.ticket_id)
    )
    return [(t, h) for t, h in (await session.execute(stmt)).all()]


async def members_named(session: AsyncSession, platform: str, name: str) -> list[Member]:
    stmt = select(Member).where(Member.platform == platform, Member.name == name)
    return list((await session.execute(stmt)).scalars())


async def points_by_member(
    session: AsyncSession, reasons: tuple[str, ...], start: datetime, end: datetime
) -> dict[int, int]:
    stmt = (
        select(PointEntry.member_pk, func.sum(PointEntry.delta))
        .where(PointEntry.reason.in_(reasons), PointEntry.at >= start, PointEntry.at < end)
        .group_by(PointEntry.member_pk)
    )
    return {pk: int(n) for pk, n in (await session.execute(stmt)).all()}


async def resolved_by_member(
    session: AsyncSession, statuses: tuple[str, ...], start: datetime, end: datetime
) -> list[tuple[int, str, int]]:
    """(reporter, category, count) of reports resolved in [start, end), recycled ones left out."""
    stmt = (
        select(Ticket.reporter_pk, Ticket.category, func.count(Ticket.id))
        .where(
            Ticket.status.in_(statuses),
            Ticket.resolved_at >= start,
            Ticket.resolved_at < end,
            Ticket.recycled_of.is_(None),
        )
        .group_by(Ticket.reporter_pk, Ticket.category)
    )
    return [(pk, cat, int(n)) for pk, cat, n in (await session.execute(stmt)).all()]


async def members_by_id(session: AsyncSession, pks: Iterable[int]) -> dict[int, Member]:
    rows = await session.execute(select(Member).where(Member.id.in_(list(set(pks)))))
    return {m.id: m for m in rows.scalars()}
