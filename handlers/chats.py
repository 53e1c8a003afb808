"""Chats that change identity: a Telegram group upgraded to a supergroup gets a new id."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlmodel import SQLModel

from handlers.deps import Deps
from handlers.uow import CHAT, Source, Work, perform
from storage.models import Chat, Draft, Outbox, Photo


async def migrate_chat(deps: Deps, platform: str, old_id: str, new_id: str) -> bool:
    """Move the chat's tickets, roles and queued messages to its new id (once; idempotent)."""

    async def run(w: Work) -> bool:
        s = w.s
        by_id = select(Chat).where(Chat.platform == platform)
        old = (await s.execute(by_id.where(Chat.chat_id == old_id))).scalar_one_or_none()
        new = (await s.execute(by_id.where(Chat.chat_id == new_id))).scalar_one_or_none()
        if old is None:
            return False
        if new is None:
            old.chat_id = new_id  # everything points at the row, not at the platform's id
        else:
            # Someone spoke in the new chat before the upgrade notice reached us: fold the old
            # row into the new one, in every table that refers to a chat.
            old_drafts = select(Draft.id).where(Draft.chat_pk == old.id)
            await s.execute(
                update(Photo).where(Photo.draft_id.in_(old_drafts)).values(draft_id=None)
            )
            await s.execute(delete(Draft).where(Draft.chat_pk == old.id))
            for table in SQLModel.metadata.sorted_tables:
                if "chat_pk" in table.c and table.name != Draft.__tablename__:
                    await s.execute(
                        update(table).where(table.c.chat_pk == old.id).values(chat_pk=new.id)
                    )
            new.enabled = new.enabled or old.enabled
            await s.delete(old)
        await s.execute(
            update(Outbox)
            .where(Outbox.platform == platform, Outbox.chat_id == old_id, Outbox.sent_at.is_(None))
            .values(chat_id=new_id, reply_to=None)  # old message ids mean nothing in the new chat
        )
        return True

    # The platform's own event (no message of a person): nothing to dedupe, nobody acting.
    return await perform(deps, run, source=Source(CHAT, platform))
