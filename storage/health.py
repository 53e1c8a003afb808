"""What /healthz and /metrics read: is the database there, how deep and old is the outbox, when
did each platform last deliver an update, how many tickets in each state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, Outbox, ProcessedMessage, Ticket


async def ping(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


async def outbox(session: AsyncSession) -> tuple[int, datetime | None, int, int]:
    """(rows waiting, when the oldest waiting was queued, rows given up, failed attempts)."""
    waiting = select(func.count(Outbox.id), func.min(Outbox.created_at)).where(
        Outbox.sent_at.is_(None), Outbox.dead.is_(False)
    )
    depth, oldest = (await session.execute(waiting)).one()
    dead = (await session.execute(select(func.count(Outbox.id)).where(Outbox.dead))).scalar_one()
    failures = (await session.execute(select(func.coalesce(func.sum(Outbox.attempts), 0)))).scalar()
    return depth, oldest, dead, int(failures or 0)


async def last_updates(session: AsyncSession) -> dict[str, datetime | None]:
    """Per platform, when its latest update was processed (off the index's end, per platform)."""
    platforms = (await session.execute(select(Chat.platform).distinct())).scalars().all()
    out = {}
    for platform in platforms:
        stmt = select(func.max(ProcessedMessage.processed_at)).where(
            ProcessedMessage.platform == platform
        )
        out[platform] = (await session.execute(stmt)).scalar()
    return out


async def updates(session: AsyncSession) -> dict[str, int]:
    stmt = select(ProcessedMessage.platform, func.count(ProcessedMessage.id)).group_by(
        ProcessedMessage.platform
    )
    return dict((await session.execute(stmt)).all())


async def tickets_by_state(session: AsyncSession) -> dict[str, int]:
    stmt = select(Ticket.status, func.count(Ticket.id)).group_by(Ticket.status)
    return dict((await session.execute(stmt)).all())
