"""wechaty's own FakePuppet, made whole enough to run the WeChat adapter offline.

The stock FakePuppet returns a fixed id from `message_send_*` without storing a payload (so
`room.say` fails reloading it), returns None from `message_image`, and drops a room member's
payload the first time it is read. This one stores what the bot says as real message payloads,
serves real FileBoxes for images and files, and keeps members. Helpers build what riders send
(room text, photo, photo as a file, shared location) and emit it the way the puppet service does:
an `EventMessagePayload(message_id=…)` on the puppet's event emitter.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from dataclasses import dataclass

import eviltransform

from bot.wechat.sdk import (
    ContactPayload,
    EventMessagePayload,
    FileBox,
    ImageType,
    MessagePayload,
    MessageType,
    PuppetOptions,
    RoomMemberPayload,
    RoomPayload,
    fake_puppet_class,
)

BOT_ID = "wxid_woodpecker"
BOT_NAME = "啄木鸟"
TIMESTAMP = 1763600000


@dataclass
class Said:
    """What the bot said in a conversation."""

    message_id: str
    conversation_id: str
    text: str
    mention_ids: list[str]
    file: FileBox | None = None


def location_xml(
    lat: float,
    lon: float,
    label: str | None = "上海市宝山区友谊路1号",
    poiname: str | None = "友谊路地铁站",
    wgs84: bool = True,
) -> str:
    """WeChat's XML for a shared location, in GCJ-02 (converted from WGS-84 unless told)."""
    if wgs84:
        lat, lon = eviltransform.wgs2gcj(lat, lon)
    attrs = f'x="{lat:.6f}" y="{lon:.6f}" scale="16"'
    if label is not None:
        attrs += f' label="{label}"'
    attrs += ' maptype="roadmap"'
    if poiname is not None:
        attrs += f' poiname="{poiname}" poiid="nearby_1234567890"'
    return f'<?xml version="1.0"?>\n<msg>\n\t<location {attrs} />\n</msg>\n'


class WeChatFakePuppet(fake_puppet_class()):
    def __init__(self) -> None:
        super().__init__(PuppetOptions(), name="fake")
        self._contact_payloads.clear()
        self.login_user_id = BOT_ID
        self.add_contact(BOT_ID, BOT_NAME)
        self._files: dict[str, FileBox] = {}
        self._members: dict[tuple[str, str], RoomMemberPayload] = {}
        self._ids = itertools.count(7_000_000_001)
        self.said: list[Said] = []
        self.echo = True
        self.slow: dict[str, int] = {}  # message id → event-loop turns its payload load takes

    # The world: contacts and rooms.
    def add_contact(self, contact_id: str, name: str) -> None:
        self.add_fake_contact(ContactPayload(id=contact_id, name=name, friend=False))

    def add_room(
        self,
        room_id: str,
        topic: str,
        members: dict[str, str],
        owner_id: str | None = None,
        admin_ids: list[str] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> None:
        for contact_id, name in members.items():
            self.add_contact(contact_id, name)
        ids = [BOT_ID, *members]
        self.add_fake_room(
            RoomPayload(
                id=room_id,
                topic=topic,
                member_ids=ids,
                owner_id=owner_id or "",
                admin_ids=admin_ids or [],
            )
        )
        for contact_id in ids:
            alias = (aliases or {}).get(contact_id, "")
            self._members[(room_id, contact_id)] = RoomMemberPayload(
                id=contact_id, name=members.get(contact_id, BOT_NAME), room_alias=alias
            )

    async def room_member_payload(self, room_id: str, contact_id: str) -> RoomMemberPayload:
        return self._members.get((room_id, contact_id))

    # What riders send.
    def next_id(self) -> str:
        return str(next(self._ids))

    def _store(
        self,
        room_id: str,
        from_id: str,
        kind: MessageType,
        text: str = "",
        filename: str = "",
        mention_ids: list[str] | None = None,
        message_id: str | None = None,
    ) -> str:
        message_id = message_id or self.next_id()
        self.add_fake_message(
            MessagePayload(
                id=message_id,
                filename=filename,
                text=text,
                timestamp=TIMESTAMP,
                type=kind,
                from_id=from_id,
                room_id=room_id,
                to_id="",
                mention_ids=mention_ids or [],
            )
        )
        return message_id

    def emit_message(self, message_id: str) -> None:
        """What the puppet service does when WeChat delivers (or re-delivers) a message."""
        self.emitter.emit("message", EventMessagePayload(message_id=message_id))

    def send_text(
        self, room_id: str, from_id: str, text: str, mention_ids: list[str] | None = None
    ) -> str:
        message_id = self._store(
            room_id, from_id, MessageType.MESSAGE_TYPE_TEXT, text, mention_ids=mention_ids
        )
        self.emit_message(message_id)
        return message_id

    def send_image(
        self,
        room_id: str,
        from_id: str,
        data: bytes,
        as_file: bool = False,
        name: str = "",
        slow: int = 0,
    ) -> str:
        kind = MessageType.MESSAGE_TYPE_ATTACHMENT if as_file else MessageType.MESSAGE_TYPE_IMAGE
        filename = name or ("IMG_20261120_100000.jpg" if as_file else "image.jpg")
        message_id = self._store(room_id, from_id, kind, filename=filename)
        self._files[message_id] = FileBox.from_base64(base64.b64encode(data), name=filename)
        self.slow[message_id] = slow
        self.emit_message(message_id)
        return message_id

    def send_location_xml(self, room_id: str, from_id: str, xml: str, as_text: bool = False) -> str:
        kind = MessageType.MESSAGE_TYPE_TEXT if as_text else MessageType.MESSAGE_TYPE_LOCATION
        message_id = self._store(room_id, from_id, kind, xml)
        self.emit_message(message_id)
        return message_id

    def send_location(self, room_id: str, from_id: str, lat: float, lon: float, **kw) -> str:
        """A shared location at WGS-84 (lat, lon), as WeChat would send it (GCJ-02 XML)."""
        return self.send_location_xml(room_id, from_id, location_xml(lat, lon, **kw))

    async def message_payload(self, message_id: str) -> MessagePayload:
        for _ in range(self.slow.get(message_id, 0)):
            await asyncio.sleep(0)  # a slow load: later messages' loads finish first
        return self.get_fake_message(message_id)

    # What the bot does.
    async def message_image(
        self, message_id: str, image_type: ImageType = ImageType.IMAGE_TYPE_HD
    ) -> FileBox:
        return self._files.get(message_id)

    async def message_file(self, message_id: str) -> FileBox:
        return self._files.get(message_id)

    async def message_send_text(
        self, conversation_id: str, message: str, mention_ids: list[str] | None = None
    ) -> str:
        message_id = self._store(
            conversation_id, BOT_ID, MessageType.MESSAGE_TYPE_TEXT, message, mention_ids=mention_ids
        )
        self.said.append(Said(message_id, conversation_id, message, list(mention_ids or [])))
        if self.echo:
            self.emit_message(message_id)  # WeChat shows the bot its own words too
        return message_id

    async def message_send_file(self, conversation_id: str, file: FileBox) -> str:
        message_id = self._store(
            conversation_id, BOT_ID, MessageType.MESSAGE_TYPE_IMAGE, filename=file.name
        )
        self._files[message_id] = file
        self.said.append(Said(message_id, conversation_id, "", [], file=file))
        return message_id

    def pop(self) -> list[Said]:
        out, self.said = self.said, []
        return out
