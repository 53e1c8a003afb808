"""The fake Bot API server speaks enough Telegram for the real python-telegram-bot stack."""

from __future__ import annotations

import asyncio
import re

import pytest
from telegram import Bot, ReplyParameters, Update
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "123:ABC"
GROUP = {"id": -1001, "type": "supergroup", "title": "Couriers"}
ALICE = {"id": 42, "is_bot": False, "first_name": "Alice"}


def text_update(text: str, update_id: int | None = None, message_id: int = 7) -> dict:
    update = {
        "message": {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": GROUP,
            "from": ALICE,
            "text": text,
        }
    }
    if update_id is not None:
        update["update_id"] = update_id
    return update


@pytest.fixture
async def api():
    fake = FakeTelegramAPI(token=TOKEN, bot_username="woodpecker_bot")
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def make_bot(api: FakeTelegramAPI, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=api.base_url, base_file_url=api.base_file_url)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


@pytest.mark.asyncio
async def test_get_me_and_wrong_token(api: FakeTelegramAPI) -> None:
    async with make_bot(api) as bot:
        me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123, "woodpecker_bot", True)
    assert me.can_read_all_group_messages is True
    with pytest.raises(InvalidToken):
        async with make_bot(api, token="999:WRONG"):
            pass


@pytest.mark.asyncio
async def test_send_message_records_reply_and_assigns_ids(api: FakeTelegramAPI) -> None:
    api.push_update(text_update("hi", message_id=7))  # teaches the fake chat 'GROUP'
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    async with make_bot(api) as bot:
        first = await bot.send_message(
            GROUP["id"],
            "hello",
            reply_parameters=ReplyParameters(message_id=7),
            reply_markup=markup,
        )
        second = await bot.send_message(GROUP["id"], "again")
        edited = await bot.edit_message_text("bye", GROUP["id"], first.message_id)
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_text("bye", GROUP["id"], first.message_id)
    assert (first.message_id, second.message_id) == (8, 9)
    assert first.reply_to_message is not None and first.reply_to_message.message_id == 7
    assert first.from_user is not None and first.from_user.username == "woodpecker_bot"
    assert first.chat.title == "Couriers"
    assert edited.text == "bye"
    entry = api.sent[0]
    assert entry["method"] == "sendMessage"
    assert (entry["chat_id"], entry["text"], entry["reply_to_message_id"]) == (-1001, "hello", 7)
    assert entry["reply_markup"] == markup
    assert [e["method"] for e in api.sent] == ["sendMessage", "sendMessage", "editMessageText"]
    assert api.edited[0]["message_id"] == first.message_id


@pytest.mark.asyncio
async def test_injected_429_raises_retry_after_once(api: FakeTelegramAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=3)
    async with make_bot(api) as bot:
        with pytest.raises(RetryAfter) as excinfo:
            await bot.send_message(1, "x")
        assert re.search(r"Retry in (3 seconds|0:00:03)", str(excinfo.value))
        await bot.send_message(1, "x")
    assert len(api.sent) == 1
    assert [m for m, _ in api.requests] == ["getMe", "sendMessage", "sendMessage"]


@pytest.mark.asyncio
async def test_get_file_and_download(api: FakeTelegramAPI) -> None:
    api.add_file("photo-1", b"\xff\xd8jpeg-bytes", file_path="photos/file_1.jpg")
    api.add_file("huge", file_size=25 * 1024 * 1024)
    async with make_bot(api) as bot:
        file = await bot.get_file("photo-1")
        assert file.file_size == len(b"\xff\xd8jpeg-bytes")
        assert await file.download_as_bytearray() == bytearray(b"\xff\xd8jpeg-bytes")
        with pytest.raises(BadRequest, match=r"(?i)file is too big"):
            await bot.get_file("huge")
        sent = await bot.send_photo(5, photo=b"raw-upload", caption="pic")
    assert api.sent[-1]["caption"] == "pic"
    assert api.calls("sendPhoto")[0]["photo"] == b"raw-upload"
    assert sent.photo[-1].file_size == len(b"raw-upload")


async def run_echo_app(api: FakeTelegramAPI, *pushes: dict) -> list[int]:
    """Run a real polling Application with an echo handler; return the handled update ids.

    Each update is pushed only once the previous one was echoed and confirmed by the bot.
    """
    app = (
        Application.builder()
        .token(TOKEN)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    seen: list[int] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update.update_id)

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(MessageHandler(filters.ALL, record), group=1)
    async with app:
        await app.start()
        try:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            for n, update in enumerate(pushes, start=1):
                api.push_update(update)
                await api.wait_for_sent(n)
                await api.wait_until_delivered()
        finally:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
    return seen


@pytest.mark.asyncio
async def test_application_polls_and_echoes(api: FakeTelegramAPI) -> None:
    seen = await asyncio.wait_for(run_echo_app(api, text_update("ping")), 10)
    assert seen == [1]
    assert api.sent[0]["text"] == "echo: ping"
    assert api.sent[0]["reply_to_message_id"] == 7
    assert api.pending_updates == 0


@pytest.mark.asyncio
async def test_duplicate_update_id_is_redelivered(api: FakeTelegramAPI) -> None:
    first = text_update("one", update_id=5)
    again = text_update("one", update_id=5)
    # 'again' is pushed after the bot confirmed id 5 (offset=6); it must still be delivered
    seen = await asyncio.wait_for(run_echo_app(api, first, again), 10)
    assert seen == [5, 5]
    assert "6" in [params.get("offset") for params in api.calls("getUpdates")]
    assert [e["text"] for e in api.sent] == ["echo: one", "echo: one"]


@pytest.mark.asyncio
async def test_offset_confirms_only_updates_already_handed_out(api: FakeTelegramAPI) -> None:
    api.push_update(text_update("one", update_id=5))
    async with make_bot(api) as bot:
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [5]
        api.push_update(text_update("one", update_id=5))  # redelivery, pushed before the ack
        assert [u.update_id for u in await bot.get_updates(offset=6, timeout=0)] == [5]
        assert await bot.get_updates(offset=6, timeout=0) == ()
    await api.wait_until_delivered(timeout=0.1)


@pytest.mark.asyncio
async def test_wait_for_sent_times_out(api: FakeTelegramAPI) -> None:
    with pytest.raises(TimeoutError):
        await api.wait_for_sent(1, timeout=0.05)
