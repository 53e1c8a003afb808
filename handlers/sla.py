"""The SLA sweep: a ticket nobody accepted gets the secretary reminded, one nobody resolved is
escalated a tier ("吹哨"). Each threshold acts once per ticket (an `SlaMark` row). A resolved
ticket nobody reopened within the reopen window is closed (its status says it happened)."""

from __future__ import annotations

from datetime import datetime

from handlers import cards, tickets, workflow
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Outgoing
from storage import repository as repo
from storage import scheduling
from storage.models import Chat, Ticket, TicketEvent

ACCEPT, RESOLVE = "accept", "resolve"
LIST_LIMIT = 15


def _num(x: float) -> str:
    return f"{x:g}"


async def run_sla_sweep(deps: Deps, now: datetime) -> int:
    """The group's secretary is reminded of tickets waiting too long to be accepted; tickets
    unresolved too long are escalated one tier (card edited, reporter told, the group told).
    Returns how many tickets a threshold acted on."""
    cfg, acted = deps.config, 0
    async with deps.db.write() as s:
        # A 高频 ticket (reported by several riders) reaches each threshold in half the time.
        waiting = await scheduling.sla_candidates(
            s, (workflow.NEW,), now - cfg.sla_accept, ACCEPT, hot_before=now - cfg.sla_accept / 2
        )
        reminders: dict[int, list[Ticket]] = {}
        for ticket in waiting:
            if await scheduling.mark_sla(s, ticket.id, ACCEPT, now):
                reminders.setdefault(ticket.chat_pk, []).append(ticket)
        late = await scheduling.sla_candidates(
            s, workflow.OPEN, now - cfg.sla_resolve, RESOLVE, hot_before=now - cfg.sla_resolve / 2
        )
        escalated: dict[int, list[tuple[Ticket, bool]]] = {}
        for candidate in late:
            if not await scheduling.mark_sla(s, candidate.id, RESOLVE, now):
                continue
            ticket = await repo.ticket_for_update(s, candidate.id)
            if ticket.status not in workflow.OPEN:  # moved meanwhile
                continue
            moved = await _escalate(s, deps, ticket, now)
            escalated.setdefault(ticket.chat_pk, []).append((ticket, moved))
        acted += await _close_unopposed(s, deps, now)
        for chat_pk, rows in reminders.items():
            await _say(s, deps, chat_pk, _reminder(deps, rows, now), now)
            acted += len(rows)
        for chat_pk, rows in escalated.items():
            await _say(s, deps, chat_pk, _escalation(deps, rows, now), now)
            acted += len(rows)
    deps.wake_outbox()
    return acted


async def _escalate(s, deps: Deps, ticket: Ticket, now: datetime) -> bool:
    """One tier up through the workflow, as the bot: the first whistle (dispatch to the
    operations centre, tier 1) for a ticket nobody dispatched, else the next tier. False when
    it is already at the top tier (the group is reminded instead)."""
    action = "escalate" if ticket.status == workflow.DISPATCHED else "dispatch"
    decision = workflow.decide(action, ticket.status, ticket.tier, {workflow.SYSTEM})
    if not decision.ok:
        return False
    from_status = ticket.status
    ticket.status, ticket.tier, ticket.updated_at = decision.status, decision.tier, now
    if action == "dispatch":
        ticket.department = ticket.department or workflow.DEFAULT_DEPARTMENT
        ticket.accepted_at = ticket.accepted_at or now
    days = _num(deps.config.sla_resolve.total_seconds() / 86400)
    note = t("sla.escalate_note", deps.config.locale, days=days)
    s.add(
        TicketEvent(
            ticket_id=ticket.id,
            action=action,
            from_status=from_status,
            to_status=ticket.status,
            actor_pk=None,  # the bot itself
            note=note,
            department=ticket.department,
            tier=ticket.tier,
            at=now,
        )
    )
    await tickets.notify_change(s, deps, ticket, action, actor_pk=None, push=True)
    return True


async def _close_unopposed(s, deps: Deps, now: datetime) -> int:
    """已解决 → 已办结 once the reporter's reopen window has passed: card edited, reporter told,
    nothing said in the group (the resolution already was)."""
    window = deps.config.reopen_window
    note = t("sla.autoclose_note", deps.config.locale, days=_num(window.total_seconds() / 86400))
    closed = 0
    for ticket in await scheduling.resolved_before(s, now - window):
        decision = workflow.decide("close", ticket.status, ticket.tier, {workflow.SYSTEM})
        if not decision.ok:
            continue
        ticket.status, ticket.closed_at, ticket.updated_at = decision.status, now, now
        s.add(
            TicketEvent(
                ticket_id=ticket.id,
                action="close",
                from_status=workflow.RESOLVED,
                to_status=ticket.status,
                actor_pk=None,  # the bot itself
                note=note,
                at=now,
            )
        )
        await tickets.notify_change(s, deps, ticket, "close", actor_pk=None, push=True)
        closed += 1
    return closed


def _lines(rows: list[str], locale: str) -> list[str]:
    out = rows[:LIST_LIMIT]
    if len(rows) > LIST_LIMIT:
        out.append(t("tickets.more", locale, count=len(rows) - LIST_LIMIT))
    return out


# (head key, head key when the group has no secretary, hours or days, the ticket lines)
Message = tuple[str, str, str, str]


def _reminder(deps: Deps, rows: list[Ticket], now: datetime) -> Message:
    locale = deps.config.locale
    hours = _num(deps.config.sla_accept.total_seconds() / 3600)
    body = _lines([cards.ticket_line(x, now, locale) for x in rows], locale)
    body.append(t("sla.remind_tail", locale, number=rows[0].id))
    return "sla.remind_head", "sla.remind_head_nobody", hours, "\n".join(body)


def _escalation(deps: Deps, rows: list[tuple[Ticket, bool]], now: datetime) -> Message:
    locale = deps.config.locale
    days = _num(deps.config.sla_resolve.total_seconds() / 86400)
    body = [
        cards.ticket_line(x, now, locale) + ("" if moved else t("sla.top_tier", locale))
        for x, moved in rows
    ]
    return "sla.escalated_head", "sla.escalated_head_nobody", days, "\n".join(_lines(body, locale))


async def _say(s, deps: Deps, chat_pk: int, message: Message, now: datetime) -> None:
    """One push into the group naming its secretaries (or saying it has none)."""
    key, key_nobody, amount, body = message
    locale = deps.config.locale
    chat = await s.get(Chat, chat_pk)
    people = await scheduling.secretaries(s, chat_pk)
    if people:
        names = "、".join(p.name for p in people)
        head = t(key, locale, names=names, hours=amount, days=amount)
    else:
        head = t(key_nobody, locale, hours=amount, days=amount)
    out = Outgoing(
        chat.platform,
        chat.chat_id,
        f"{head}\n{body}",
        mention_user_ids=[p.user_id for p in people],
    )
    repo.enqueue(s, out, now, push=True)
