"""The 整改后照片 in the chat: the secretary replies to the ticket's card with a photo and
`解决` (or `/resolve`); the ticket is resolved through the same use case, the reporter and the
group see before and after side by side. Through the real Telegram Application."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from storage.models import Photo, Ticket
from tests import telegram_updates as tu
from tests.images import scene
from tests.test_secretary import (
    GROUP,
    LAOWANG,
    PENG,
    XIAOLI,
    appoint,
    report,
    settle,
    start_bot,
    start_privately,
)

BOT = {"id": 123456, "is_bot": True, "first_name": "Woodpecker", "username": "woodpecker_bot"}


@pytest.fixture
async def tg(api, tmp_path, clock):
    bot = await start_bot(api, tmp_path, clock)
    yield bot
    await bot.stop()


def photo_reply(sender: dict, file_id: str, caption: str, card: int) -> dict:
    """A photo sent as a reply to the bot's card, with a caption (a command's entity if /…)."""
    update = tu.photo(sender, file_id, caption=caption)
    msg = update["message"]
    msg["reply_to_message"] = {
        "message_id": card, "from": BOT, "chat": GROUP, "date": 1763599000, "text": "已登记",
    }  # fmt: skip
    if caption.startswith("/"):
        word = caption.split(" ")[0]
        msg["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": len(word)}]
    return update


async def after_photos(tg, number: int) -> int:
    async with tg.core.db.read() as s:
        stmt = select(Photo.id).where(Photo.ticket_id == number, Photo.kind == "after")
        return len((await s.execute(stmt)).all())


@pytest.mark.parametrize("caption", ["/resolve 已修好", "解决 已修好"])
async def test_replying_to_the_card_with_a_photo_resolves_it_with_the_after_photo(api, tg, caption):
    await appoint(api, PENG)
    await start_privately(api, LAOWANG)
    number, card = await report(api, LAOWANG, "before1")
    api.add_file("after1", scene(7, size=(480, 640)), file_unique_id="u-after1")
    api.push_update(photo_reply(PENG, "after1", caption, card))
    await settle(api)
    async with tg.core.db.read() as s:
        ticket = await s.get(Ticket, number)
    assert (ticket.status, ticket.note) == ("resolved", "已修好")
    edits = [e for e in api.edited if e["message_id"] == card]
    assert "已解决 · 已修好" in edits[-1]["text"]
    pictures = [s for s in api.sent if s["method"] == "sendPhoto"]
    assert sorted(str(p["chat_id"]) for p in pictures) == sorted(
        [str(GROUP["id"]), str(LAOWANG["id"])]
    )
    in_group = next(p for p in pictures if str(p["chat_id"]) == str(GROUP["id"]))
    assert in_group["caption"] == f"#{number} 整改前 / 整改后"
    # One picture, the report's photo and the after photo side by side.
    picture = Image.open(io.BytesIO(in_group["params"]["photo"]))
    assert picture.width > picture.height
    assert await after_photos(tg, number) == 1


async def test_a_rider_cannot_resolve_by_replying_with_a_photo(api, tg):
    await appoint(api, PENG)
    number, card = await report(api, LAOWANG, "before2")
    api.add_file("after2", scene(8), file_unique_id="u-after2")
    api.push_update(photo_reply(XIAOLI, "after2", "/resolve 修好了", card))
    said = await settle(api)
    assert any("只有本群书记" in (s["text"] or "") for s in said), said
    async with tg.core.db.read() as s:
        assert (await s.get(Ticket, number)).status == "new"
    assert await after_photos(tg, number) == 0
    assert not [s for s in api.sent if s["method"] == "sendPhoto"]


async def test_a_photo_captioned_resolve_that_answers_no_card_gets_the_usage_line(api, tg):
    await appoint(api, PENG)
    api.add_file("after3", scene(9), file_unique_id="u-after3")
    api.push_update(photo_reply(PENG, "after3", "/resolve", 424242))
    said = await settle(api)
    assert any("/resolve 17" in (s["text"] or "") for s in said), said
