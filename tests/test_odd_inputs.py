"""Odd and hostile input through the Bot API: a clear answer every time, and nothing changes."""

from __future__ import annotations

import pytest

from bot.telegram.port import TelegramPort
from handlers.types import Attachment, Outgoing
from tests import telegram_updates as tu
from tests.images import jpeg
from tests.test_secretary import (
    ADMIN,
    GROUP,
    LAOWANG,
    events,
    report,
    say,
    start_bot,
    ticket,
)

USAGE = "请写工单号，例如："


@pytest.fixture
async def tg(api, tmp_path, clock):
    bot = await start_bot(api, tmp_path, clock)
    yield bot
    await bot.stop()


async def test_a_ticket_number_that_is_no_plain_number_gets_the_usage_and_changes_nothing(api, tg):
    number, _ = await report(api, LAOWANG, "odd1")
    for odd in ("²", "99999999999999999999", "１", "0", "-1"):
        said = await say(api, tu.command(ADMIN, f"/accept {odd}"))
        assert [s["text"] for s in said] == [f"{USAGE}/accept 17"], odd
    for odd in ("²", "99999999999999999999"):
        said = await say(api, tu.command(ADMIN, f"/ticket {odd}"))
        assert [s["text"] for s in said] == [f"{USAGE}/ticket 17"], odd
    said = await say(api, tu.command(ADMIN, f"/dup {number} 99999999999999999999"))
    assert [s["text"] for s in said] == [f"请写成“/dup {number} 原工单号”，例如 /dup {number} 12。"]
    assert (await ticket(tg, number)).status == "new"
    assert await events(tg, number) == [("report", "", "new")]


async def test_a_button_with_odd_data_is_answered_and_changes_nothing(api, tg):
    number, card = await report(api, LAOWANG, "odd2")
    for data in ("wp:accept:²", "wp:accept:99999999999999999999", "wp:accept:"):
        await say(api, tu.button(ADMIN, data, card))
    assert len(api.calls("answerCallbackQuery")) == 3  # no button left spinning
    assert (await ticket(tg, number)).status == "new"


async def test_a_ticket_with_a_4096_character_description_is_shown_in_several_messages(api, tg):
    long = "井盖缺失，电动车差点掉进去。" * 300
    long = long[:4096]
    number, _ = await report(api, LAOWANG, "odd3", caption=None)
    await say(api, tu.text(LAOWANG, long))  # the words right after: the description
    said = await say(api, tu.command(ADMIN, f"/ticket {number}"))
    assert len(said) >= 2 and all(len(s["text"]) <= 4096 for s in said)
    shown = "".join(s["text"] for s in said)
    assert long in shown.replace("\n", "") or long in shown
    assert said[0]["reply_to_message_id"] is not None


async def test_a_long_caption_goes_as_messages_before_the_file(api):
    port = TelegramPort(_bot(api))
    await port.bot.initialize()
    text = "\n".join(f"第 {i} 行：本周新增工单" for i in range(200))  # ~3,000 characters
    out = Outgoing(
        "telegram", str(GROUP["id"]), text, attachment=Attachment("photo", "c.png", jpeg())
    )
    await port.send(out)
    await port.bot.shutdown()
    methods = [s["method"] for s in api.sent]
    assert methods[-1] == "sendPhoto" and set(methods[:-1]) == {"sendMessage"}
    assert "".join(s["text"] or "" for s in api.sent[:-1]).replace("\n", "") == text.replace(
        "\n", ""
    )
    assert all(len(s["text"]) <= 4096 for s in api.sent[:-1])


def _bot(api):
    from telegram import Bot

    return Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)


async def test_an_image_file_of_undeclared_size_stops_downloading_at_20_mb(api, tg):
    path = api.add_endless_file("huge", 150 * 1024 * 1024)
    update = tu.image_document(LAOWANG, "huge")
    del update["message"]["document"]["file_size"]
    said = await say(api, update)
    assert [s["text"] for s in said] == [
        "老王，文件超过 20 MB，没有登记。请直接拍照发送，不要以文件发送。"
    ]
    assert api.served[path] < 40 * 1024 * 1024  # not the whole 150 MB
