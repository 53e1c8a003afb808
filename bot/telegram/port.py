"""The outbox's way out to Telegram: send, reply in thread, edit, with buttons."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.telegram.translate import PLATFORM
from handlers import textfit
from handlers.ports import PermanentSendError
from handlers.types import Outgoing

log = logging.getLogger(__name__)

OnMigrated = Callable[[str, str], Awaitable[None]]
MAX_TEXT = 4096  # a message's text (telegram.constants.MessageLimit.MAX_TEXT_LENGTH)
MAX_CAPTION = 1024  # a photo's or document's caption (MessageLimit.CAPTION_LENGTH)


def _keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    row = [InlineKeyboardButton(b.label, callback_data=b.data) for b in message.buttons]
    return InlineKeyboardMarkup([row[i : i + 2] for i in range(0, len(row), 2)])


class TelegramPort:
    platform = PLATFORM

    def __init__(self, bot: Bot, on_migrated: OnMigrated | None = None) -> None:
        self.bot = bot
        self.on_migrated = on_migrated

    async def send(self, message: Outgoing) -> str:
        try:
            return await self._send(message, message.chat_id)
        except ChatMigrated as e:
            # The group became a supergroup: move its rows, then say it in the new chat.
            new_id = str(e.new_chat_id)
            if self.on_migrated:
                await self.on_migrated(message.chat_id, new_id)
            return await self._send(message, new_id)
        except Forbidden as e:
            raise PermanentSendError(str(e)) from e
        except BadRequest as e:
            text = str(e).lower()
            if "message is not modified" in text and message.edit_message_id:
                return message.edit_message_id
            if "chat not found" in text or "message to edit not found" in text:
                raise PermanentSendError(str(e)) from e
            raise

    async def _send(self, message: Outgoing, chat_id: str) -> str:
        markup = _keyboard(message)
        if message.edit_message_id:
            await self.bot.edit_message_text(
                textfit.shorten(message.text, MAX_TEXT),  # one message: it cannot be split
                chat_id=chat_id,
                message_id=int(message.edit_message_id),
                reply_markup=markup,
                link_preview_options=_no_preview(),
            )
            return message.edit_message_id
        reply = (
            ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
            if message.reply_to and message.reply_to.isdigit()
            else None
        )
        if message.attachment is not None:
            return await self._send_file(message, chat_id, reply, markup)
        return await self._send_text(message.text, chat_id, reply, markup)

    async def _send_text(self, text: str, chat_id: str, reply, markup) -> str:
        """Over Telegram's limit: several messages, the first in reply, the buttons on the last
        (whose id is returned: that is the message later edits change)."""
        pieces = textfit.split(text, MAX_TEXT)
        sent = None
        for i, piece in enumerate(pieces):
            sent = await self.bot.send_message(
                chat_id,
                piece,
                reply_parameters=reply if i == 0 else None,
                reply_markup=markup if i == len(pieces) - 1 else None,
                link_preview_options=_no_preview(),
            )
        return str(sent.message_id)

    async def _send_file(self, message: Outgoing, chat_id: str, reply, markup) -> str:
        """The digest's chart (a photo) or spreadsheet (a document), the text as caption; a text
        too long for a caption goes first as messages of its own."""
        file = message.attachment
        caption: str | None = message.text or None
        if caption and textfit.units(caption) > MAX_CAPTION:
            await self._send_text(caption, chat_id, reply, None)
            caption, reply = None, None
        upload = InputFile(file.data, filename=file.filename)
        send = self.bot.send_photo if file.kind == "photo" else self.bot.send_document
        sent = await send(
            chat_id,
            upload,
            caption=caption,
            reply_parameters=reply,
            reply_markup=markup,
        )
        return str(sent.message_id)


def _no_preview():
    from telegram import LinkPreviewOptions

    return LinkPreviewOptions(is_disabled=True)
