"""The ticket state machine: which action moves a ticket where, and who may take it. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NEW, ACCEPTED, DISPATCHED, RESOLVED, CLOSED, REJECTED, DUPLICATE = (
    "new", "accepted", "dispatched", "resolved", "closed", "rejected", "duplicate",
)  # fmt: skip
OPEN = (NEW, ACCEPTED, DISPATCHED)
MAX_TIER = 3
DEFAULT_DEPARTMENT = "城运中心"

# Who takes an action: the chat's secretary (or an admin), the reporter, or the bot itself.
SECRETARY, REPORTER, SYSTEM = "secretary", "reporter", "system"


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str | None  # None: the status stays (escalation raises the tier instead)
    actors: tuple[str, ...]


RULES: dict[str, Rule] = {
    "accept": Rule((NEW,), ACCEPTED, (SECRETARY,)),
    # The bot dispatches (first whistle) a ticket nobody dispatched within the SLA.
    "dispatch": Rule((NEW, ACCEPTED, DISPATCHED), DISPATCHED, (SECRETARY, SYSTEM)),
    "escalate": Rule((DISPATCHED,), None, (SECRETARY, SYSTEM)),
    "resolve": Rule((NEW, ACCEPTED, DISPATCHED), RESOLVED, (SECRETARY,)),
    "reject": Rule((NEW, ACCEPTED, DISPATCHED), REJECTED, (SECRETARY,)),
    # The bot merges a new report into an open ticket of the same problem (handlers/geo/merge.py).
    "dup": Rule((NEW, ACCEPTED, DISPATCHED), DUPLICATE, (SECRETARY, SYSTEM)),
    "split": Rule((DUPLICATE,), NEW, (SECRETARY,)),  # a wrong merge undone
    "reopen": Rule((RESOLVED,), ACCEPTED, (SECRETARY, REPORTER)),
    "close": Rule((RESOLVED,), CLOSED, (SECRETARY, REPORTER, SYSTEM)),
}


@dataclass(frozen=True)
class Decision:
    """Either the new status (and tier), or the key of the message that says why not."""

    ok: bool
    status: str = ""
    tier: int = 0
    refusal: str | None = None


def allowed_actions(status: str, actor: str) -> list[str]:
    """What `actor` may do to a ticket in `status` now, in display order."""
    return [a for a, r in RULES.items() if status in r.sources and actor in r.actors]


def decide(
    action: str,
    status: str,
    tier: int,
    actors: set[str],
    *,
    note: str | None = None,
    resolved_at: datetime | None = None,
    now: datetime | None = None,
    reopen_window: timedelta = timedelta(days=7),
    wanted_tier: int | None = None,
) -> Decision:
    """Check one action against the rules; `actors` are the capacities the person holds.
    `wanted_tier`: a dispatch straight to tier 2 or 3 (never below the tier it has)."""
    rule = RULES[action]
    if not actors & set(rule.actors):
        return Decision(False, refusal="workflow.not_allowed")
    if status not in rule.sources:
        return Decision(False, refusal="workflow.bad_transition")
    if action == "reject" and not (note and note.strip()):
        return Decision(False, refusal="workflow.reason_required")
    if action == "escalate":
        if tier >= MAX_TIER:
            return Decision(False, refusal="workflow.max_tier")
        return Decision(True, status, tier + 1)
    if action == "dispatch":
        return Decision(True, DISPATCHED, max(tier, min(MAX_TIER, wanted_tier or 1)))
    if action == "reopen" and SECRETARY not in actors:
        if resolved_at is None or now is None or now - resolved_at > reopen_window:
            return Decision(False, refusal="workflow.reopen_expired")
    return Decision(True, rule.target or status, tier)


def apply(
    ticket,
    action: str,
    actors: set[str],
    *,
    now: datetime,
    actor_pk: int | None,
    note: str | None = None,
    department: str | None = None,
    target: int | None = None,
    message_id: str | None = None,
    reopen_window: timedelta = timedelta(days=7),
    tier: int | None = None,
):
    """The one ticket transition: decide, then change the ticket and build its audit row.
    Returns the decision and the `TicketEvent` to store (None when refused). No I/O: the caller's
    unit of work stores the row and turns the change into cards, notices and points."""
    from storage.models import TicketEvent  # a row to build, not a query

    decision = decide(
        action,
        ticket.status,
        ticket.tier,
        actors,
        note=note,
        resolved_at=ticket.resolved_at,
        now=now,
        reopen_window=reopen_window,
        wanted_tier=tier,
    )
    if not decision.ok:
        return decision, None
    from_status = ticket.status
    ticket.status, ticket.tier, ticket.updated_at = decision.status, decision.tier, now
    if action == "accept":
        ticket.accepted_at = now
    elif action in ("dispatch", "escalate"):
        ticket.department = department or ticket.department or DEFAULT_DEPARTMENT
        ticket.accepted_at = ticket.accepted_at or now
    elif action == "resolve":
        ticket.resolved_at, ticket.note = now, note
    elif action == "reject":
        ticket.note, ticket.closed_at = note, now
    elif action == "dup":
        ticket.duplicate_of, ticket.closed_at = target, now
    elif action == "split":
        ticket.duplicate_of, ticket.closed_at = None, None
    elif action == "reopen":
        ticket.resolved_at, ticket.note = None, note
    elif action == "close":
        ticket.closed_at = now
    routed = action in ("dispatch", "escalate")
    event = TicketEvent(
        ticket_id=ticket.id,
        action=action,
        from_status=from_status,
        to_status=ticket.status,
        actor_pk=actor_pk,
        note=note,
        department=ticket.department if routed else None,
        tier=ticket.tier if routed else None,
        platform_message_id=message_id,
        at=now,
    )
    return decision, event
