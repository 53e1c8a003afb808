"""The secretary runs tickets: accept, dispatch, escalate, resolve, reject, merge, reopen, close.

`act` is the one use case behind every door: a chat command, a card's button, the web desk.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers import authority, cards, escalation, workflow
from handlers.after_photo import AfterPhoto, store
from handlers.commands import example as example_of
from handlers.consequences import GROUP_NOTICE
from handlers.deps import Deps
from handlers.geo import labels
from handlers.i18n import t
from handlers.parsing import ticket_number
from handlers.transition import move
from handlers.types import Incoming, Sender
from handlers.uow import BUTTON, CHAT, Actor, Redelivered, Source, Work, perform
from storage import repository as repo
from storage.models import Chat, Ticket

LIST_LIMIT = 20


@dataclass(frozen=True)
class TicketCommand:
    action: str
    number: int | None
    note: str | None = None
    department: str | None = None
    target: int | None = None
    tier: int | None = None  # dispatch straight to this tier (the desk's form)
    after: AfterPhoto | None = None  # resolve with a 整改后照片, stored and shown beside the before


@dataclass(frozen=True)
class Outcome:
    """What the person who acted is shown: the change done, or why not."""

    ok: bool
    text: str
    ticket_id: int | None = None


def parse(action: str, args: str) -> TicketCommand:
    """`17 城管` → number 17 and the rest as department / note / original ticket."""
    head, _, rest = (args or "").strip().lstrip("#").partition(" ")
    number = ticket_number(head)
    rest = rest.strip() or None
    if action == "dispatch":
        return TicketCommand(action, number, department=rest)
    if action == "dup":
        target = rest.lstrip("#").split()[0] if rest else ""
        return TicketCommand(action, number, target=ticket_number(target))
    return TicketCommand(action, number, note=rest)


async def act(
    deps: Deps,
    cmd: TicketCommand,
    *,
    source: Source,
    actor: Actor | None = None,
    sender: Sender | None = None,
) -> Outcome | Redelivered:
    """One ticket action from any door, in one unit of work."""

    async def run(w: Work) -> Outcome:
        if cmd.number is None:
            example = example_of(cmd.action, "17", source.can)
            return Outcome(False, w.reply(t("workflow.usage", w.locale, example=example)))
        return await _act(w, cmd)

    return await perform(deps, run, source=source, actor=actor, sender=sender)


async def on_action(msg: Incoming, deps: Deps, via_button: bool = False) -> str | None:
    """A ticket command or button: the ticket moves (card edited, reporter told), or a refusal.
    Returns the short answer a button shows its presser."""
    source = Source.message(msg, BUTTON if via_button else CHAT)
    outcome = await act(deps, parse(msg.command, msg.args), source=source, sender=msg.sender)
    return outcome.text if outcome else None


async def _act(w: Work, cmd: TicketCommand) -> Outcome:
    locale, number = w.locale, cmd.number
    ticket = await repo.ticket_for_update(w.s, number)
    if ticket is None:
        return Outcome(False, w.reply(t("workflow.no_ticket", locale, number=number)))
    caps = await authority.capacities(w, ticket.chat_pk)
    elsewhere = w.chat is not None and w.source.is_group and ticket.chat_pk != w.chat.id
    if elsewhere or w.chat is None:  # from an area's chat (street, district), or the desk
        # Officials there run what reached their area as a secretary runs the group's own.
        if await escalation.area_capacities(w, ticket):
            caps.add(authority.SECRETARY)
        elif elsewhere and authority.ADMIN not in caps:
            return Outcome(False, w.reply(t("workflow.not_this_group", locale, number=number)))
    if cmd.action == "dup":
        original = await w.s.get(Ticket, cmd.target) if cmd.target else None
        if original is None or original.id == ticket.id or original.status == workflow.DUPLICATE:
            example = example_of("dup", str(number), w.source.can)
            text = t("workflow.bad_duplicate", locale, number=number, example=example)
            return Outcome(False, w.reply(text))
    actors = workflow_capacities(caps, ticket, w)
    status_before = ticket.status
    after = cmd.after if cmd.action == "resolve" else None
    decision = await move(
        w,
        ticket,
        cmd.action,
        actors,
        note=cmd.note,
        department=cmd.department,
        target=cmd.target,
        tier=cmd.tier,
        picture=after.pair if after else None,
    )
    if decision.ok and after is not None:
        store(w, ticket.id, after)
    if not decision.ok:
        allowed = [t(f"action.{a}", locale) for a in allowed_actions(status_before, actors)]
        text = t(
            decision.refusal,
            locale,
            name=w.actor.name,
            number=number,
            action=t(f"action.{cmd.action}", locale),
            status=cards.status_label(status_before, locale),
            allowed="、".join(allowed) or t("workflow.nothing_allowed", locale),
            days=w.config.reopen_window.days,
            example=example_of(cmd.action, str(number), w.source.can),
        )
        return Outcome(False, w.reply(text), ticket.id)
    done = t("workflow.done", locale, number=number, state=cards.state_line(ticket, locale))
    group_chat = await w.s.get(Chat, ticket.chat_pk)
    said_in_group = cmd.action in GROUP_NOTICE and (
        w.source.in_chat
        and w.source.door == CHAT
        and (group_chat.platform, group_chat.chat_id) == (w.source.platform, w.source.chat_id)
    )
    if said_in_group:  # the group's threaded line already says it
        return Outcome(True, done, ticket.id)
    return Outcome(True, w.reply(done), ticket.id)


def workflow_capacities(caps: set[str], ticket: Ticket, w: Work) -> set[str]:
    """The workflow's actors from the authority's capacities: who runs the group, who reported."""
    actors = {workflow.SECRETARY} if authority.SECRETARY in caps else set()
    if w.member is not None and ticket.reporter_pk == w.member.id:
        actors.add(workflow.REPORTER)
    return actors


def allowed_actions(status: str, actors: set[str]) -> list[str]:
    return [
        a for a in workflow.RULES if any(a in workflow.allowed_actions(status, c) for c in actors)
    ]


async def on_list(msg: Incoming, deps: Deps) -> None:
    """/tickets: this group's open tickets, oldest first, with their age."""

    async def run(w: Work) -> None:
        rows = await repo.open_tickets(w.s, w.chat.id, (*workflow.OPEN, workflow.RESOLVED))
        if not rows:
            w.reply(t("tickets.none", w.locale))
            return
        lines = [t("tickets.header", w.locale, count=len(rows))]
        lines += [cards.ticket_line(r, w.now, w.locale) for r in rows[:LIST_LIMIT]]
        if len(rows) > LIST_LIMIT:
            lines.append(t("tickets.more", w.locale, count=len(rows) - LIST_LIMIT))
        w.reply("\n".join(lines))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def describe(s, deps: Deps, number: int) -> str | None:
    """One ticket and its history, as `/ticket N` and `woodpecker tickets show N` print it."""
    locale, now = deps.config.locale, deps.clock()
    ticket = await s.get(Ticket, number)
    if ticket is None:
        return None
    lines = [cards.ticket_line(ticket, now, locale)]
    if ticket.description:
        lines.append(ticket.description)
    if ticket.address:
        lines.append(f"📍 {ticket.address}")
    lines += [x for x in [labels.place_line(ticket, locale)] if x]
    lines.append(t("ticket.history", locale))
    for event, who in await repo.ticket_history(s, ticket.id):
        name = who.name if who else t("ticket.by_bot", locale)
        extra = " ".join(x for x in (event.department, event.note) if x)
        when = cards.local_time(event.at, deps.config.timezone)
        state = cards.status_label(event.to_status, locale)
        lines.append(
            f"  {when} {name} {t(f'action.{event.action}', locale)} → {state} {extra}".rstrip()
        )
    if ticket.recycled_of:
        lines.append(t("ticket.recycled", locale, earlier=ticket.recycled_of))
    return "\n".join(lines)


async def on_show(msg: Incoming, deps: Deps) -> None:
    """/ticket N: one ticket with its whole history."""
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]

    async def run(w: Work) -> None:
        number = ticket_number(head)
        text = await describe(w.s, deps, number) if number else None
        if text is None:
            example = example_of("ticket", "17", msg.can)
            text = (
                t("workflow.no_ticket", w.locale, number=number)
                if number
                else t("workflow.usage", w.locale, example=example)
            )
        w.reply(text)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)
