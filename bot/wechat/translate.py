"""WeChat messages → the neutral `Incoming`. Only this module knows wechaty's message shapes."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bot.downloads import read_capped
from bot.wechat.location import looks_like_location, parse_location
from bot.wechat.sdk import FileBox, FileBoxType, Message, MessageType
from handlers.config import Clock
from handlers.photos import MAX_BYTES, PhotoRejected
from handlers.types import Incoming, Photo, Sender

log = logging.getLogger(__name__)

PLATFORM = "wechat"

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".bmp", ".gif", ".tif")
# WeChat separates an @name from the words after it with U+2005 (four-per-em space).
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[^\s\u2005@]+[\u2005\s]?)+")
_WORDS = re.compile(r"[\s\u2005]+")


def split_command(text: str) -> tuple[str | None, str | None]:
    """(command, the words after it) for `/help`-style text; else (None, the text).

    Leading @mentions (`@啄木鸟␅受理 17`) are dropped. WeChat has no slash commands: the words
    riders type instead (`帮助`, `上报`, `受理 17`…) are one table in `handlers/commands.py`,
    which the router applies to the text on every platform.
    """
    body = _LEADING_MENTIONS.sub("", text) if text.lstrip().startswith("@") else text
    body = body.strip()
    if not body.startswith(("/", "／")):
        return None, body or None
    first, *rest = _WORDS.split(body[1:], maxsplit=1)
    command = first.partition("@")[0].lower()
    if not command:
        return None, body
    return command, (rest[0].strip() if rest else "") or None


async def filebox_bytes(box: FileBox, limit: int = MAX_BYTES) -> bytes:
    """The bytes in a FileBox, whatever kind it is; over `limit` is a too-big photo."""
    kind = box.type()
    if kind == FileBoxType.Base64:
        encoded = box.base64 if isinstance(box.base64, bytes) else str(box.base64).encode()
        if encoded.startswith(b"data:"):
            encoded = encoded.partition(b",")[2]
        if len(encoded) * 3 // 4 > limit + 3:
            raise PhotoRejected("photo.too_big")
        data = base64.b64decode(encoded)
    elif kind == FileBoxType.Buffer:
        data = bytes(box.buffer)
    elif kind == FileBoxType.Stream:
        data = bytes(box.stream)
    elif kind == FileBoxType.File:
        data = await asyncio.to_thread(_read_file, Path(box.localPath), limit)
    elif kind == FileBoxType.Url:
        data = await _download(box.remoteUrl, getattr(box, "headers", None) or {}, limit)
    else:
        raise ValueError(f"cannot read a {kind.name} FileBox")
    if len(data) > limit:
        raise PhotoRejected("photo.too_big")
    return data


def _read_file(path: Path, limit: int) -> bytes:
    if path.stat().st_size > limit:
        raise PhotoRejected("photo.too_big")
    return path.read_bytes()


async def _download(url: str, headers: dict, limit: int) -> bytes:
    async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
        return await read_capped(client, url, limit, headers)


def _image_fetcher(msg: Message) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        box = None
        try:
            box = await msg.to_image().artwork()  # the original, not the compressed preview
        except Exception:
            log.info("artwork of %s not available, falling back to the file", msg.message_id)
        if box is None:
            box = await msg.to_file_box()
        if box is None:
            raise ValueError(f"no image in message {msg.message_id}")
        return await filebox_bytes(box)

    return fetch


def _file_fetcher(msg: Message) -> Callable[[], Awaitable[bytes]]:
    async def fetch() -> bytes:
        box = await msg.to_file_box()
        if box is None:
            raise ValueError(f"no file in message {msg.message_id}")
        return await filebox_bytes(box)

    return fetch


def _sent_at(timestamp: int | float | None, clock: Clock) -> datetime:
    if not timestamp:
        return clock()
    seconds = timestamp / 1000 if timestamp > 10_000_000_000 else timestamp
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


async def _sender(msg: Message, room_payload) -> Sender:
    talker = msg.talker()
    await talker.ready()
    name = talker.name or talker.contact_id
    room = msg.room()
    if room is not None:
        try:
            name = await room.alias(talker) or name  # the group nickname riders set for themselves
        except Exception:
            log.debug("no room alias for %s", talker.contact_id)
    admin = False
    if room_payload is not None:
        admin = talker.contact_id == room_payload.owner_id or talker.contact_id in (
            room_payload.admin_ids or []
        )
    return Sender(talker.contact_id, name, None, is_chat_admin=admin)


async def to_incoming(
    msg: Message, self_id: str | None, self_name: str | None, clock: Clock
) -> Incoming | None:
    """The neutral form of a ready wechaty message, or None when it is not for us at all."""
    payload = msg.payload
    if not payload.from_id or payload.from_id == self_id:
        return None  # our own words coming back, or a system notice
    kind = msg.type()
    text = payload.text or ""
    room = msg.room()
    room_payload = None
    if room is not None:
        await room.ready()
        room_payload = room.payload
    photos: list[Photo] = []
    location = None
    unreadable = False
    command = args = None
    mentions = bool(self_id and self_id in (payload.mention_ids or []))
    if kind == MessageType.MESSAGE_TYPE_IMAGE:
        photos.append(Photo(fetch=_image_fetcher(msg), unique_id=f"wx:{msg.message_id}"))
        text = ""
    elif kind == MessageType.MESSAGE_TYPE_ATTACHMENT:
        if not (payload.filename or text).lower().endswith(IMAGE_SUFFIXES):
            return None  # a document, not a photo sent as a file
        photos.append(
            Photo(fetch=_file_fetcher(msg), unique_id=f"wx:{msg.message_id}", as_file=True)
        )
        text = ""
    elif kind == MessageType.MESSAGE_TYPE_LOCATION or (
        kind == MessageType.MESSAGE_TYPE_TEXT and looks_like_location(text)
    ):
        location = parse_location(text)
        unreadable = location is None
        text = ""
    elif kind == MessageType.MESSAGE_TYPE_TEXT:
        if self_name and f"@{self_name}" in text:
            mentions = True
        command, text = split_command(text)
        args = text if command else None
    else:
        return None  # voice, stickers, red envelopes, mini programs…
    sender = await _sender(msg, room_payload)
    return Incoming(
        platform=PLATFORM,
        chat_id=room.room_id if room is not None else payload.from_id,
        message_id=msg.message_id,
        sender=sender,
        sent_at=_sent_at(payload.timestamp, clock),
        is_group=room is not None,
        chat_title=(room_payload.topic or None) if room_payload is not None else sender.name,
        text=text or None,
        command=command,
        args=args or "",
        photos=photos,
        location=location,
        mentions_bot=mentions,
        location_unreadable=unreadable,
    )
