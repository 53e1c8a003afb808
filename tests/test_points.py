"""Points and rewards through the real Telegram Application: earned on resolution, spent once."""

from __future__ import annotations

import itertools
import re

import pytest
from sqlalchemy import select

from handlers.roles import grant_role
from storage.models import Member, PointEntry, Redemption, Ticket
from tests import telegram_updates as tu
from tests.images import scene
from tests.test_secretary import (
    GROUP,
    LAOWANG,
    PENG,
    SPOT,
    XIAOLI,
    ZHOU,
    appoint,
    say,
    settle,
    start_bot,
    start_privately,
    texts,
)

XIAOZHANG = tu.user(7003, "小张")
MERCHANT = tu.user(8001, "张记面馆")
OTHER_GROUP = {"id": -1001772249999, "title": "奉贤骑手群", "type": "supergroup"}
_files = itertools.count(1)


@pytest.fixture
async def tg(api, tmp_path, clock):
    bot = await start_bot(api, tmp_path, clock)
    yield bot
    await bot.stop()


async def report(
    api, rider: dict, seed: int, caption: str = "井盖坏了", chat: dict | None = None, data=None
) -> int:
    """A rider reports with a picture of its own; returns the ticket number."""
    fid = f"pic{next(_files)}"
    api.add_file(fid, data or scene(seed), file_unique_id=f"u-{fid}")
    # Each report its own spot, ~220 m apart: reports of one place would merge (handlers/geo).
    api.push_update(tu.location(rider, SPOT[0] + seed * 0.002, SPOT[1], chat=chat))
    said = await say(api, tu.photo(rider, fid, caption=caption, chat=chat), chat)
    [ack] = [s["text"] for s in said if s["text"].startswith("已登记")]
    return int(ack.split("#")[1].split(" ")[0])


async def ask(api, rider: dict, words: str, chat: dict | None = None) -> list[str]:
    """What the group (or `chat`) hears after the rider says `words`."""
    where = (chat or GROUP)["id"]
    build = tu.command if words.startswith("/") else tu.text
    said = await say(api, build(rider, words, chat=chat), chat)
    return texts([s for s in said if s["chat_id"] == where and s["method"] == "sendMessage"])


def private(api, person: dict) -> list[str]:
    return [
        s["text"]
        for s in api.sent
        if str(s["chat_id"]) == str(person["id"]) and "随手拍两步" not in s["text"]
    ]


async def ledger(tg, person: dict) -> list[tuple[int, str, int | None, str | None]]:
    """(delta, reason, ticket, note) of the person's ledger lines, oldest first."""
    async with tg.core.db.read() as s:
        rows = await s.execute(
            select(PointEntry.delta, PointEntry.reason, PointEntry.ticket_id, PointEntry.note)
            .join(Member, Member.id == PointEntry.member_pk)
            .where(Member.user_id == str(person["id"]))
            .order_by(PointEntry.id)
        )
        return [tuple(r) for r in rows]


async def add_lunch(api, cost: int) -> None:
    said = await ask(api, PENG, f"/rewards add 张记面馆 午餐 {cost}")
    assert said == [f"已添加：1. 张记面馆 · 午餐 · {cost} 分"]


async def redeem(api, rider: dict, reward: int = 1) -> str:
    """The rider (who has opened a private chat with the bot) asks in the group; the code comes
    privately and the group hears one line."""
    await start_privately(api, rider)
    assert await ask(api, rider, f"兑换 {reward}") == [f"{rider['first_name']}，已私信发给你。"]
    return re.search(r"兑换码 ([A-Z0-9]{6})", private(api, rider)[-1]).group(1)


async def test_a_code_is_never_said_in_the_group(api, tg):
    await appoint(api)
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await add_lunch(api, 8)
    [how] = await ask(api, LAOWANG, "兑换 1")
    assert how.startswith("老王，兑换码只私发给你，免得别人拿去用：请先私聊我发“/start”")
    async with tg.core.db.read() as s:
        assert (await s.execute(select(Redemption))).first() is None
    code = await redeem(api, LAOWANG)
    assert not any(code in s["text"] for s in api.sent if s["chat_id"] == GROUP["id"])


async def test_points_come_when_the_report_is_resolved_not_when_it_is_made(api, tg):
    await appoint(api)
    number = await report(api, LAOWANG, 1)
    assert await ask(api, LAOWANG, "积分") == ["老王：积分 0 分"]
    await ask(api, PENG, f"/resolve {number} 已修好")
    assert await ask(api, LAOWANG, "积分") == [
        "老王：积分 10 分；最近 11-20 10:00 +10 #1 井盖损坏 已解决"
    ]
    # Reopened and resolved again: still one award.
    await ask(api, LAOWANG, f"/reopen {number}")
    await ask(api, PENG, f"/resolve {number} 这次真修好了")
    assert await ledger(tg, LAOWANG) == [(10, "award", number, None)]


async def test_a_rejected_report_earns_nothing_and_a_reopened_rejected_one_gives_back(api, tg):
    await appoint(api)
    first = await report(api, LAOWANG, 1)
    await ask(api, PENG, f"驳回 {first} 不属于本街区")
    assert await ask(api, LAOWANG, "积分") == ["老王：积分 0 分"]
    assert await ledger(tg, LAOWANG) == []
    second = await report(api, LAOWANG, 2, caption="路口积水")
    await ask(api, PENG, f"解决 {second}")
    await ask(api, LAOWANG, f"重开 {second}")
    await ask(api, PENG, f"驳回 {second} 现场核实不是积水")
    [line] = await ask(api, LAOWANG, "积分")
    assert line == "老王：积分 0 分；最近 11-20 10:00 -10 #2 道路积水 被驳回，收回"
    assert await ledger(tg, LAOWANG) == [
        (10, "award", second, None),
        (-10, "reversal", second, None),
    ]


async def test_merged_duplicates_earn_their_reporters_a_confirmation_share(api, tg):
    await appoint(api)
    first = await report(api, LAOWANG, 1)
    second = await report(api, XIAOLI, 2)
    await ask(api, PENG, f"/dup {second} {first}")
    await ask(api, PENG, f"/resolve {first}")
    assert await ask(api, LAOWANG, "积分") == [
        "老王：积分 10 分；最近 11-20 10:00 +10 #1 井盖损坏 已解决"
    ]
    assert await ask(api, XIAOLI, "积分") == [
        "小李：积分 1 分；最近 11-20 10:00 +1 #2 井盖损坏 同一问题确认"
    ]
    # A third rider reports the already solved problem; merged, they get the share too.
    third = await report(api, XIAOZHANG, 3)
    await ask(api, PENG, f"重复 {third} {first}")
    assert await ledger(tg, XIAOZHANG) == [(1, "share", third, None)]
    assert await ledger(tg, LAOWANG) == [(10, "award", first, None)]


async def test_the_daily_cap_stops_report_points_at_30_until_the_next_day(api, tg, clock):
    await appoint(api)
    numbers = [await report(api, LAOWANG, seed) for seed in (1, 2, 3, 4)]
    for number in numbers:
        await ask(api, PENG, f"/resolve {number}")
    assert await ask(api, LAOWANG, "积分") == [
        "老王：积分 30 分；最近 11-20 10:00 +0 #4 井盖损坏 已解决（已到每日上限）"
    ]
    clock.advance(days=1)
    number = await report(api, LAOWANG, 5)
    await ask(api, PENG, f"/resolve {number}")
    [line] = await ask(api, LAOWANG, "积分")
    assert line.startswith("老王：积分 40 分")
    assert [d for d, *_ in await ledger(tg, LAOWANG)] == [10, 10, 10, 0, 10]


async def test_a_recycled_photo_is_told_to_the_secretary_privately_and_earns_nothing(api, tg):
    await appoint(api, PENG)
    await grant_role(tg.core.deps, "telegram", str(ZHOU["id"]), "secretary", str(OTHER_GROUP["id"]))
    await start_privately(api, ZHOU)
    first = await report(api, LAOWANG, 7)
    # The same picture, smaller and recompressed, sent in another group by someone else.
    again = scene(7, size=(480, 360), quality=50)
    said_before = len(api.sent)
    second = await report(api, XIAOLI, 0, chat=OTHER_GROUP, data=again)
    in_group = [
        s["text"]
        for s in api.sent[said_before:]
        if s["chat_id"] == OTHER_GROUP["id"] and "随手拍" not in s["text"]
    ]
    assert len(in_group) == 1 and in_group[0].startswith(
        "已登记 #2 井盖损坏 — 谢谢！"
    )  # no shaming
    await settle(api, tu.private_chat(ZHOU), sender=ZHOU)
    assert private(api, ZHOU)[-1] == (
        f"⚠️ #{second}（小李 上报）的照片和 #{first} 的照片几乎一样，可能是旧照片重发。"
        f"此单解决后不计积分；如是同一问题，可发“重复 {second} {first}”合并。"
    )
    await ask(api, ZHOU, f"/resolve {second}", chat=OTHER_GROUP)
    assert await ledger(tg, XIAOLI) == []
    assert await ask(api, XIAOLI, "积分", chat=OTHER_GROUP) == ["小李：积分 0 分"]
    async with tg.core.db.read() as s:
        assert (await s.get(Ticket, second)).recycled_of == first
        assert (await s.get(Ticket, first)).recycled_of is None
    [shown] = await ask(api, ZHOU, f"/ticket {second}", chat=OTHER_GROUP)
    assert shown.split("\n")[-1] == "⚠️ 照片与 #1 的几乎相同（可能是旧照片重发），不计积分。"


async def test_redeem_then_confirm_deducts_exactly_once(api, tg):
    await appoint(api)
    await grant_role(tg.core.deps, "telegram", str(MERCHANT["id"]), "merchant", str(GROUP["id"]))
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await add_lunch(api, 8)
    assert await ask(api, LAOWANG, "兑换") == [
        "🎁 可兑换的奖励（发“/redeem 1”兑换）：\n1. 张记面馆 · 午餐 · 8 分"
    ]
    code = await redeem(api, LAOWANG)
    assert await ledger(tg, LAOWANG) == [(10, "award", 1, None)]  # nothing leaves yet
    # Not hers to confirm: the same answer as a code that does not exist (no probing).
    assert await ask(api, XIAOLI, f"/confirm {code}") == [f"没有这个兑换码：{code}。"]
    assert await ask(api, MERCHANT, f"/confirm {code.lower()}") == [
        f"✅ 已核销 {code}：老王 · 张记面馆 午餐，扣 8 分，余 2 分。"
    ]
    assert await ask(api, PENG, f"核销 {code}") == [
        f"兑换码 {code} 已在 11-20 10:00 核销过，没有再扣分。"
    ]
    assert await ask(api, MERCHANT, f"/confirm {code}") == [
        f"兑换码 {code} 已在 11-20 10:00 核销过，没有再扣分。"
    ]
    assert await ledger(tg, LAOWANG) == [(10, "award", 1, None), (-8, "redeem", None, None)]
    assert await ask(api, LAOWANG, "积分") == ["老王，已私信发给你。"]
    assert private(api, LAOWANG)[-1].split("\n") == [
        "老王 的积分：2 分",
        "最近：",
        f"  11-20 10:00 -8 兑换 张记面馆 午餐（{code}）",
        "  11-20 10:00 +10 #1 井盖损坏 已解决",
    ]


async def test_an_expired_code_deducts_nothing_and_frees_its_points_once(api, tg, clock):
    await appoint(api)
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await add_lunch(api, 8)
    code = await redeem(api, LAOWANG)
    [refused] = await ask(api, LAOWANG, "兑换 1")  # the first code still holds 8 of the 10
    assert (
        refused == "老王，积分不够：你现在有 10 分（其中 8 分留给未核销的兑换码），午餐 要 8 分。"
    )
    clock.advance(hours=25)
    assert await ask(api, PENG, f"核销 {code}") == [f"兑换码 {code} 已过期，没有扣分。请重新兑换。"]
    assert await ask(api, PENG, f"核销 {code}") == [f"兑换码 {code} 已过期，没有扣分。请重新兑换。"]
    fresh = await redeem(api, LAOWANG)  # freed: a new code can be made, and only one
    assert fresh != code
    assert (await ask(api, LAOWANG, "兑换 1"))[0].startswith("老王，积分不够")
    await ask(api, PENG, f"核销 {fresh}")
    assert await ledger(tg, LAOWANG) == [(10, "award", 1, None), (-8, "redeem", None, None)]
    async with tg.core.db.read() as s:
        statuses = (await s.execute(select(Redemption.status).order_by(Redemption.id))).all()
    assert [r for (r,) in statuses] == ["expired", "confirmed"]


async def test_a_redemption_beyond_the_balance_is_refused_with_the_balance_shown(api, tg):
    await appoint(api)
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await add_lunch(api, 50)
    assert await ask(api, LAOWANG, "/redeem 1") == [
        "老王，积分不够：你现在有 10 分，午餐 要 50 分。"
    ]
    assert await ask(api, LAOWANG, "兑换 9") == ["没有编号为 9 的奖励。发“兑换”看可兑换的奖励。"]
    async with tg.core.db.read() as s:
        assert (await s.execute(select(Redemption))).first() is None
    assert await ask(api, LAOWANG, "/rewards off 1") == ["老王，只有本群书记能添加或下架奖励。"]
    assert await ask(api, PENG, "/rewards off 1") == ["已下架：1. 张记面馆 · 午餐 · 50 分"]
    [none] = await ask(api, LAOWANG, "兑换")
    assert none.startswith("还没有可兑换的奖励。")


async def test_a_secretary_adjusts_points_only_with_a_reason_and_it_is_recorded(api, tg):
    await appoint(api)
    await ask(api, LAOWANG, "积分")  # the bot knows 老王 once he has spoken
    assert await ask(api, PENG, "/adjust @老王 +5") == [
        "调整积分要写分数和原因，例如：调整积分 @老王 +5 帮忙疏导交通"
        "（或回复他的消息发 /adjust +5 原因）。"
    ]
    assert await ask(api, XIAOLI, "/adjust @老王 +50 我说的") == ["小李，只有本群书记能调整积分。"]
    assert await ask(api, PENG, "/adjust @老王 +5 帮忙疏导交通") == [
        "已为 老王 调整积分 +5（原因：帮忙疏导交通），现有 5 分。"
    ]
    said = await say(api, tu.reply_command(PENG, "/adjust -3 多报了一次", 11, LAOWANG))
    assert texts(said) == ["已为 老王 调整积分 -3（原因：多报了一次），现有 2 分。"]
    assert await ask(api, PENG, "调整积分 @老王 -10 扣光") == ["老王 现在只有 2 分，不能扣 10 分。"]
    assert await ledger(tg, LAOWANG) == [
        (5, "adjust", None, "帮忙疏导交通"),
        (-3, "adjust", None, "多报了一次"),
    ]
    async with tg.core.db.read() as s:
        actors = (
            await s.execute(
                select(PointEntry.actor_pk, Member.name).join(
                    Member, Member.id == PointEntry.actor_pk
                )
            )
        ).all()
    assert [name for _, name in actors] == ["彭文兴", "彭文兴"]
    [line] = await ask(api, LAOWANG, "积分")
    assert line == "老王：积分 2 分；最近 11-20 10:00 -3 书记调整：多报了一次"


async def test_a_rider_who_started_the_bot_hears_about_points_privately(api, tg):
    await appoint(api)
    await start_privately(api, LAOWANG)
    number = await report(api, LAOWANG, 1)
    await ask(api, PENG, f"/resolve {number}")
    assert await ask(api, LAOWANG, "积分") == ["老王，已私信发给你。"]
    await settle(api, tu.private_chat(LAOWANG), sender=LAOWANG)
    assert private(api, LAOWANG)[-2:] == [
        "🎉 积分 +10：你上报的井盖损坏（工单 1）已解决。现在共 10 分，发“积分”看明细。",
        "老王 的积分：10 分\n最近：\n  11-20 10:00 +10 #1 井盖损坏 已解决",
    ]


async def test_rank_shows_first_names_for_the_week_month_and_year(api, tg, clock):
    await appoint(api)
    jianguo = tu.user(7010, "Jianguo Wang")
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await ask(api, PENG, f"/resolve {await report(api, jianguo, 2, caption='共享单车乱停')}")
    clock.advance(days=10)  # Friday 20 November → Monday 30 November: a new week, same month
    await ask(api, PENG, f"/resolve {await report(api, XIAOLI, 3, caption='路口积水')}")
    assert await ask(api, XIAOLI, "排行") == [
        "🏆 本群积分排行\n"
        "本周：1. 小李 10\n"
        "本月：1. 老王 10 · 2. 小李 10 · 3. Jianguo 5\n"
        "今年：1. 老王 10 · 2. 小李 10 · 3. Jianguo 5"
    ]
    clock.advance(days=2)  # December: a new month, same year
    [board] = await ask(api, XIAOLI, "/rank")
    assert board.split("\n")[1:3] == ["本周：1. 小李 10", "本月：暂无"]


async def test_confirm_with_a_ticket_number_still_confirms_the_ticket_solved(api, tg):
    await appoint(api)
    number = await report(api, LAOWANG, 1)
    await ask(api, PENG, f"/resolve {number} 已修好")
    assert await ask(api, LAOWANG, f"/confirm {number}") == ["#1 已办结 · 已修好"]
    async with tg.core.db.read() as s:
        assert (await s.get(Ticket, number)).status == "closed"


async def test_a_rider_names_their_company_or_station(api, tg):
    assert await ask(api, LAOWANG, "我的站点") == [
        "老王，请告诉我你的公司或站点，例如：我的站点 美团友谊路站（或 /company 美团友谊路站）。"
    ]
    assert await ask(api, LAOWANG, "我的站点 美团友谊路站") == [
        "已记下：老王 的公司/站点是 美团友谊路站。"
    ]
    async with tg.core.db.read() as s:
        member = (
            await s.execute(select(Member).where(Member.user_id == str(LAOWANG["id"])))
        ).scalar_one()
    assert member.company == "美团友谊路站"
