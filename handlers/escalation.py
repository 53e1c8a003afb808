"""分级吹哨 reaching people: a ticket whistled up to a tier goes, as a card with its photo, place,
history and reporter, to the chat responsible at that tier (grid → street → district, from the
grids file), where officials act on it with the same commands and buttons. Who may act there
is the area rule below, beside the one authority rule."""

from __future__ import annotations

from sqlalchemy import select

from handlers import authority, cards
from handlers.geo import grids
from handlers.i18n import t
from handlers.types import Attachment, Outgoing
from storage import repository as repo
from storage.access import roles_held
from storage.models import Chat, Member, Photo, Ticket

TIER_OF_LEVEL = {level: tier for tier, level in grids.TIER_LEVEL.items()}
HISTORY_LINES = 4


def split_ref(ref: str) -> tuple[str, str]:
    platform, _, chat_id = ref.partition(":")
    return platform, chat_id


async def whistle(w, ticket: Ticket, action: str) -> None:
    """After a dispatch or escalation: the card to the tier's chat, unless that is the group's
    own (tier 1 is usually the group itself) or the grids name no chat there."""
    if action not in ("dispatch", "escalate") or not ticket.grid or ticket.tier < 1:
        return
    ref = await grids.chat_for_tier(w.s, w.deps, ticket.grid, ticket.tier)
    if not ref:
        return
    platform, chat_id = split_ref(ref)
    own = await w.s.get(Chat, ticket.chat_pk)
    if (platform, chat_id) == (own.platform, own.chat_id):
        return
    push = w.actor.is_system  # the SLA sweep speaks unasked: quiet hours hold it
    text = await card(w, ticket, own)
    w.say(
        Outgoing(platform, chat_id, text, buttons=cards.card_buttons(ticket, w.locale)), push=push
    )
    photo = await _first_photo(w.s, ticket.id)
    if photo is not None:  # its own message: not every platform puts words on a picture
        picture = Attachment("photo", f"ticket-{ticket.id}.jpg", b"", media_path=photo.path)
        caption = t("whistle.photo", w.locale, number=ticket.id)
        w.say(Outgoing(platform, chat_id, caption, attachment=picture), push=push)


async def card(w, ticket: Ticket, own: Chat) -> str:
    """What the next level reads: who whistled, the card, who reported it, the last history."""
    locale = w.locale
    reporter = await w.s.get(Member, ticket.reporter_pk)
    level = grids.TIER_LEVEL.get(ticket.tier, "")
    who = w.actor.name if not w.actor.is_system else t("ticket.by_bot", locale)
    lines = [
        t("whistle.head", locale, level=level, group=own.title or own.chat_id, by=who),
        cards.card_text(ticket, locale),
        t("whistle.reporter", locale, name=reporter.name),
    ]
    history = await repo.ticket_history(w.s, ticket.id)
    for event, person in history[-HISTORY_LINES:]:
        name = person.name if person else t("ticket.by_bot", locale)
        when = cards.local_time(event.at, w.config.timezone)
        lines.append(f"  {when} {name} {t(f'action.{event.action}', locale)}")
    lines.append(t("whistle.how", locale, number=ticket.id))
    return "\n".join(lines)


async def _first_photo(s, ticket_id: int) -> Photo | None:
    stmt = select(Photo).where(Photo.ticket_id == ticket_id).order_by(Photo.id).limit(1)
    return (await s.execute(stmt)).scalar_one_or_none()


async def area_capacities(w, ticket: Ticket) -> set[str]:
    """Capacities the actor holds through an area's chat: the officials (and secretaries) of a
    street's or district's chat act on tickets in that area whose tier is at or below their
    level — a street does not overrule the district it has whistled up to. From a chat, that
    chat counts; from the desk (no chat), every chat where they hold a role."""
    if not ticket.grid:
        return set()
    chats = [w.chat] if w.chat is not None else await _role_chats(w)
    caps: set[str] = set()
    for chat in chats:
        area = await grids.area_of_chat(w.s, w.deps, f"{chat.platform}:{chat.chat_id}")
        if area is None:
            continue
        level, name = area
        if grids.ticket_in_area(ticket, level, name) and ticket.tier <= TIER_OF_LEVEL[level]:
            caps |= await authority.capacities(w, chat.id)
    return caps & {authority.SECRETARY, authority.OFFICIAL, authority.ADMIN}


async def _role_chats(w) -> list[Chat]:
    if w.member is None:
        return []
    pks = {chat_pk for _, chat_pk in await roles_held(w.s, w.member.id) if chat_pk is not None}
    return [await w.s.get(Chat, pk) for pk in sorted(pks)]
