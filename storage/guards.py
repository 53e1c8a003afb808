"""Queries behind the intake's pairing rule and the rate limits (handlers/pairing.py, limits.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Photo, RateEvent, Ticket


async def count_events(session: AsyncSession, kind: str, key: str, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(RateEvent)
        .where(RateEvent.kind == kind, RateEvent.key == key, RateEvent.at >= since)
    )
    return (await session.execute(stmt)).scalar_one()


def add_event(session: AsyncSession, kind: str, key: str, at: datetime) -> None:
    session.add(RateEvent(kind=kind, key=key, at=at))


async def forget_events(session: AsyncSession, kind: str, key: str, before: datetime) -> None:
    """Rows older than any window that counts them."""
    await session.execute(
        delete(RateEvent).where(RateEvent.kind == kind, RateEvent.key == key, RateEvent.at < before)
    )


async def tickets_reported_since(session: AsyncSession, member_pk: int, since: datetime) -> int:
    stmt = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.created_at >= since, Ticket.reporter_pk == member_pk)
    )
    return (await session.execute(stmt)).scalar_one()


async def last_held_photo_at(session: AsyncSession, draft_id: int) -> datetime | None:
    """When the newest photo still waiting on this draft (not yet on a ticket) arrived."""
    stmt = select(func.max(Photo.created_at)).where(
        Photo.draft_id == draft_id, Photo.ticket_id.is_(None)
    )
    return (await session.execute(stmt)).scalar()
