"""Real-shaped Telegram updates, built from the captured fixtures with our own ids."""

from __future__ import annotations

import copy
import itertools
import json
from functools import cache
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
GROUP = {"id": -1001772241729, "title": "友谊路骑手群", "type": "supergroup"}
_ids = itertools.count(5000)


@cache
def _fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def fixture(name: str) -> dict:
    return copy.deepcopy(_fixture(name))


def user(uid: int, first_name: str, language: str = "zh-hans") -> dict:
    return {"id": uid, "is_bot": False, "first_name": first_name, "language_code": language}


def _message(name: str, sender: dict, chat: dict | None, message_id: int | None) -> dict:
    update = fixture(name)
    update.pop("update_id", None)
    msg = update["message"]
    msg["from"] = sender
    msg["chat"] = chat or GROUP
    msg["message_id"] = message_id or next(_ids)
    msg["date"] = 1763600000
    msg.pop("reply_to_message", None)
    msg.pop("message_thread_id", None)
    return update


def photo(
    sender: dict,
    file_id: str,
    *,
    caption: str | None = None,
    album: str | None = None,
    chat: dict | None = None,
    message_id: int | None = None,
    file_size: int = 91302,
) -> dict:
    """A compressed photo (four sizes, largest last), as group_photo_caption_media_group.json."""
    update = _message("group_photo_caption_media_group", sender, chat, message_id)
    msg = update["message"]
    for i, size in enumerate(msg["photo"]):
        size["file_id"] = f"{file_id}-s{i}" if i < 3 else file_id
        size["file_unique_id"] = f"u-{file_id}-s{i}" if i < 3 else f"u-{file_id}"
    msg["photo"][-1]["file_size"] = file_size
    msg.pop("caption", None)
    msg.pop("media_group_id", None)
    if caption is not None:
        msg["caption"] = caption
    if album is not None:
        msg["media_group_id"] = album
    return update


def location(
    sender: dict,
    lat: float,
    lon: float,
    *,
    live_period: int | None = None,
    chat: dict | None = None,
    message_id: int | None = None,
) -> dict:
    update = _message("location_private", sender, chat, message_id)
    update["message"]["location"] = {"latitude": lat, "longitude": lon}
    if live_period:
        update["message"]["location"]["live_period"] = live_period
    return update


def edited_location(original: dict, lat: float, lon: float) -> dict:
    """A live location moving: the same message, delivered as edited_message."""
    msg = copy.deepcopy(original["message"])
    msg["location"] = {**msg["location"], "latitude": lat, "longitude": lon}
    msg["edit_date"] = msg["date"] + 30
    return {"edited_message": msg}


def venue(
    sender: dict, lat: float, lon: float, title: str, address: str, chat: dict | None = None
) -> dict:
    update = _message("venue_message_with_location", sender, chat, None)
    msg = update["message"]
    msg["location"] = {"latitude": lat, "longitude": lon}
    msg["venue"].update(location={"latitude": lat, "longitude": lon}, title=title, address=address)
    msg["venue"]["location"].pop("live_period", None)
    return update


def image_document(
    sender: dict,
    file_id: str,
    *,
    caption: str | None = None,
    file_size: int = 80031,
    chat: dict | None = None,
) -> dict:
    """A JPEG sent as a file (EXIF kept), as document_image_jpeg_with_caption.json."""
    update = _message("document_image_jpeg_with_caption", sender, chat, None)
    doc = update["message"]["document"]
    doc.update(file_id=file_id, file_unique_id=f"u-{file_id}", file_size=file_size)
    update["message"].pop("caption", None)
    if caption is not None:
        update["message"]["caption"] = caption
    return update


def text(sender: dict, body: str, chat: dict | None = None, message_id: int | None = None) -> dict:
    update = _message("location_private", sender, chat, message_id)
    del update["message"]["location"]
    update["message"]["text"] = body
    return update


def command(sender: dict, body: str, chat: dict | None = None) -> dict:
    """`/report`, `/help@woodpecker_bot`… with its bot_command entity, as the captured one."""
    update = _message("command_supergroup_reply_with_entities", sender, chat, None)
    msg = update["message"]
    msg["text"] = body
    word = body.split(" ", 1)[0]
    msg["entities"] = [
        {"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}
    ]
    return update


def private_chat(person: dict) -> dict:
    return {"id": person["id"], "type": "private", "first_name": person["first_name"]}


def reply_command(
    sender: dict, body: str, to_message_id: int, to_sender: dict, chat: dict | None = None
) -> dict:
    """A command sent as a reply to someone's message (how a secretary is appointed)."""
    update = command(sender, body, chat)
    update["message"]["reply_to_message"] = {
        "message_id": to_message_id,
        "from": to_sender,
        "chat": chat or GROUP,
        "date": 1763599000,
        "text": "收到",
    }
    return update


def button(sender: dict, data: str, card_message_id: int, chat: dict | None = None) -> dict:
    """A press on an inline button under the bot's card (shape of the shared fixture)."""
    update = fixture("callback_query_supergroup_inline_keyboard")
    update.pop("update_id", None)
    query = update["callback_query"]
    query["id"] = str(next(_ids))
    query["from"] = sender
    query["data"] = data
    query["message"]["message_id"] = card_message_id
    query["message"]["chat"] = chat or GROUP
    query["message"]["from"] = {
        "id": 123456,
        "is_bot": True,
        "first_name": "Woodpecker",
        "username": "woodpecker_bot",
    }
    return update
