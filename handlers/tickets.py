"""The secretary runs tickets: accept, dispatch, escalate, resolve, reject, merge, reopen, close."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import awards, cards, categories, workflow
from handlers.arrival import arrival
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.outbox import CARD
from handlers.parsing import ticket_number
from handlers.types import Incoming, Outgoing
from storage import repository as repo
from storage.models import Chat, Member, Ticket, TicketEvent

GROUP_NOTICE = {"resolve": "group.resolved", "reject": "group.rejected", "dup": "group.duplicate"}
LIST_LIMIT = 20


@dataclass(frozen=True)
class TicketCommand:
    action: str
    number: int | None
    note: str | None = None
    department: str | None = None
    target: int | None = None


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


async def capacities(
    s, deps: Deps, msg: Incoming, chat: Chat, actor: Member, ticket: Ticket
) -> set[str]:
    """In which capacities the sender may act on this ticket."""
    caps: set[str] = set()
    if deps.config.is_admin(msg.platform, msg.sender.user_id):
        caps.add(workflow.SECRETARY)
    elif msg.sender.is_chat_admin and ticket.chat_pk == chat.id:
        caps.add(workflow.SECRETARY)
    elif await repo.roles_of(s, actor.id, ticket.chat_pk) & {"secretary", "admin"}:
        caps.add(workflow.SECRETARY)
    if ticket.reporter_pk == actor.id:
        caps.add(workflow.REPORTER)
    return caps


async def on_action(msg: Incoming, deps: Deps, via_button: bool = False) -> str | None:
    """A ticket command or button: the ticket moves (card edited, reporter told), or a refusal."""
    cmd = parse(msg.command, msg.args)
    locale, now = deps.config.locale, deps.clock()
    feedback: str | None = None
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return None
        chat, actor = arrived

        def answer(text: str) -> str:
            if not via_button:
                out = Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id)
                repo.enqueue(s, out, now)
            return text

        if cmd.number is None:
            example = f"/{cmd.action} 17" if msg.platform == "telegram" else f"{cmd.action} 17"
            feedback = answer(t("workflow.usage", locale, example=example))
        else:
            feedback = await _act(s, deps, msg, cmd, chat, actor, answer, via_button)
    deps.wake_outbox()
    return feedback


async def _act(
    s, deps: Deps, msg: Incoming, cmd: TicketCommand, chat, actor, answer, via_button
) -> str:
    locale, now, number = deps.config.locale, deps.clock(), cmd.number
    action_label = t(f"action.{cmd.action}", locale)
    ticket = await repo.ticket_for_update(s, number)
    if ticket is None:
        return answer(t("workflow.no_ticket", locale, number=number))
    is_admin = deps.config.is_admin(msg.platform, msg.sender.user_id)
    if msg.is_group and ticket.chat_pk != chat.id and not is_admin:
        return answer(t("workflow.not_this_group", locale, number=number))
    if cmd.action == "dup":
        original = await s.get(Ticket, cmd.target) if cmd.target else None
        if original is None or original.id == ticket.id or original.status == workflow.DUPLICATE:
            return answer(t("workflow.bad_duplicate", locale, number=number))
    caps = await capacities(s, deps, msg, chat, actor, ticket)
    decision = workflow.decide(
        cmd.action,
        ticket.status,
        ticket.tier,
        caps,
        note=cmd.note,
        resolved_at=ticket.resolved_at,
        now=now,
        reopen_window=deps.config.reopen_window,
    )
    if not decision.ok:
        allowed = [t(f"action.{a}", locale) for a in _allowed(ticket.status, caps)]
        return answer(
            t(
                decision.refusal,
                locale,
                name=msg.sender.name,
                number=number,
                action=action_label,
                status=cards.status_label(ticket.status, locale),
                allowed="、".join(allowed) or t("workflow.nothing_allowed", locale),
                days=deps.config.reopen_window.days,
            )
        )
    from_status = ticket.status
    _apply(ticket, cmd, decision, now)
    s.add(
        TicketEvent(
            ticket_id=ticket.id,
            action=cmd.action,
            from_status=from_status,
            to_status=ticket.status,
            actor_pk=actor.id,
            note=cmd.note,
            department=ticket.department if cmd.action in ("dispatch", "escalate") else None,
            tier=ticket.tier if cmd.action in ("dispatch", "escalate") else None,
            platform_message_id=msg.message_id,
            at=now,
        )
    )
    await notify_change(s, deps, ticket, cmd.action, actor_pk=actor.id, target=cmd.target)
    await awards.after_change(s, deps, ticket, cmd.action)  # points commit with the change
    done = t("workflow.done", locale, number=number, state=cards.state_line(ticket, locale))
    group_chat = await s.get(Chat, ticket.chat_pk)
    said_in_group = cmd.action in GROUP_NOTICE and group_chat.chat_id == msg.chat_id
    if said_in_group:
        return done
    return answer(done)


def _allowed(status: str, caps: set[str]) -> list[str]:
    return [
        a for a in workflow.RULES if any(a in workflow.allowed_actions(status, c) for c in caps)
    ]


def _apply(ticket: Ticket, cmd: TicketCommand, decision: workflow.Decision, now) -> None:
    ticket.status, ticket.tier, ticket.updated_at = decision.status, decision.tier, now
    if cmd.action == "accept":
        ticket.accepted_at = now
    elif cmd.action == "dispatch":
        ticket.department = cmd.department or ticket.department or workflow.DEFAULT_DEPARTMENT
        ticket.accepted_at = ticket.accepted_at or now
    elif cmd.action == "resolve":
        ticket.resolved_at, ticket.note = now, cmd.note
    elif cmd.action == "reject":
        ticket.note, ticket.closed_at = cmd.note, now
    elif cmd.action == "dup":
        ticket.duplicate_of, ticket.closed_at = cmd.target, now
    elif cmd.action == "reopen":
        ticket.resolved_at, ticket.note = None, cmd.note
    elif cmd.action == "close":
        ticket.closed_at = now


async def notify_change(
    s, deps: Deps, ticket: Ticket, action: str, actor_pk: int | None, target=None, push=False
) -> None:
    """Queue what people are owed for one change: the card edit, the reporter's notice, and for
    resolution, rejection and merging one threaded line in the group naming the reporter.
    `push`: the bot changed it by itself (the SLA sweep), so quiet hours hold the messages."""
    locale, now = deps.config.locale, deps.clock()
    chat = await s.get(Chat, ticket.chat_pk)
    reporter = await s.get(Member, ticket.reporter_pk)
    card = Outgoing(
        chat.platform,
        chat.chat_id,
        cards.card_text(ticket, locale),
        buttons=cards.card_buttons(ticket, locale),
        edit_message_id=CARD,
    )
    repo.enqueue(s, card, now, card_of_ticket=ticket.id, push=push)
    category = categories.label(ticket.category, locale)
    if reporter.private_chat_id and reporter.id != actor_pk:
        their = normalise(reporter.language, locale)
        text = t(
            "notice.changed",
            their,
            number=ticket.id,
            category=categories.label(ticket.category, their),
            state=cards.state_line(ticket, their),
        )
        repo.enqueue(s, Outgoing(chat.platform, reporter.private_chat_id, text), now, push=push)
    if action in GROUP_NOTICE:
        note = f"：{ticket.note}" if action == "resolve" and ticket.note else ""
        text = t(
            GROUP_NOTICE[action],
            locale,
            name=reporter.name,
            number=ticket.id,
            category=category,
            note=note if action == "resolve" else ticket.note,
            target=target,
        )
        out = Outgoing(
            chat.platform,
            chat.chat_id,
            text,
            reply_to=ticket.source_message_id,
            mention_user_ids=[reporter.user_id],
        )
        repo.enqueue(s, out, now)


async def on_list(msg: Incoming, deps: Deps) -> None:
    """/tickets: this group's open tickets, oldest first, with their age."""
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, _ = arrived
        rows = await repo.open_tickets(s, chat.id, (*workflow.OPEN, workflow.RESOLVED))
        if not rows:
            text = t("tickets.none", locale)
        else:
            lines = [t("tickets.header", locale, count=len(rows))]
            lines += [cards.ticket_line(r, now, locale) for r in rows[:LIST_LIMIT]]
            if len(rows) > LIST_LIMIT:
                lines.append(t("tickets.more", locale, count=len(rows) - LIST_LIMIT))
            text = "\n".join(lines)
        repo.enqueue(s, Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id), now)
    deps.wake_outbox()


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
    locale, now = deps.config.locale, deps.clock()
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]
    async with deps.db.write() as s:
        if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
            return
        number = ticket_number(head)
        text = await describe(s, deps, number) if number else None
        if text is None:
            text = (
                t("workflow.no_ticket", locale, number=number)
                if number
                else t("workflow.usage", locale, example="/ticket 17")
            )
        repo.enqueue(s, Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id), now)
    deps.wake_outbox()
