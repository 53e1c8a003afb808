"""The SLA sweep: a ticket nobody accepted gets the secretary reminded, one nobody resolved is
escalated a tier ("吹哨"). Each threshold acts once per ticket (an `SlaMark` row). A resolved
ticket nobody reopened within the reopen window is closed (its status says it happened)."""

from __future__ import annotations

from datetime import datetime

from handlers import cards, workflow
from handlers.deps import Deps
from handlers.i18n import t
from handlers.transition import move
from handlers.types import Outgoing
from handlers.uow import SCHEDULER, Source, Work, perform
from storage import repository as repo
from storage import scheduling
from storage.models import Chat, Ticket

ACCEPT, RESOLVE = "accept", "resolve"
LIST_LIMIT = 15


def _num(x: float) -> str:
    return f"{x:g}"


async def run_sla_sweep(deps: Deps, now: datetime) -> int:
    """The group's secretary is reminded of tickets waiting too long to be accepted; tickets
    unresolved too long are escalated one tier (card edited, reporter told, the group told).
    Returns how many tickets a threshold acted on."""
    return await perform(deps, _sweep, source=Source(SCHEDULER), now=now)


async def _sweep(w: Work) -> int:
    cfg, s, now, acted = w.config, w.s, w.now, 0
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
        moved = await _escalate(w, ticket)
        escalated.setdefault(ticket.chat_pk, []).append((ticket, moved))
    acted += await _close_unopposed(w)
    for chat_pk, rows in reminders.items():
        await _say(w, chat_pk, _reminder(w.deps, rows, now))
        acted += len(rows)
    for chat_pk, rows in escalated.items():
        await _say(w, chat_pk, _escalation(w.deps, rows, now))
        acted += len(rows)
    return acted


async def _escalate(w: Work, ticket: Ticket) -> bool:
    """One tier up through the workflow, as the bot: the first whistle (dispatch to the
    operations centre, tier 1) for a ticket nobody dispatched, else the next tier. False when
    it is already at the top tier (the group is reminded instead)."""
    action = "escalate" if ticket.status == workflow.DISPATCHED else "dispatch"
    days = _num(w.config.sla_resolve.total_seconds() / 86400)
    note = t("sla.escalate_note", w.locale, days=days)
    decision = await move(w, ticket, action, {workflow.SYSTEM}, note=note, push=True)
    return decision.ok


async def _close_unopposed(w: Work) -> int:
    """已解决 → 已办结 once the reporter's reopen window has passed: card edited, reporter told,
    nothing said in the group (the resolution already was)."""
    window = w.config.reopen_window
    note = t("sla.autoclose_note", w.locale, days=_num(window.total_seconds() / 86400))
    closed = 0
    for ticket in await scheduling.resolved_before(w.s, w.now - window):
        decision = await move(w, ticket, "close", {workflow.SYSTEM}, note=note, push=True)
        closed += decision.ok
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


async def _say(w: Work, chat_pk: int, message: Message) -> None:
    """One push into the group naming its secretaries (or saying it has none)."""
    key, key_nobody, amount, body = message
    locale = w.locale
    chat = await w.s.get(Chat, chat_pk)
    people = await scheduling.secretaries(w.s, chat_pk)
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
    w.say(out, push=True)
