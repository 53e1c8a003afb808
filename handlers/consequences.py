"""What a ticket change owes people, settled by the unit of work before it commits: the card
edited in its group, the reporter told privately, one threaded line in the group for
resolution, rejection and merging, and the points that follow (handlers/awards.py)."""

from __future__ import annotations

from handlers import awards, cards, categories, escalation
from handlers.geo import merge
from handlers.i18n import normalise, t
from handlers.types import Attachment, Outgoing
from storage.models import Chat, Member, Ticket

GROUP_NOTICE = {"resolve": "group.resolved", "reject": "group.rejected", "dup": "group.duplicate"}


async def settle(w) -> None:
    """Turn every `TicketChanged` recorded in unit of work `w` into messages and points."""
    for event in w.events:
        ticket = await w.s.get(Ticket, event.ticket_id)
        await notify_change(
            w, ticket, event.action, event.actor_pk, event.target, event.push, event.picture
        )
        await awards.after_change(w.s, w.deps, ticket, event.action)
    w.events.clear()


async def notify_change(
    w, ticket: Ticket, action: str, actor_pk, target=None, push=False, picture=None
) -> None:
    """`push`: the bot changed it by itself (the SLA sweep), so quiet hours hold the messages.
    `picture`: before and after side by side, sent after the reporter's notice and the group's
    line (its own message: some platforms' pictures carry no words)."""
    s, locale = w.s, w.locale
    chat = await s.get(Chat, ticket.chat_pk)
    reporter = await s.get(Member, ticket.reporter_pk)
    for card, card_of in await merge.card_edit(s, w.deps, ticket):  # the group's card
        w.say(card, card_of=card_of, push=push)
    for out, card_of in await merge.after_change(s, w.deps, ticket, action):  # merged reports
        w.say(out, card_of=card_of, push=push)
    await escalation.whistle(w, ticket, action)  # the next level's chat hears it
    if reporter.private_chat_id and reporter.id != actor_pk:
        their = normalise(reporter.language, locale)
        text = t(
            "notice.changed",
            their,
            number=ticket.id,
            category=categories.label(ticket.category, their),
            state=cards.state_line(ticket, their),
        )
        w.say(Outgoing(chat.platform, reporter.private_chat_id, text), push=push)
        if picture:
            w.say(_picture(chat.platform, reporter.private_chat_id, ticket, picture, their))
    if action in GROUP_NOTICE:
        note = f"：{ticket.note}" if action == "resolve" and ticket.note else ""
        text = t(
            GROUP_NOTICE[action],
            locale,
            name=reporter.name,
            number=ticket.id,
            category=categories.label(ticket.category, locale),
            note=note if action == "resolve" else ticket.note,
            target=target,
        )
        out = Outgoing(
            chat.platform,
            chat.chat_id,
            text,
            reply_to=ticket.source_message_id,
            # A reporter from elsewhere (a city system, Open311) is no member to @ here.
            mention_user_ids=[reporter.user_id] if reporter.platform == chat.platform else [],
        )
        w.say(out)
        if picture:
            pair = _picture(chat.platform, chat.chat_id, ticket, picture, locale)
            pair.reply_to = ticket.source_message_id
            w.say(pair)


def _picture(platform: str, chat_id: str, ticket: Ticket, picture: bytes, locale: str) -> Outgoing:
    caption = t("notice.before_after", locale, number=ticket.id)
    file = Attachment("photo", f"woodpecker-{ticket.id}-before-after.jpg", picture)
    return Outgoing(platform, chat_id, caption, attachment=file)
