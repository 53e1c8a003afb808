"""A secretary replies to a ticket's card with a photo and `解决` (`/resolve`, a note after it):
the ticket is resolved through `tickets.act`, the photo kept as its 整改后照片."""

from __future__ import annotations

import logging

from handlers import tickets
from handlers.after_photo import prepare
from handlers.commands import NUMBERED_WORDS
from handlers.deps import Deps
from handlers.i18n import t
from handlers.photos import PhotoRejected
from handlers.types import Incoming
from handlers.uow import Source, Work, perform
from storage import desk
from storage import repository as repo

log = logging.getLogger(__name__)

RESOLVE_WORDS = {word for word, command in NUMBERED_WORDS.items() if command == "resolve"}


def _words(msg: Incoming) -> str | None:
    """What follows the resolve command or word, or None when the message is not one."""
    if msg.command == "resolve":
        return msg.args or ""
    head, _, rest = (msg.text or "").strip().partition(" ")
    return rest.strip() if head in RESOLVE_WORDS else None


def applies(msg: Incoming) -> bool:
    """A photo captioned with the resolve command, answering a card or naming a ticket."""
    if not msg.photos or msg.command not in (None, "resolve"):
        return False
    words = _words(msg)
    if words is None:
        return False
    return msg.reply_to is not None or tickets.parse("resolve", words).number is not None


async def on_photo(msg: Incoming, deps: Deps) -> str | None:
    words = _words(msg) or ""
    cmd = tickets.parse("resolve", words)
    number, note = cmd.number, cmd.note
    if number is None:
        note = words or None
        number = await deps.db.run(
            lambda s: desk.ticket_by_card(s, msg.platform, msg.chat_id, msg.reply_to), write=False
        )
    if number is None:  # a reply to something that is no card: the usual usage answer
        return await tickets.on_action(msg, deps)
    seen = await deps.db.run(
        lambda s: repo.was_processed(s, msg.platform, msg.chat_id, msg.message_id), write=False
    )
    if seen:
        return None  # redelivered: skip the download and the picture work
    photo = msg.photos[0]
    try:
        try:
            data = await photo.read()
        except PhotoRejected:
            raise
        except Exception:
            log.exception("could not download the after photo %s", photo.unique_id)
            raise PhotoRejected("photo.fetch_failed") from None
        after = await prepare(deps, number, data, photo.unique_id)
    except PhotoRejected as e:
        text = t(e.key, deps.config.locale, name=msg.sender.name)

        async def refuse(w: Work) -> None:
            w.reply(text, mention=True)

        await perform(deps, refuse, source=Source.message(msg), sender=msg.sender)
        return None
    outcome = await tickets.act(
        deps,
        tickets.TicketCommand("resolve", number, note=note, after=after),
        source=Source.message(msg),
        sender=msg.sender,
    )
    return outcome.text if outcome else None
