"""The inbox's queries: updates recorded before they are confirmed, handled from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Inbox


@dataclass(frozen=True)
class Arrival:
    """One update as the adapter received it, before anything was done with it."""

    key: str  # unique within the platform (Telegram's update_id)
    chat: str | None
    payload: str  # JSON


def _insert(session: AsyncSession):
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Inbox)


async def record(
    session: AsyncSession, platform: str, arrivals: list[Arrival], now: datetime
) -> set[str]:
    """Insert the arrivals not recorded before, in their order; return the keys that were new.
    A redelivered update is left to its first row. One lookup, then one executemany of a
    statement compiled once: a batch of 100 costs a few milliseconds (a 100-row VALUES with
    RETURNING was compiled afresh every time and cost ten times that)."""
    if not arrivals:
        return set()
    keys = [a.key for a in arrivals]
    known = select(Inbox.update_key).where(Inbox.platform == platform, Inbox.update_key.in_(keys))
    seen = set((await session.execute(known)).scalars())
    rows = [
        {
            "platform": platform,
            "update_key": a.key,
            "chat_key": a.chat,
            "payload": a.payload,
            "received_at": now,
        }
        for a in arrivals
        if a.key not in seen
    ]
    if rows:
        # The constraint still decides should another instance record the same update meanwhile.
        await session.execute(_insert(session).on_conflict_do_nothing(), rows)
    return {r["update_key"] for r in rows}


async def pending(
    session: AsyncSession, platform: str, after_id: int = 0, limit: int = 1000
) -> list[Inbox]:
    """Recorded but not handled (the process stopped or died first), oldest first, a page of
    them after row `after_id`."""
    stmt = (
        select(Inbox)
        .where(Inbox.platform == platform, Inbox.done_at.is_(None), Inbox.id > after_id)
        .order_by(Inbox.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def mark_done(session: AsyncSession, platform: str, keys: list[str], now: datetime) -> None:
    for i in range(0, len(keys), 500):  # well below every driver's parameter limit
        await session.execute(
            update(Inbox)
            .where(
                Inbox.platform == platform,
                Inbox.update_key.in_(keys[i : i + 500]),
                Inbox.done_at.is_(None),
            )
            .values(done_at=now)
        )


async def prune(session: AsyncSession, platform: str, before: datetime) -> None:
    """Handled rows older than any redelivery (Telegram keeps an update 24 h) are not needed."""
    await session.execute(
        delete(Inbox).where(
            Inbox.platform == platform, Inbox.done_at.is_not(None), Inbox.done_at < before
        )
    )
