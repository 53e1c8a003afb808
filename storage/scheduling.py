"""Queries of the scheduled jobs: runs done, SLA marks, digest subscriptions, daily counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.geo import HOT_REPORTERS
from storage.models import Chat, DigestSubscription, JobRun, Member, Role, SlaMark, Ticket
from storage.repository import insert_new

RUN = "*"  # the target of the row that marks a job's run for a period as a whole


async def claim_run(
    session: AsyncSession, job: str, period: str, target: str, now: datetime, late: bool = False
) -> bool:
    """Record that `job` ran for `period` and `target`; False when that row already exists.

    Another instance's committed (or, on PostgreSQL, in-flight) row makes this insert do
    nothing, so whoever loses sends nothing.
    """
    return await insert_new(
        session, JobRun, job=job, period=period, target=target, late=late, ran_at=now
    )


async def run_done(session: AsyncSession, job: str, period: str, target: str = RUN) -> bool:
    stmt = select(JobRun.id).where(
        JobRun.job == job, JobRun.period == period, JobRun.target == target
    )
    return (await session.execute(stmt)).first() is not None


async def run_at(session: AsyncSession, job: str, period: str) -> datetime | None:
    stmt = select(JobRun.ran_at).where(
        JobRun.job == job, JobRun.period == period, JobRun.target == RUN
    )
    return (await session.execute(stmt)).scalar()


async def runs(session: AsyncSession, job: str | None = None) -> list[JobRun]:
    stmt = select(JobRun).order_by(JobRun.id)
    if job:
        stmt = stmt.where(JobRun.job == job)
    return list((await session.execute(stmt)).scalars())


async def mark_sla(session: AsyncSession, ticket_id: int, threshold: str, now: datetime) -> bool:
    """The threshold acts on the ticket now; False when it already has (here or elsewhere)."""
    return await insert_new(session, SlaMark, ticket_id=ticket_id, threshold=threshold, at=now)


async def sla_candidates(
    session: AsyncSession,
    statuses: tuple[str, ...],
    created_before: datetime,
    threshold: str,
    hot_before: datetime | None = None,
) -> list[Ticket]:
    """Tickets in `statuses` older than the cut that this threshold has not acted on yet;
    a 高频 one (HOT_REPORTERS riders or more) already when older than `hot_before`."""
    marked = exists().where(SlaMark.ticket_id == Ticket.id, SlaMark.threshold == threshold)
    due = Ticket.created_at <= created_before
    if hot_before is not None:
        due = or_(due, and_(Ticket.reporters >= HOT_REPORTERS, Ticket.created_at <= hot_before))
    stmt = (
        select(Ticket)
        .where(Ticket.status.in_(statuses), due, ~marked)
        .order_by(Ticket.chat_pk, Ticket.id)
    )
    return list((await session.execute(stmt)).scalars())


async def resolved_before(session: AsyncSession, cut: datetime) -> list[Ticket]:
    """Resolved tickets whose reopen window ended (row-locked on PostgreSQL)."""
    stmt = (
        select(Ticket)
        .where(Ticket.status == "resolved", Ticket.resolved_at <= cut)
        .order_by(Ticket.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).scalars())


async def secretaries(session: AsyncSession, chat_pk: int) -> list[Member]:
    stmt = (
        select(Member)
        .join(Role, Role.member_pk == Member.id)
        .where(Role.chat_pk == chat_pk, Role.role == "secretary")
        .order_by(Role.id)
    )
    return list((await session.execute(stmt)).scalars())


async def subscribe(session: AsyncSession, chat_pk: int, by: int | None, now: datetime) -> bool:
    return await insert_new(
        session, DigestSubscription, chat_pk=chat_pk, created_by_pk=by, created_at=now
    )


async def unsubscribe(session: AsyncSession, chat_pk: int) -> bool:
    stmt = delete(DigestSubscription).where(DigestSubscription.chat_pk == chat_pk)
    return (await session.execute(stmt)).rowcount > 0


async def subscribed_chats(session: AsyncSession) -> list[Chat]:
    stmt = (
        select(Chat)
        .join(DigestSubscription, DigestSubscription.chat_pk == Chat.id)
        .order_by(DigestSubscription.id)
    )
    return list((await session.execute(stmt)).scalars())


async def counts_by_chat(
    session: AsyncSession, column, start: datetime, end: datetime
) -> dict[int, int]:
    stmt = (
        select(Ticket.chat_pk, func.count())
        .where(and_(column >= start, column < end))
        .group_by(Ticket.chat_pk)
    )
    return dict((await session.execute(stmt)).all())


async def open_by_chat(session: AsyncSession, statuses: tuple[str, ...]) -> dict[int, list[Ticket]]:
    stmt = select(Ticket).where(Ticket.status.in_(statuses)).order_by(Ticket.chat_pk, Ticket.id)
    out: dict[int, list[Ticket]] = {}
    for ticket in (await session.execute(stmt)).scalars():
        out.setdefault(ticket.chat_pk, []).append(ticket)
    return out


async def chats(session: AsyncSession, pks) -> dict[int, Chat]:
    if not pks:
        return {}
    stmt = select(Chat).where(Chat.id.in_(list(pks)))
    return {c.id: c for c in (await session.execute(stmt)).scalars()}
