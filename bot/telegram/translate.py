"""Telegram messages → the neutral `Incoming`. Only this module knows Telegram's message shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from telegram import Bot, CallbackQuery, Message, MessageEntity
from telegram.error import BadRequest

from bot.downloads import read_capped
from handlers.parsing import ticket_number
from handlers.photos import MAX_BYTES, PhotoRejected
from handlers.types import Capabilities, Incoming, Location, Photo, Sender

PLATFORM = "telegram"
CAN = Capabilities(slash_commands=True, buttons=True, edits=True, captions=True)
ANONYMOUS_ADMIN_ID = 1087968824  # GroupAnonymousBot: an admin posting as the group


async def download_capped(client: httpx.AsyncClient, url: str, limit: int = MAX_BYTES) -> bytes:
    """A Bot API file, streamed and abandoned past the 20 MB cap (bot/downloads.py)."""
    return await read_capped(client, url, limit)


def _fetcher(bot: Bot, file_id: str, client: httpx.AsyncClient | None):
    async def fetch() -> bytes:
        try:
            file = await bot.get_file(file_id)
        except BadRequest as e:
            if "too big" in str(e).lower():
                raise PhotoRejected("photo.too_big") from None
            raise
        if file.file_size and file.file_size > MAX_BYTES:
            raise PhotoRejected("photo.too_big")
        if client is not None:
            return await download_capped(client, file.file_path)
        async with httpx.AsyncClient(timeout=60) as own:
            return await download_capped(own, file.file_path)

    return fetch


def _sender(message: Message) -> Sender | None:
    user = message.from_user
    if message.sender_chat is not None and message.sender_chat.id == message.chat.id:
        # An anonymous admin (or the linked channel) speaking as the group itself.
        title = message.chat.title or "管理员"
        return Sender(f"chat:{message.chat.id}", title, None, is_chat_admin=True)
    if user is None or user.is_bot:
        return None
    name = user.first_name or user.username or str(user.id)
    return Sender(str(user.id), name, user.language_code)


def _command(message: Message, bot_username: str) -> tuple[str | None, str | None, bool]:
    """(command, the text after it, addressed to another bot)."""
    text = message.text or message.caption
    entities = message.entities or message.caption_entities
    if not text:
        return None, None, False
    first = entities[0] if entities else None
    if first is None or first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None, text, False
    word = text[1 : first.length]
    name, _, target = word.partition("@")
    if target and target.lower() != bot_username.lower():
        return None, None, True
    return name.lower(), text[first.length :].strip() or None, False


def _mentions(message: Message, bot_username: str, bot_id: int) -> bool:
    reply = message.reply_to_message
    if reply is not None and reply.from_user is not None and reply.from_user.id == bot_id:
        return True
    if not (message.entities or message.caption_entities):
        return False  # most lines: no need to re-encode the text to find none (bench/intake.py)
    mentions = (message.parse_entities([MessageEntity.MENTION]) or {}).values()
    mentions = [
        *mentions,
        *(message.parse_caption_entities([MessageEntity.MENTION]) or {}).values(),
    ]
    return any(m.lstrip("@").lower() == bot_username.lower() for m in mentions)


def to_incoming(
    message: Message,
    bot: Bot,
    bot_username: str,
    bot_id: int,
    downloads: httpx.AsyncClient | None = None,
) -> Incoming | None:
    """The neutral form of a Telegram message, or None when it is not for us at all.
    `downloads`: the client photos are fetched with (a short-lived one per photo if None)."""
    sender = _sender(message)
    if sender is None:
        return None
    command, text, other_bot = _command(message, bot_username)
    if other_bot:
        return None
    photos: list[Photo] = []
    too_big = False
    if message.photo:
        best = message.photo[-1]  # sizes come smallest first
        photos.append(
            Photo(
                fetch=_fetcher(bot, best.file_id, downloads),
                unique_id=best.file_unique_id,
                size=best.file_size,
            )
        )
    elif message.document and (message.document.mime_type or "").startswith("image/"):
        doc = message.document
        if doc.file_size and doc.file_size > MAX_BYTES:
            too_big = True
        else:
            photos.append(
                Photo(
                    fetch=_fetcher(bot, doc.file_id, downloads),
                    unique_id=doc.file_unique_id,
                    size=doc.file_size,
                    as_file=True,
                )
            )
    location = None
    if message.venue is not None:
        v = message.venue
        address = " ".join(x for x in (v.title, v.address) if x) or None
        location = Location(v.location.latitude, v.location.longitude, address)
    elif message.location is not None:
        loc = message.location
        location = Location(loc.latitude, loc.longitude, live=bool(loc.live_period))
    chat = message.chat
    return Incoming(
        platform=PLATFORM,
        chat_id=str(chat.id),
        message_id=str(message.message_id),
        sender=sender,
        sent_at=message.date.astimezone(UTC).replace(tzinfo=None),
        is_group=chat.type in (chat.GROUP, chat.SUPERGROUP),
        chat_title=chat.title or chat.full_name,
        text=text,
        command=command,
        args=text or "",
        photos=photos,
        location=location,
        reply_to=str(message.reply_to_message.message_id) if message.reply_to_message else None,
        reply_to_sender=_sender(message.reply_to_message) if message.reply_to_message else None,
        album_id=message.media_group_id,
        mentions_bot=_mentions(message, bot_username, bot_id),
        too_big=too_big,
        can=CAN,
    )


def button_to_incoming(query: CallbackQuery) -> Incoming | None:
    """A pressed inline button (`wp:ACTION:TICKET`) as a command from the presser."""
    kind, _, rest = (query.data or "").partition(":")
    action, _, number = rest.partition(":")
    if kind != "wp" or ticket_number(number) is None or query.message is None:
        return None
    user = query.from_user
    chat = query.message.chat
    return Incoming(
        platform=PLATFORM,
        chat_id=str(chat.id),
        message_id=f"cb:{query.id}",  # each press is its own event; a redelivered one is not
        sender=Sender(str(user.id), user.first_name or str(user.id), user.language_code),
        sent_at=datetime.now(UTC).replace(tzinfo=None),
        is_group=chat.type in (chat.GROUP, chat.SUPERGROUP),
        chat_title=chat.title,
        command=action,
        args=number,
        can=CAN,
    )
