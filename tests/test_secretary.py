"""The secretary runs tickets from inside the group, through the real Telegram Application."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, select

from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from storage.models import Role, Ticket, TicketEvent
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.conftest import both_backends
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import jpeg, seed_of

SPOT = (31.40512, 121.48931)
_spots = itertools.count()
ADMIN = tu.user(9001, "运营")
PENG = tu.user(9002, "彭文兴")  # the street's secretary, "老大"
ZHOU = tu.user(9003, "周书记")  # a second secretary
LAOWANG = tu.user(7001, "老王")  # a courier who reports
XIAOLI = tu.user(7002, "小李")  # another courier
GROUP = tu.GROUP


async def start_bot(api, tmp_path, clock, database_url=None, **overrides) -> TelegramBot:
    settings = Settings(
        _env_file=None,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TOKEN,
        telegram_base_url=api.base_url,
        admin_user_ids=[str(ADMIN["id"])],
        telegram_rate_limit=False,  # these tests say more than 20 lines a minute into one group
        **overrides,
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    return bot


@pytest.fixture
async def tg(api, tmp_path, clock, database_url):
    bot = await start_bot(api, tmp_path, clock, database_url)
    yield bot
    await bot.stop()


def _is_help(sent: dict) -> bool:
    return "随手拍两步" in (sent.get("text") or "")


async def settle(
    api: FakeTelegramAPI, chat: dict | None = None, sender: dict = ADMIN
) -> list[dict]:
    """Wait until all before this point in `chat` is handled and said; return the new messages."""
    start = len(api.sent)
    helps = sum(_is_help(s) for s in api.sent)
    api.push_update(tu.command(sender, "/help", chat=chat))
    n = len(api.sent)
    while sum(_is_help(s) for s in api.sent) == helps:
        n += 1
        await api.wait_for_sent(n)
    return [s for s in api.sent[start:] if not _is_help(s)]


async def say(api, update: dict, chat: dict | None = None) -> list[dict]:
    api.push_update(update)
    return await settle(api, chat)


async def report(api, rider: dict, fid: str, caption: str = "井盖坏了") -> tuple[int, int]:
    """A rider reports; returns (ticket number, the card's message id)."""
    api.add_file(fid, jpeg(seed_of(fid)), file_unique_id=f"u-{fid}")
    # Each report its own spot, ~220 m apart: reports of one place would merge (handlers/geo).
    api.push_update(tu.location(rider, SPOT[0] + next(_spots) * 0.002, SPOT[1]))
    [ack] = await say(api, tu.photo(rider, fid, caption=caption))
    number = int(ack["text"].split("#")[1].split(" ")[0])
    return number, ack["message_id"]


async def appoint(api, who: dict = PENG) -> None:
    said = await say(api, tu.reply_command(ADMIN, "/secretary", 11, who))
    assert said[-1]["text"] == f"已设 {who['first_name']} 为本群书记。"


async def start_privately(api, person: dict) -> None:
    """The person opens a private chat with the bot and presses Start."""
    await settle(api, tu.private_chat(person), sender=person)


async def settle_private(api, person: dict) -> None:
    await settle(api, tu.private_chat(person), sender=person)


async def ticket(tg, number: int) -> Ticket:
    async with tg.core.db.read() as s:
        return await s.get(Ticket, number)


async def events(tg, number: int) -> list[tuple[str, str, str]]:
    async with tg.core.db.read() as s:
        rows = await s.execute(
            select(TicketEvent.action, TicketEvent.from_status, TicketEvent.to_status)
            .where(TicketEvent.ticket_id == number)
            .order_by(TicketEvent.id)
        )
        return [tuple(r) for r in rows]


def texts(said: list[dict]) -> list[str]:
    return [s["text"] for s in said]


async def test_the_card_carries_the_secretarys_buttons(api, tg):
    _number, card = await report(api, LAOWANG, "p1")
    [ack] = [s for s in api.sent if s["message_id"] == card]
    labels = [b["text"] for row in ack["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["受理", "派单", "已解决", "驳回"]
    assert "状态：待受理" in ack["text"]


async def test_every_allowed_transition_edits_the_card_and_is_audited(api, tg, clock):
    await appoint(api)
    number, card = await report(api, LAOWANG, "p2")
    steps = [
        ("/accept", "#1 已受理", "已受理"),
        ("/dispatch", "#1 已派单 · 城管 · 一级（街区）", "已派单 · 城管 · 一级（街区）"),
        ("/escalate", "#1 已派单 · 城管 · 二级（街道）", "二级（街道）"),
        ("/escalate", "#1 已派单 · 城管 · 三级（区）", "三级（区）"),
    ]
    for cmd, reply, card_state in steps:
        body = f"{cmd} {number}" + (" 城管" if cmd == "/dispatch" else "")
        said = await say(api, tu.command(PENG, body))
        edits = [s for s in said if s["method"] == "editMessageText"]
        assert [e["message_id"] for e in edits] == [card]
        assert card_state in edits[0]["text"]
        assert texts([s for s in said if s["method"] == "sendMessage"]) == [reply]
    said = await say(api, tu.command(PENG, f"/escalate {number}"))
    assert texts(said) == ["#1 已是最高级（区级），不能再升级。"]
    said = await say(api, tu.command(PENG, f"/resolve {number} 已清理"))
    [group_line] = [s for s in said if s["method"] == "sendMessage"]
    assert group_line["text"] == "老王，你上报的 #1 井盖损坏 已解决：已清理。谢谢！"
    said = await say(api, tu.command(LAOWANG, f"/reopen {number}"))
    assert "#1 已受理 · 城管 · 三级（区）" in texts(said)  # reopened where it was dispatched
    await say(api, tu.text(PENG, f"办结 {number} 已修好"))  # the Chinese text form
    said = await say(api, tu.text(LAOWANG, f"确认 {number}"))
    assert "#1 已办结 · 城管 · 三级（区） · 已修好" in texts(said)
    assert await events(tg, number) == [
        ("report", "", "new"),
        ("accept", "new", "accepted"),
        ("dispatch", "accepted", "dispatched"),
        ("escalate", "dispatched", "dispatched"),
        ("escalate", "dispatched", "dispatched"),
        ("resolve", "dispatched", "resolved"),
        ("reopen", "resolved", "accepted"),
        ("resolve", "accepted", "resolved"),
        ("close", "resolved", "closed"),
    ]
    t = await ticket(tg, number)
    assert (t.status, t.department, t.tier, t.note) == ("closed", "城管", 3, "已修好")


async def test_reject_needs_a_reason_and_dup_merges(api, tg):
    await appoint(api)
    first, _ = await report(api, LAOWANG, "p3")
    second, _ = await report(api, XIAOLI, "p4")
    assert texts(await say(api, tu.command(PENG, f"/reject {first}"))) == [
        "驳回要写原因，例如：/reject 1 不属于本街区"
    ]
    said = await say(api, tu.text(PENG, f"驳回 {first} 不属于本街区"))
    assert "老王，你上报的 #1 井盖损坏 已驳回：不属于本街区" in texts(said)
    said = await say(api, tu.command(PENG, f"/dup {second} {first}"))
    assert "小李，你上报的 #2 和 #1 是同一个问题，已合并。谢谢！" in texts(said)
    assert (await ticket(tg, second)).duplicate_of == first
    assert [e[0] for e in await events(tg, first)] == ["report", "reject"]
    assert [e[0] for e in await events(tg, second)] == ["report", "dup"]


async def test_a_refused_transition_says_what_is_allowed_now(api, tg):
    await appoint(api)
    number, _ = await report(api, LAOWANG, "p5")
    await say(api, tu.command(PENG, f"/resolve {number}"))
    said = await say(api, tu.command(PENG, f"/accept {number}"))
    assert texts(said) == ["#1 现在是“已解决”，不能受理。现在可以：重新打开、办结。"]
    assert (await ticket(tg, number)).status == "resolved"


async def test_a_courier_cannot_resolve_and_nothing_changes(api, tg):
    number, _card = await report(api, LAOWANG, "p6")
    said = await say(api, tu.command(XIAOLI, f"/resolve {number}"))
    assert texts(said) == ["小李，只有本群书记能解决工单。"]
    assert (await ticket(tg, number)).status == "new"
    assert await events(tg, number) == [("report", "", "new")]
    assert api.edited == []


async def test_a_button_pressed_by_a_non_secretary_changes_nothing(api, tg):
    await appoint(api)
    number, card = await report(api, LAOWANG, "p7")
    api.push_update(tu.button(XIAOLI, f"wp:resolve:{number}", card))
    await settle(api)
    [answer] = api.calls("answerCallbackQuery")
    assert answer["text"] == "小李，只有本群书记能解决工单。"
    assert (await ticket(tg, number)).status == "new" and api.edited == []


async def test_a_button_pressed_by_the_secretary_moves_the_ticket(api, tg):
    await appoint(api)
    number, card = await report(api, LAOWANG, "p8")
    api.push_update(tu.button(PENG, f"wp:accept:{number}", card))
    said = await settle(api)
    [answer] = api.calls("answerCallbackQuery")
    assert answer["text"] == "#1 已受理"
    [edit] = [s for s in said if s["method"] == "editMessageText"]
    labels = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["派单", "已解决", "驳回"]
    assert [
        s for s in said if s["method"] == "sendMessage"
    ] == []  # a press adds nothing to the group


@both_backends
async def test_two_secretaries_pressing_resolved_at_once_make_one_change(api, tg):
    await appoint(api, PENG)
    await appoint(api, ZHOU)
    await start_privately(api, LAOWANG)
    number, card = await report(api, LAOWANG, "p9")
    api.push_many(
        [
            tu.button(PENG, f"wp:resolve:{number}", card),
            tu.button(ZHOU, f"wp:resolve:{number}", card),
        ]
    )
    said = await settle(api)
    await settle_private(api, LAOWANG)
    answers = sorted(a["text"] for a in api.calls("answerCallbackQuery"))
    assert answers == ["#1 已解决", "#1 现在是“已解决”，不能解决。现在可以：重新打开、办结。"]
    assert [e[0] for e in await events(tg, number)] == ["report", "resolve"]
    assert len([s for s in said if s["method"] == "editMessageText"]) == 1
    in_group = [s for s in said if s["method"] == "sendMessage" and s["chat_id"] == GROUP["id"]]
    assert texts(in_group) == ["老王，你上报的 #1 井盖损坏 已解决。谢谢！"]
    private = [
        s for s in api.sent if str(s["chat_id"]) == str(LAOWANG["id"]) and "#1" in (s["text"] or "")
    ]
    assert texts(private) == ["你上报的 #1 井盖损坏：已解决"]


async def test_the_reporter_is_told_privately_once_per_change(api, tg):
    await appoint(api)
    await start_privately(api, LAOWANG)
    number, _ = await report(api, LAOWANG, "p10")
    for body in (f"/accept {number}", f"/dispatch {number} 绿化", f"/resolve {number}"):
        await say(api, tu.command(PENG, body))
    await settle_private(api, LAOWANG)
    private = [
        s for s in api.sent if str(s["chat_id"]) == str(LAOWANG["id"]) and "#1" in (s["text"] or "")
    ]
    assert texts(private) == [
        "你上报的 #1 井盖损坏：已受理",
        "你上报的 #1 井盖损坏：已派单 · 绿化 · 一级（街区）",
        "你上报的 #1 井盖损坏：已解决 · 绿化 · 一级（街区）",
    ]


async def test_tickets_lists_open_ones_oldest_first_and_ticket_shows_history(api, tg, clock):
    await appoint(api)
    first, _ = await report(api, LAOWANG, "p11")
    clock.advance(hours=3)
    second, _ = await report(api, XIAOLI, "p12", caption="共享单车堵住车道")
    await say(api, tu.command(PENG, f"/accept {second}"))
    clock.advance(days=2)
    [listing] = texts(await say(api, tu.command(XIAOLI, "/tickets")))
    assert listing.split("\n") == [
        "本群未办结工单 2 张（最早的在前）：",
        f"#{first} 井盖损坏 · 待受理 · 2 天",
        f"#{second} 共享单车乱停 · 已受理 · 2 天",
    ]
    [shown] = texts(await say(api, tu.command(XIAOLI, f"/ticket {second}")))
    lines = shown.split("\n")
    assert lines[0] == "#2 共享单车乱停 · 已受理 · 2 天"
    assert lines[1] == "共享单车堵住车道"
    assert lines[2] == "经过："
    assert lines[3].endswith("小李 上报 → 待受理 共享单车堵住车道")
    assert lines[4].endswith("彭文兴 受理 → 已受理")


async def test_a_secretary_appointed_by_invite_code(api, tg):
    from handlers.roles import make_invite

    code = await make_invite(tg.core.deps, "telegram", str(GROUP["id"]))
    said = await say(api, tu.command(ZHOU, f"/claim {code}"))
    assert texts(said) == ["周书记，你已成为本群书记。"]
    said = await say(api, tu.command(XIAOLI, f"/claim {code}"))
    assert texts(said) == ["小李，邀请码无效、已用过或已过期。"]
    number, _ = await report(api, LAOWANG, "p13")
    assert "#1 已受理" in texts(await say(api, tu.text(ZHOU, f"受理 {number}")))


async def test_only_admins_and_secretaries_appoint(api, tg):
    said = await say(api, tu.reply_command(XIAOLI, "/secretary", 11, XIAOLI))
    assert texts(said) == ["小李，只有管理员或本群书记能任命书记。"]
    async with tg.core.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Role))).scalar_one() == 0


async def test_a_group_that_is_not_enabled_hears_once_how_to_enable(api, tmp_path, clock):
    bot = await start_bot(api, tmp_path, clock, allowed_chats=["-100999"])
    try:
        api.add_file("q1", jpeg(1), file_unique_id="u-q1")
        api.push_update(tu.location(LAOWANG, *SPOT))
        said = await say(api, tu.photo(LAOWANG, "q1", caption="井盖坏了"))
        assert texts(said) == ["啄木鸟还没有在本群启用。请管理员在群里发送 /enable（或“启用”）。"]
        assert texts(await say(api, tu.text(XIAOLI, "井盖坏了"))) == []
        assert texts(await say(api, tu.command(XIAOLI, "/enable"))) == [
            "小李，只有管理员能启用本群。"
        ]
        said = await say(api, tu.command(ADMIN, "/enable"))
        assert texts(said) == ["本群已启用啄木鸟 🐦 发照片和位置即可上报隐患。"]
        api.add_file("q2", jpeg(2), file_unique_id="u-q2")
        api.push_update(tu.location(LAOWANG, *SPOT))
        [ack] = await say(api, tu.photo(LAOWANG, "q2"))
        assert ack["text"].startswith("已登记 #1")
    finally:
        await bot.stop()
