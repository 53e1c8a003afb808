"""What every command does first in its transaction: skip a redelivery, know chat and sender."""

from __future__ import annotations

from datetime import datetime

from handlers.types import Incoming, Outgoing
from storage import repository as repo
from storage.models import Chat, Member


async def arrival(s, msg: Incoming, now: datetime) -> tuple[Chat, Member] | None:
    """The chat and sender rows for `msg`, or None when this platform message was handled before."""
    if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
        return None
    chat = await repo.upsert_chat(s, msg.platform, msg.chat_id, msg.chat_title, msg.is_group, now)
    member = await repo.upsert_member(s, msg.platform, msg.sender, now)
    return chat, member


def reply(s, msg: Incoming, text: str, now: datetime, mention: bool = False) -> None:
    """Queue an answer threaded to `msg` (naming the sender in a group when `mention`)."""
    out = Outgoing(
        msg.platform,
        msg.chat_id,
        text,
        reply_to=msg.message_id,
        mention_user_ids=[msg.sender.user_id] if mention and msg.is_group else [],
    )
    repo.enqueue(s, out, now)
