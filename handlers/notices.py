"""Short answers to messages the adapter could not make sense of (no ticket, no draft change)."""

from __future__ import annotations

from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming
from handlers.uow import Source, Work, perform


async def on_unreadable_location(msg: Incoming, deps: Deps) -> None:
    """A shared location arrived but its point could not be read: ask to resend, naming them."""
    await _ask_again(msg, deps, "intake.location_unreadable")


async def on_impossible_location(msg: Incoming, deps: Deps) -> None:
    """A point no rider stands on (out of range, not a number, exactly 0,0): nothing is made."""
    await _ask_again(msg, deps, "intake.location_impossible")


async def _ask_again(msg: Incoming, deps: Deps, key: str) -> None:
    text = t(key, deps.config.locale, name=msg.sender.name, minutes=deps.config.window_minutes)

    async def run(w: Work) -> None:
        w.reply(text, mention=True)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)
