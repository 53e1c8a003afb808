"""/start and /help: what the bot does and how to report, in the asker's language."""

from __future__ import annotations

from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.types import Incoming, Outgoing
from storage import repository as repo


async def on_help(msg: Incoming, deps: Deps, privacy_warning: bool = False) -> None:
    """The asker sees the two-step how-to; a group admin also sees why photos may be invisible."""
    locale = normalise(msg.sender.language, deps.config.locale)
    text = t("help.text", locale, minutes=deps.config.window_minutes)
    if privacy_warning and msg.is_group and msg.sender.is_chat_admin:
        text += "\n" + t("help.privacy_warning", locale)
    now = deps.clock()
    async with deps.db.write() as s:
        if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
            return
        if not msg.is_group:
            # Started privately: from now on the bot may tell this person about their reports.
            member = await repo.upsert_member(s, msg.platform, msg.sender, now)
            member.private_chat_id = msg.chat_id
        repo.enqueue(s, Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id), now)
    deps.wake_outbox()
