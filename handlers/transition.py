"""A ticket moves, through the one transition, inside a unit of work (any door)."""

from __future__ import annotations

from handlers import workflow
from handlers.consequences import settle
from handlers.uow import TicketChanged, Work
from storage.models import Ticket


async def move(
    w: Work,
    ticket: Ticket,
    action: str,
    actors: set[str],
    *,
    note: str | None = None,
    department: str | None = None,
    target: int | None = None,
    push: bool = False,
    tier: int | None = None,
    picture: bytes | None = None,
) -> workflow.Decision:
    """Apply `action` as `actors` (workflow capacities); on success the audit row is stored and
    the change is recorded for the unit of work to turn into the card, notices and points."""
    actor_pk = w.member.id if w.member is not None and not w.actor.is_system else None
    decision, event = workflow.apply(
        ticket,
        action,
        actors,
        now=w.now,
        actor_pk=actor_pk,
        note=note,
        department=department,
        target=target,
        message_id=w.source.message_id,
        reopen_window=w.config.reopen_window,
        tier=tier,
    )
    if event is not None:
        w.s.add(event)
        change = TicketChanged(
            ticket.id, action, actor_pk, target=target, push=push, picture=picture
        )
        w.changed(change)
        await settle(w)  # at once: the card edit and notices precede whatever the caller says next
    return decision
