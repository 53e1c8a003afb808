"""Neutral message types shared by every chat adapter and every use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Sender:
    user_id: str
    name: str
    language: str | None = None  # the platform's language code, e.g. "en", "zh-hans"
    is_chat_admin: bool = False  # e.g. Telegram's anonymous group admin


@dataclass(frozen=True)
class Location:
    """A point in WGS-84. Adapters convert GCJ-02 (WeChat, Amap) before building one."""

    lat: float
    lon: float
    address: str | None = None
    live: bool = False


@dataclass
class Photo:
    """One picture: bytes now, or a fetcher the intake calls only when it needs them."""

    data: bytes | None = None
    fetch: Callable[[], Awaitable[bytes]] | None = None
    unique_id: str | None = None  # the platform's stable id of the file, for de-duplication
    size: int | None = None  # declared size, checked before downloading
    as_file: bool = False  # sent uncompressed, so EXIF (GPS) may still be there

    async def read(self) -> bytes:
        if self.data is None:
            if self.fetch is None:
                raise ValueError("photo has neither bytes nor a fetcher")
            self.data = await self.fetch()
        return self.data


@dataclass(frozen=True)
class Capabilities:
    """What the platform a message came from can do: the core asks this, never its name."""

    slash_commands: bool = False  # `/accept 17` works (else the Chinese words: `受理 17`)
    buttons: bool = False  # inline buttons under a message
    edits: bool = False  # a sent message can be edited (else a change is said anew)
    captions: bool = False  # a picture can carry text


PLAIN = Capabilities()


@dataclass
class Incoming:
    """One platform message, translated. `message_id` is unique within (platform, chat_id)."""

    platform: str
    chat_id: str
    message_id: str
    sender: Sender
    sent_at: datetime  # naive UTC
    is_group: bool = True
    chat_title: str | None = None
    text: str | None = None  # text or caption, without a leading command
    command: str | None = None  # "report", "help"…, lower case, without "/" or "@bot"
    args: str = ""
    photos: list[Photo] = field(default_factory=list)
    location: Location | None = None
    reply_to: str | None = None  # message id this one answers
    reply_to_sender: Sender | None = None  # who wrote that message (appointing by reply)
    album_id: str | None = None
    mentions_bot: bool = False
    too_big: bool = False  # the platform refused the file (e.g. Telegram's 20 MB download cap)
    location_unreadable: bool = False  # a shared location the adapter could not read
    can: Capabilities = PLAIN
    # When (time.monotonic()) the adapter received it, if it says: a freshness check of the
    # database that started after this is as good as a read made on arrival.
    arrived: float | None = None


@dataclass(frozen=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: "photo" (shown as a picture) or "document" (a file).
    A stored photo travels by its media path (`media_path`) and is read only when sent."""

    kind: str
    filename: str
    data: bytes
    media_path: str | None = None


@dataclass
class Outgoing:
    """A message the bot sends (or an edit of one it sent), as the outbox hands it to an adapter."""

    platform: str
    chat_id: str
    text: str
    reply_to: str | None = None
    mention_user_ids: list[str] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    edit_message_id: str | None = None  # set: edit that message instead of sending a new one
    attachment: Attachment | None = None  # set: send the file, `text` as its caption
