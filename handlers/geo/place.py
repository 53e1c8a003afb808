"""Every ticket has a place: at intake it gets its grid, street and district, may join an open
ticket of the same problem, and its card goes where the place says.

- Inside a grid: the card goes to the chat the report came from, as before.
- Outside every loaded grid: marked 区域外, and a copy of the card also goes to OUTSIDE_CHAT.
- Sent privately to the bot: the ticket belongs to the grid's group (else its street's or
  district's chat, else OUTSIDE_CHAT) on the same platform; the card goes there and the rider
  gets a one-line private acknowledgement.
- Near an open ticket of its category: merged (handlers/geo/merge.py), the rider told which.
"""

from __future__ import annotations

from datetime import datetime

from handlers import cards, categories
from handlers.deps import Deps
from handlers.geo import grids, merge
from handlers.geo.coords import parse_chat_ref
from handlers.i18n import t
from handlers.types import Incoming, Outgoing
from storage import geo as store
from storage import repository as repo
from storage.models import Chat, Member, Ticket

Queued = merge.Queued


async def on_new_ticket(
    s, deps: Deps, msg: Incoming, ticket: Ticket, now: datetime
) -> list[Queued]:
    """Place the ticket just opened (and maybe merge it); return what to queue for it."""
    index = await grids.current(s, deps)
    place = index.locate(ticket.lat, ticket.lon)
    ticket.grid, ticket.street, ticket.district = place.grid, place.street, place.district
    ticket.outside = place.outside
    ticket.geocell = store.geohash(ticket.lat, ticket.lon)
    home = None if msg.is_group else await _home_chat(s, deps, msg, index, place, now)
    if home is not None:
        ticket.chat_pk = home.id
        # Not a message of that group: nothing there to thread a reply to.
        ticket.source_message_id = f"private:{msg.message_id}"[:64]
        member = await s.get(Member, ticket.reporter_pk)
        member.private_chat_id = member.private_chat_id or msg.chat_id
    original = await merge.find_match(s, deps, ticket, now)
    if original is not None:
        reports = await merge.merge_into(s, deps, ticket, original, now)
        return await merge.announce_merge(s, deps, msg, original, reports)
    return await _announce(s, deps, msg, ticket, home)


async def _home_chat(
    s, deps: Deps, msg: Incoming, index: grids.GridIndex, place: grids.Place, now: datetime
) -> Chat | None:
    """The group a private report belongs to, on the rider's own platform; None: keep it here."""
    for ref in (index.chat_for_place(place), deps.config.outside_chat):
        target = parse_chat_ref(ref)
        if target is not None and target[0] == msg.platform:
            return await repo.upsert_chat(s, target[0], target[1], None, True, now)
    return None


async def _announce(
    s, deps: Deps, msg: Incoming, ticket: Ticket, home: Chat | None
) -> list[Queued]:
    locale = deps.config.locale
    text, buttons = cards.card_text(ticket, locale), cards.card_buttons(ticket, locale)
    if home is None:
        card = Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id, buttons=buttons)
        out: list[Queued] = [(card, ticket.id)]
        where = (msg.platform, msg.chat_id)
    else:
        out = [(Outgoing(home.platform, home.chat_id, text, buttons=buttons), ticket.id)]
        label = categories.label(ticket.category, locale)
        area = ticket.grid or ticket.street or ticket.district or t("place.outside", locale)
        ack = t("place.forwarded", locale, number=ticket.id, category=label, area=area)
        out.append((Outgoing(msg.platform, msg.chat_id, ack, reply_to=msg.message_id), None))
        where = (home.platform, home.chat_id)
    outside = parse_chat_ref(deps.config.outside_chat)
    if ticket.outside and outside is not None and outside != where:
        # A copy for whoever looks after the unmapped places; the group's card keeps the buttons.
        out.append((Outgoing(outside[0], outside[1], text), None))
    return out
