"""A chat that lives in memory: the demo, the console and the tests talk to the core through it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from handlers.config import utc_now
from handlers.types import Attachment, Capabilities, Incoming, Location, Outgoing, Photo, Sender
from storage.db import Database
from storage.models import Outbox, ProcessedMessage

CONSOLE = Capabilities(slash_commands=True)

FIRST_BOT_ID = 900_001


def _top(ids) -> int:
    """The highest of the numeric ids (0 when there is none)."""
    return max((int(i) for i in ids if i and i.isdigit()), default=0)


@dataclass
class Said:
    """What the bot said (or edited) in the local chat."""

    message_id: str
    chat_id: str
    text: str
    reply_to: str | None
    mentions: list[str]
    edited: bool = False
    buttons: list[tuple[str, str]] = field(default_factory=list)
    attachment: Attachment | None = None


class LocalChat:
    """A ChatPort that records what the bot says, plus helpers that build rider messages."""

    platform = "local"

    def __init__(
        self,
        chat_id: str = "street-group",
        title: str = "友谊路骑手群",
        on_say: Callable | None = None,
    ):
        self.chat_id, self.title = chat_id, title
        self.said: list[Said] = []
        self._ids = itertools.count(1)
        self._bot_ids = itertools.count(FIRST_BOT_ID)
        self.on_say = on_say
        self._spoke = asyncio.Event()

    async def resume_numbering(self, db: Database) -> None:
        """Number on from the messages this chat already has in `db`. A new session numbering
        from 1 again would look like redeliveries of the last one's messages, which the core
        rightly ignores (a second console session answered nothing)."""
        riders = select(ProcessedMessage.message_id).where(
            ProcessedMessage.platform == self.platform, ProcessedMessage.chat_id == self.chat_id
        )
        bots = select(Outbox.sent_message_id).where(
            Outbox.platform == self.platform, Outbox.sent_message_id.is_not(None)
        )
        async with db.read() as s:
            rider = _top((await s.execute(riders)).scalars())
            bot = _top((await s.execute(bots)).scalars())
        self._ids = itertools.count(rider + 1)
        self._bot_ids = itertools.count(max(bot + 1, FIRST_BOT_ID))

    async def send(self, message: Outgoing) -> str:
        message_id = message.edit_message_id or str(next(self._bot_ids))
        said = Said(
            message_id,
            message.chat_id,
            message.text,
            message.reply_to,
            list(message.mention_user_ids),
            edited=message.edit_message_id is not None,
            buttons=[(b.label, b.data) for b in message.buttons],
            attachment=message.attachment,
        )
        self.said.append(said)
        if self.on_say:
            self.on_say(said)
        return message_id

    def pop(self) -> list[Said]:
        """What the bot said since the last pop (errbot's TestBackend style)."""
        out, self.said = self.said, []
        return out

    # Building messages as a rider would send them.
    def message(
        self,
        user: Sender,
        *,
        text: str | None = None,
        photos: list[bytes] | None = None,
        photo_as_file: bool = False,
        location: tuple[float, float] | None = None,
        album_id: str | None = None,
        command: str | None = None,
        args: str = "",
        reply_to: str | None = None,
        message_id: str | None = None,
        at: datetime | None = None,
    ) -> Incoming:
        return Incoming(
            platform=self.platform,
            chat_id=self.chat_id,
            chat_title=self.title,
            message_id=message_id or str(next(self._ids)),
            sender=user,
            sent_at=at or utc_now(),
            text=text,
            command=command,
            args=args,
            reply_to=reply_to,
            can=CONSOLE,  # the console takes /commands
            photos=[Photo(data=b, as_file=photo_as_file, unique_id=None) for b in photos or []],
            location=Location(*location) if location else None,
            album_id=album_id,
        )

    def parse_console_line(self, user: Sender, line: str) -> Incoming | None:
        """`/photo PATH`, `/file PATH` (uncompressed), `/loc LAT LON`, `/cmd ARGS`, or text."""
        line = line.strip()
        if not line:
            return None
        head, _, rest = line.partition(" ")
        if head == "/photo" or head == "/file":
            path, _, caption = rest.strip().partition(" ")
            data = Path(path).expanduser().read_bytes()
            return self.message(
                user, photos=[data], photo_as_file=head == "/file", text=caption or None
            )
        if head == "/loc":
            lat, lon = (float(x) for x in rest.split()[:2])
            return self.message(user, location=(lat, lon))
        if head.startswith("/"):
            rest = rest.strip()
            return self.message(user, command=head[1:].lower(), text=rest or None, args=rest)
        return self.message(user, text=line)
