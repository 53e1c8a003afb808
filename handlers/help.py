"""/start and /help: what the bot does and how to report, in the asker's language."""

from __future__ import annotations

from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.types import Incoming
from handlers.uow import Source, Work, perform


async def on_help(msg: Incoming, deps: Deps, privacy_warning: bool = False) -> None:
    """The asker sees the two-step how-to; a group admin also sees why photos may be invisible."""
    locale = normalise(msg.sender.language, deps.config.locale)
    text = t("help.text", locale, minutes=deps.config.window_minutes)
    if privacy_warning and msg.is_group and msg.sender.is_chat_admin:
        text += "\n" + t("help.privacy_warning", locale)

    async def run(w: Work) -> None:
        if not msg.is_group:
            # Started privately: from now on the bot may tell this person about their reports.
            w.member.private_chat_id = msg.chat_id
        w.reply(text)

    # Only a private start needs the person's row; help in a group writes nothing but the answer.
    await perform(deps, run, source=Source.message(msg), sender=msg.sender, rows=not msg.is_group)
