"""The real python-telegram-bot Application, over HTTP, against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from storage.models import Chat
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.conftest import photo_count, tickets
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import jpeg, jpeg_with_gps, seed_of

SPOT = (31.40512, 121.48931)
LAOWANG = tu.user(7001, "老王")
XIAOLI = tu.user(7002, "小李")
GROUP_ID = str(tu.GROUP["id"])


async def _start(api: FakeTelegramAPI, tmp_path, clock, **overrides) -> TelegramBot:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TOKEN,
        telegram_base_url=api.base_url,
        **overrides,
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    return bot


@pytest.fixture
async def tg(api, tmp_path, clock):
    bot = await _start(api, tmp_path, clock)
    yield bot
    await bot.stop()


def replies(api: FakeTelegramAPI) -> list[dict]:
    return [s for s in api.sent if s["method"] == "sendMessage"]


async def settle(api: FakeTelegramAPI, chat: dict | None = None) -> list[dict]:
    """Everything before this point in the chat is handled: /help goes last and is answered last."""
    helps = sum(_is_help(s) for s in api.sent)
    api.push_update(tu.command(LAOWANG, "/help", chat=chat))
    n = len(api.sent)
    while sum(_is_help(s) for s in api.sent) == helps:
        n += 1
        await api.wait_for_sent(n)
    return [s for s in replies(api) if not _is_help(s)]


def _is_help(sent: dict) -> bool:
    return "随手拍两步" in (sent.get("text") or "")


def add_photo(api: FakeTelegramAPI, file_id: str, data: bytes | None = None) -> None:
    api.add_file(file_id, data or jpeg(seed_of(file_id)), file_unique_id=f"u-{file_id}")


async def test_photo_then_location_is_one_message_acknowledged_in_thread(api, tg, clock):
    add_photo(api, "ph1")
    api.push_update(tu.photo(LAOWANG, "ph1", caption="井盖坏了"))
    api.push_update(tu.location(LAOWANG, *SPOT, message_id=4242))
    [ack] = await settle(api)
    assert ack["text"].startswith("已登记 #1 井盖损坏 — 谢谢！")
    assert ack["reply_to_message_id"] == 4242
    assert ack["chat_id"] in (GROUP_ID, int(GROUP_ID))
    [ticket] = await tickets(tg.core)
    assert (ticket.lat, ticket.lon) == SPOT and ticket.card_message_id == str(ack["message_id"])
    clock.advance(minutes=1)  # past the grace: the sender (woken by /help) has nothing to ask
    assert await settle(api) == [ack]


async def test_a_lone_report_photo_is_asked_for_its_location_after_the_grace_not_before(
    api, tg, clock
):
    add_photo(api, "ph7")
    api.push_update(tu.photo(LAOWANG, "ph7", caption="这里积水很深", message_id=777))
    assert await settle(api) == []
    clock.advance(seconds=29)
    assert await settle(api) == []  # the sender ran at +29 s (it answered /help) and held it
    clock.advance(seconds=1)
    tg.core.sender.wake()
    await api.wait_for_sent(len(api.sent) + 1)
    [ask] = replies(api)[-1:]
    assert ask["text"] == "老王，照片收到 📷 请在 10 分钟内再发一个位置（📎→位置）。"
    assert ask["reply_to_message_id"] == 777
    api.push_update(tu.location(LAOWANG, *SPOT))
    [_, ack] = await settle(api)
    assert ack["text"].startswith("已登记 #1 道路积水")


async def test_a_restart_during_the_grace_still_asks_once(api, tmp_path, clock):
    bot = await _start(api, tmp_path, clock)
    try:
        add_photo(api, "ph8")
        api.push_update(tu.photo(LAOWANG, "ph8", caption="井盖坏了"))
        assert await settle(api) == []
    finally:
        await bot.stop()
    clock.advance(seconds=31)
    bot = await _start(api, tmp_path, clock)  # its sender's first look finds the question due
    try:
        await api.wait_for_sent(len(api.sent) + 1)
        clock.advance(minutes=5)
        [ask] = await settle(api)
        assert ask["text"].startswith("老王，照片收到 📷")
    finally:
        await bot.stop()


async def test_location_then_photo(api, tg):
    add_photo(api, "ph2")
    api.push_update(tu.location(LAOWANG, *SPOT))
    api.push_update(tu.photo(LAOWANG, "ph2"))
    [ack] = await settle(api)
    assert ack["text"].startswith("已登记 #1 其他")


async def test_album_of_three_is_one_ticket_with_one_acknowledgement(api, tg):
    for i in range(3):
        add_photo(api, f"alb{i}")
    api.push_update(tu.location(LAOWANG, *SPOT))
    api.push_update(tu.photo(LAOWANG, "alb0", album="mg-1"))
    api.push_update(tu.photo(LAOWANG, "alb1", album="mg-1", caption="共享单车堵住车道"))
    api.push_update(tu.photo(LAOWANG, "alb2", album="mg-1"))
    [ack] = await settle(api)
    assert ack["text"].startswith("已登记 #1")
    [ticket] = await tickets(tg.core)
    assert await photo_count(tg.core, ticket.id) == 3
    assert ticket.description == "共享单车堵住车道" and ticket.category == "共享单车乱停"


async def test_image_document_with_exif_gps_is_a_whole_report(api, tg):
    api.add_file("doc1", jpeg_with_gps(31.2304, 121.4737), file_unique_id="u-doc1")
    api.push_update(tu.image_document(LAOWANG, "doc1", caption="路口积水"))
    [ack] = await settle(api)
    assert ack["text"].startswith("已登记 #1 道路积水")
    [ticket] = await tickets(tg.core)
    assert abs(ticket.lat - 31.2304) < 1e-4 and abs(ticket.lon - 121.4737) < 1e-4


async def test_venue_counts_as_a_location_with_its_address(api, tg):
    add_photo(api, "ph3")
    api.push_update(tu.photo(LAOWANG, "ph3"))
    api.push_update(tu.venue(LAOWANG, *SPOT, "友谊路地铁站", "宝山区友谊路"))
    [ack] = await settle(api)
    assert "已登记 #1" in ack["text"]
    [ticket] = await tickets(tg.core)
    assert ticket.address == "友谊路地铁站 宝山区友谊路"


async def test_live_location_counts_once_and_its_moves_change_nothing(api, tg):
    add_photo(api, "ph4")
    live = tu.location(LAOWANG, *SPOT, live_period=900)
    api.push_update(live)
    api.push_update(tu.photo(LAOWANG, "ph4"))
    for step in range(1, 4):
        api.push_update(tu.edited_location(live, SPOT[0] + step * 0.001, SPOT[1]))
    [ack] = await settle(api)
    assert "已登记 #1" in ack["text"]
    [ticket] = await tickets(tg.core)
    assert (ticket.lat, ticket.lon) == SPOT


async def test_help_addressed_to_the_bot_in_a_group(api, tg):
    api.push_update(tu.command(XIAOLI, "/help@woodpecker_bot"))
    [reply] = await api.wait_for_sent(1)
    assert "随手拍两步" in reply["text"] and "10 分钟内" in reply["text"]
    api.push_update(tu.command(tu.user(7003, "Tom", "en"), "/start"))
    sent = await api.wait_for_sent(2)
    assert sent[1]["text"].startswith("Woodpecker 🐦")


async def test_a_command_for_another_bot_and_chatter_get_no_reply(api, tg):
    api.push_update(tu.command(XIAOLI, "/help@other_bot"))
    api.push_update(tu.text(XIAOLI, "中午吃啥？"))
    api.push_update(tu.text(XIAOLI, "老王牛啊"))
    assert await settle(api) == []
    assert len(api.sent) == 1  # only the /help that settle() sent


async def test_the_same_update_delivered_twice_makes_one_ticket(api, tg):
    add_photo(api, "ph5")
    api.push_update(tu.location(LAOWANG, *SPOT))
    update = tu.photo(LAOWANG, "ph5", message_id=777)
    first = api.push_update(update)
    await settle(api)
    api.push_update({**update, "update_id": first})  # Telegram re-sends an unconfirmed update
    acks = await settle(api)
    assert len(acks) == 1 and len(await tickets(tg.core)) == 1


async def test_a_429_on_send_is_waited_out_and_the_reply_arrives_once(api, tg):
    add_photo(api, "ph6")
    api.fail_next("sendMessage", status=429, retry_after=1)
    api.push_update(tu.location(LAOWANG, *SPOT))
    api.push_update(tu.photo(LAOWANG, "ph6"))
    [ack] = await settle(api)
    assert "已登记 #1" in ack["text"]
    assert len([c for c in api.calls("sendMessage") if "已登记" in str(c.get("text"))]) == 2


async def test_a_file_over_20_mb_gets_a_clear_reply(api, tg):
    api.push_update(tu.image_document(LAOWANG, "huge", file_size=25 * 1024 * 1024))
    [reply] = await settle(api)
    assert "文件超过 20 MB" in reply["text"]
    assert api.calls("getFile") == []


async def test_a_group_upgraded_to_a_supergroup_keeps_its_tickets(api, tg):
    old = {"id": -4001, "title": "骑手群", "type": "group"}
    new = {"id": -1004001, "title": "骑手群", "type": "supergroup"}
    add_photo(api, "ph7")
    api.push_update(tu.location(LAOWANG, *SPOT, chat=old))
    api.push_update(tu.photo(LAOWANG, "ph7", chat=old))
    await settle(api, chat=old)
    migrate = tu.text(LAOWANG, "", chat=old)
    del migrate["message"]["text"]
    migrate["message"]["migrate_to_chat_id"] = new["id"]
    api.push_update(migrate)
    await settle(api, chat=old)  # in order after the upgrade notice
    async with tg.core.db.read() as s:
        chats = (await s.execute(select(Chat.id, Chat.chat_id))).all()
    [ticket] = await tickets(tg.core)
    assert [(ticket.chat_pk, "-1004001")] == chats


async def test_an_upgrade_noticed_after_the_new_chat_spoke_merges_the_two(api, tg):
    from handlers.chats import migrate_chat

    old = {"id": -4002, "title": "骑手群", "type": "group"}
    new = {"id": -1004002, "title": "骑手群", "type": "supergroup"}
    for chat, fid in ((old, "ph8"), (new, "ph9")):
        add_photo(api, fid)
        api.push_update(tu.location(LAOWANG, *SPOT, chat=chat))
        api.push_update(tu.photo(LAOWANG, fid, chat=chat))
        await settle(api, chat=chat)
    assert await migrate_chat(tg.core.deps, "telegram", "-4002", "-1004002")
    async with tg.core.db.read() as s:
        chats = (await s.execute(select(Chat.id, Chat.chat_id))).all()
    [(pk, chat_id)] = chats
    assert chat_id == "-1004002"
    assert [t.chat_pk for t in await tickets(tg.core)] == [pk, pk]


async def test_start_sets_commands_and_warns_admins_when_privacy_mode_hides_photos(tmp_path, clock):
    fake = FakeTelegramAPI(
        token=TOKEN, bot_username="woodpecker_bot", can_read_all_group_messages=False
    )
    await fake.start()
    fake.set_admins(tu.GROUP["id"], [LAOWANG["id"]])
    bot = await _start(fake, tmp_path, clock)
    try:
        commands = fake.calls("setMyCommands")
        assert [[c["command"] for c in call["commands"]] for call in commands] == [
            ["report", "points", "rank", "rewards", "tickets", "nearby", "help", "start"]
        ] * 2  # Chinese by default, English for `en`
        assert commands[1]["language_code"] == "en" and commands[1]["commands"][1] == {
            "command": "points",
            "description": "My points",
        }
        fake.push_update(tu.command(XIAOLI, "/help"))
        fake.push_update(tu.command(LAOWANG, "/help"))
        member_reply, admin_reply = await fake.wait_for_sent(2)
        assert "隐私模式" not in member_reply["text"]
        assert "隐私模式" in admin_reply["text"]
    finally:
        await bot.stop()
        await fake.stop()
