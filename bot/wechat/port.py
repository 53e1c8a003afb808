"""The outbox's way out to WeChat: say the text in the room, @-mentioning whom it names."""

from __future__ import annotations

import base64
import contextlib
import logging

from bot.wechat.sdk import FileBox, GRPCError, GrpcStatus, Wechaty
from bot.wechat.translate import PLATFORM
from handlers.ports import PermanentSendError
from handlers.types import Outgoing

log = logging.getLogger(__name__)

AT_SEPARATOR = "\u2005"  # what WeChat itself puts after an @name
# The puppet service saying the room, the contact or the permission is not there.
_PERMANENT = {
    GrpcStatus.NOT_FOUND,
    GrpcStatus.PERMISSION_DENIED,
    GrpcStatus.INVALID_ARGUMENT,
    GrpcStatus.UNAUTHENTICATED,
}


class WeChatPort:
    """Sends through the puppet directly rather than `room.say`: `say` reloads the sent message
    afterwards, and a reload that fails after a successful send would make the outbox say it
    twice. The text is built the way `room.say` builds it (`@name␅` before the words).

    WeChat has no buttons and a bot cannot edit what it said. An edit of a ticket's card is not
    said again: re-posting the whole card on every change would flood the riders' room, and each
    change already has its own line (the secretary's command is answered; resolution, rejection
    and merging name the reporter).
    """

    platform = PLATFORM

    def __init__(self, bot: Wechaty) -> None:
        self.bot = bot

    async def _mention_prefix(self, chat_id: str, ids: list[str]) -> str:
        """`@群昵称␅` for each person: their nickname in this group, else their WeChat name."""
        names = []
        for contact_id in ids:
            try:
                contact = self.bot.Contact.load(contact_id)
                await contact.ready()
                name = contact.name or contact_id
                with contextlib.suppress(Exception):
                    room = self.bot.Room.load(chat_id)
                    name = await room.alias(contact) or name
                names.append("@" + name)
            except Exception:
                log.info("cannot name contact %s for a mention", contact_id)
        return AT_SEPARATOR.join(names) + AT_SEPARATOR if names else ""

    async def send(self, message: Outgoing) -> str:
        if not message.chat_id:
            raise PermanentSendError("no conversation id")
        if message.edit_message_id:
            return message.edit_message_id
        if message.attachment is not None:
            return await self._send_file(message)
        mentions = [m for m in message.mention_user_ids if m]
        text = await self._mention_prefix(message.chat_id, mentions) + message.text
        try:
            message_id = await self.bot.puppet.message_send_text(
                conversation_id=message.chat_id, message=text, mention_ids=mentions or None
            )
        except GRPCError as e:
            if e.status in _PERMANENT:
                raise PermanentSendError(f"{e.status.name}: {e.message}") from e
            raise
        # Some puppets return no id for a sent text; the outbox needs one all the same.
        return str(message_id) if message_id else f"sent:{message.chat_id}"

    async def _send_file(self, message: Outgoing) -> str:
        """A file (the digest's chart or spreadsheet) as a FileBox. WeChat files carry no
        caption, and the digest's text is its own message just before, so none is said."""
        file = message.attachment
        box = FileBox.from_base64(base64.b64encode(file.data), name=file.filename)
        try:
            message_id = await self.bot.puppet.message_send_file(
                conversation_id=message.chat_id, file=box
            )
        except GRPCError as e:
            if e.status in _PERMANENT:
                raise PermanentSendError(f"{e.status.name}: {e.message}") from e
            raise
        return str(message_id) if message_id else f"sent:{message.chat_id}"
