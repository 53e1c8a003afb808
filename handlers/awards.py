"""Points follow the ticket: written in the transaction that resolves, merges or rejects it."""

from __future__ import annotations

from datetime import datetime

from handlers import categories, workflow
from handlers import points_rules as pr
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.outbox import queue
from handlers.types import Outgoing
from storage import ledger
from storage.models import Member, Ticket


async def after_change(s, deps: Deps, ticket: Ticket, action: str) -> None:
    """Resolution awards the problem's reporters; merging into a solved problem gives the late
    reporter a share; rejection of a once-resolved problem takes its points back."""
    if action == "resolve":
        await _award(s, deps, ticket, await ledger.duplicates_of(s, ticket.id))
    elif action == "dup" and ticket.duplicate_of is not None:
        original = await s.get(Ticket, ticket.duplicate_of)
        if original is not None and original.status in (workflow.RESOLVED, workflow.CLOSED):
            await _award(s, deps, original, [ticket])
    elif action == "reject":
        await _take_back(s, deps, ticket)


def _report(ticket: Ticket) -> pr.Report:
    return pr.Report(ticket.id, ticket.reporter_pk, ticket.category, ticket.recycled_of is not None)


async def _award(s, deps: Deps, original: Ticket, duplicates: list[Ticket]) -> None:
    now, rules = deps.clock(), pr.rules()
    problem = [original, *await ledger.duplicates_of(s, original.id)]
    by_id = {tk.id: tk for tk in [*problem, *duplicates]}
    already = {e.member_pk for e in await ledger.entries_on(s, by_id, pr.EARNED)}
    members = {tk.reporter_pk for tk in by_id.values()}
    today = pr.period_start(now, deps.config.timezone, "day")
    earned = await ledger.earned_since(s, members, pr.EARNED, today)
    grants = pr.grants_for_resolution(
        rules, _report(original), [_report(d) for d in duplicates], earned, already
    )
    for g in grants:
        written = await ledger.add_entry(
            s,
            member_pk=g.member_pk,
            delta=g.delta,
            reason=g.reason,
            ticket_id=g.ticket_id,
            chat_pk=by_id[g.ticket_id].chat_pk,
            note="cap" if g.capped else None,
            at=now,
        )
        if written:
            await _tell(s, deps, g, original, now, rules.daily_cap)


async def _take_back(s, deps: Deps, ticket: Ticket) -> None:
    now = deps.clock()
    problem = {tk.id: tk for tk in [ticket, *await ledger.duplicates_of(s, ticket.id)]}
    earned = await ledger.entries_on(s, problem, pr.EARNED)
    if not earned:
        return
    granted = [pr.Grant(e.member_pk, e.ticket_id, e.reason, e.delta) for e in earned]
    held = await ledger.balances(s, [g.member_pk for g in granted])
    for g in pr.reversals(granted, held):
        written = await ledger.add_entry(
            s,
            member_pk=g.member_pk,
            delta=g.delta,
            reason=g.reason,
            ticket_id=g.ticket_id,
            chat_pk=problem[g.ticket_id].chat_pk,
            at=now,
        )
        if written:
            await _tell(s, deps, g, ticket, now, 0)


async def _tell(s, deps: Deps, g: pr.Grant, original: Ticket, now: datetime, cap: int) -> None:
    """The rider hears of points privately, if they started the bot; the group hears nothing."""
    member = await s.get(Member, g.member_pk)
    if not member.private_chat_id:
        return
    locale = normalise(member.language, deps.config.locale)
    values = {
        "delta": f"{g.delta:+d}",
        "number": original.id,
        "category": categories.label(original.category, locale),
        "balance": await ledger.balance(s, member.id),
        "cap": cap,
    }
    if g.reason == pr.REVERSAL:
        text = t("points.reversed", locale, **values)
    elif g.delta == 0:
        text = t("points.capped_out", locale, **values)
    else:
        text = t(
            "points.earned" if g.reason == pr.AWARD else "points.earned_share", locale, **values
        )
        if g.capped:
            text += t("points.capped_note", locale, **values)
    queue(s, Outgoing(member.platform, member.private_chat_id, text), now)
