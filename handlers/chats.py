"""Chats that change identity: a Telegram group upgraded to a supergroup gets a new id."""

from __future__ import annotations

from sqlalchemy import select, update

from handlers.deps import Deps
from storage.models import Chat, Outbox


async def migrate_chat(deps: Deps, platform: str, old_id: str, new_id: str) -> bool:
    """Move the chat's tickets, roles and queued messages to its new id (once; idempotent)."""
    async with deps.db.write() as s:
        old = (
            await s.execute(select(Chat).where(Chat.platform == platform, Chat.chat_id == old_id))
        ).scalar_one_or_none()
        taken = (
            await s.execute(
                select(Chat.id).where(Chat.platform == platform, Chat.chat_id == new_id)
            )
        ).first()
        if old is None or taken is not None:
            return False
        old.chat_id = new_id  # tickets, drafts and roles point at the row, not the platform id
        await s.execute(
            update(Outbox)
            .where(Outbox.platform == platform, Outbox.chat_id == old_id, Outbox.sent_at.is_(None))
            .values(chat_id=new_id, reply_to=None)  # old message ids mean nothing in the new chat
        )
    return True
