"""Short answers to messages the adapter could not make sense of (no ticket, no draft change)."""

from __future__ import annotations

from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming
from handlers.uow import Source, Work, perform


async def on_unreadable_location(msg: Incoming, deps: Deps) -> None:
    """A shared location arrived but its point could not be read: ask to resend, naming them."""
    text = t(
        "intake.location_unreadable",
        deps.config.locale,
        name=msg.sender.name,
        minutes=deps.config.window_minutes,
    )

    async def run(w: Work) -> None:
        w.reply(text, mention=True)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)
