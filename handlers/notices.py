"""Short answers to messages the adapter could not make sense of (no ticket, no draft change)."""

from __future__ import annotations

from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming, Outgoing
from storage import repository as repo


async def on_unreadable_location(msg: Incoming, deps: Deps) -> None:
    """A shared location arrived but its point could not be read: ask to resend, naming them."""
    await _ask_again(msg, deps, "intake.location_unreadable")


async def on_impossible_location(msg: Incoming, deps: Deps) -> None:
    """A point no rider stands on (out of range, not a number, exactly 0,0): nothing is made."""
    await _ask_again(msg, deps, "intake.location_impossible")


async def _ask_again(msg: Incoming, deps: Deps, key: str) -> None:
    now = deps.clock()
    text = t(
        key,
        deps.config.locale,
        name=msg.sender.name,
        minutes=deps.config.window_minutes,
    )
    async with deps.db.write() as s:
        if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
            return
        out = Outgoing(
            msg.platform,
            msg.chat_id,
            text,
            reply_to=msg.message_id,
            mention_user_ids=[msg.sender.user_id],
        )
        repo.enqueue(s, out, now)
    deps.wake_outbox()
