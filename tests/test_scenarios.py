"""The same rider stories on every platform, through the real adapters (see tests/scenarios.py)."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select

from storage.models import Member, TicketEvent
from tests.conftest import photo_count, tickets
from tests.scenarios import DRIVERS, Driver

SPOT = (31.40512, 121.48931)  # WGS-84, 友谊路, Baoshan


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture(params=sorted(DRIVERS))
async def rider_chat(request, tmp_path, clock):
    driver = DRIVERS[request.param](tmp_path, clock)
    await driver.start()
    yield driver
    await driver.stop()


async def history(core, number: int) -> list[tuple[str, str]]:
    """The ticket's audit rows: what was done, by whom."""
    async with core.deps.db.read() as s:
        rows = await s.execute(
            select(TicketEvent.action, Member.name)
            .join(Member, Member.id == TicketEvent.actor_pk)
            .where(TicketEvent.ticket_id == number)
            .order_by(TicketEvent.id)
        )
        return [tuple(r) for r in rows]


def is_ack(text: str, number: int) -> bool:
    return text.startswith(f"已登记 #{number} ")


async def test_photo_then_location_is_one_ticket(rider_chat: Driver):
    await rider_chat.photo("laowang", seed=1)
    await rider_chat.location("laowang", *SPOT)
    [ack] = await rider_chat.said()
    assert is_ack(ack, 1)
    [ticket] = await tickets(rider_chat.core)
    assert metres((ticket.lat, ticket.lon), SPOT) < 2
    assert await photo_count(rider_chat.core, ticket.id) == 1


async def test_location_then_photo_is_one_ticket(rider_chat: Driver):
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.photo("laowang", seed=2)
    [ack] = await rider_chat.said()
    assert is_ack(ack, 1)
    assert len(await tickets(rider_chat.core)) == 1


async def test_several_photos_then_a_location_are_one_ticket(rider_chat: Driver):
    await rider_chat.photos("laowang", [3, 4, 5])
    await rider_chat.location("laowang", *SPOT)
    [ack] = await rider_chat.said()
    assert is_ack(ack, 1)
    [ticket] = await tickets(rider_chat.core)
    assert await photo_count(rider_chat.core, ticket.id) == 3


async def test_a_message_delivered_twice_counts_once(rider_chat: Driver):
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.photo("laowang", seed=6)
    assert len(await rider_chat.said()) == 1
    await rider_chat.deliver_again()
    assert await rider_chat.said() == []
    assert len(await tickets(rider_chat.core)) == 1


async def test_chatter_gets_no_reply(rider_chat: Driver):
    await rider_chat.text("xiaoli", "中午吃啥？")
    await rider_chat.text("laowang", "老王牛啊")
    assert await rider_chat.said() == []
    assert await tickets(rider_chat.core) == []


async def test_two_riders_reporting_at_once_get_two_tickets(rider_chat: Driver):
    await rider_chat.photo("laowang", seed=7)
    await rider_chat.photo("xiaoli", seed=8)
    await rider_chat.location("xiaoli", 31.2304, 121.4737)
    await rider_chat.location("laowang", *SPOT)
    acks = await rider_chat.said()
    assert len(acks) == 2 and all(a.startswith("已登记 #") for a in acks)
    assert len(await tickets(rider_chat.core)) == 2


async def test_the_secretary_accepts_then_resolves_and_the_reporter_is_named(rider_chat: Driver):
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=9)
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.said()
    await rider_chat.text("peng", "受理 1")
    assert await rider_chat.said() == ["#1 已受理"]  # one line; the card is not said again
    await rider_chat.text("peng", "解决 1 已清理")
    [line] = await rider_chat.said()
    assert line.endswith("老王，你上报的 #1 其他 已解决：已清理。谢谢！")
    [ticket] = await tickets(rider_chat.core)
    assert ticket.status == "resolved"
    assert await history(rider_chat.core, 1) == [
        ("report", "老王"),
        ("accept", "彭文兴"),
        ("resolve", "彭文兴"),
    ]


async def test_a_courier_cannot_move_a_ticket(rider_chat: Driver):
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=10)
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.said()
    await rider_chat.text("xiaoli", "解决 1")
    assert await rider_chat.said() == ["小李，只有本群书记能解决工单。"]
    [ticket] = await tickets(rider_chat.core)
    assert ticket.status == "new"
    assert await history(rider_chat.core, 1) == [("report", "老王")]


async def test_a_resolved_report_earns_the_reporter_points(rider_chat: Driver):
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=11)
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.said()
    await rider_chat.text("laowang", "积分")
    [before] = await rider_chat.said()
    assert before.endswith("老王：积分 0 分")  # reported, not yet solved: nothing
    await rider_chat.text("peng", "解决 1 已清理")
    await rider_chat.said()
    await rider_chat.text("laowang", "积分")
    [after] = await rider_chat.said()
    assert after.endswith("老王：积分 3 分；最近 11-20 10:00 +3 #1 其他 已解决")


async def test_a_usage_hint_names_the_command_as_this_platform_takes_it(rider_chat: Driver):
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=12)
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.said()
    slash = rider_chat.platform == "telegram"  # WeChat has no slash commands: its own words
    await rider_chat.command("peng", "/accept")
    assert await rider_chat.said() == [
        "请写工单号，例如：" + ("/accept 17" if slash else "受理 17")
    ]
    await rider_chat.text("peng", "驳回 1")
    assert await rider_chat.said() == [
        "驳回要写原因，例如：" + ("/reject 1" if slash else "驳回 1") + " 不属于本街区"
    ]


async def test_a_ticket_whistled_up_reaches_the_street_where_an_official_resolves_it(
    rider_chat: Driver,
):
    await rider_chat.street_chat(around=SPOT)
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=41)
    await rider_chat.location("laowang", *SPOT)
    [ack] = await rider_chat.said()
    assert is_ack(ack, 1) and "友谊一网格" in ack
    await rider_chat.text("peng", "派单 1 城管")  # tier 1: the grid's own group, nobody else
    await rider_chat.said()
    assert await rider_chat.said_in_street() == ([], 0)
    await rider_chat.text("peng", "升级 1")  # tier 2: the street's chat hears it
    await rider_chat.said()
    [card], photos = await rider_chat.said_in_street()
    assert card.startswith("📣 吹哨到街道：来自「友谊路骑手群」，彭文兴")
    assert "#1" in card and "反映人：老王" in card and "友谊一网格" in card
    assert photos == 1  # the photo from the spot
    await rider_chat.in_street("wang", "解决 1 已清理")
    said = await rider_chat.said()
    assert any("#1" in line and "已清理" in line for line in said)  # the group's threaded line
    [ticket] = await tickets(rider_chat.core)
    assert ticket.status == "resolved"
    assert (await history(rider_chat.core, 1))[-1] == ("resolve", "王主任")


async def test_a_street_official_cannot_overrule_the_district_it_was_whistled_up_to(
    rider_chat: Driver,
):
    await rider_chat.street_chat(around=SPOT)
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=42)
    await rider_chat.location("laowang", *SPOT)
    for words in ("派单 1", "升级 1", "升级 1"):  # grid → street → district
        await rider_chat.text("peng", words)
    await rider_chat.said()
    await rider_chat.said_in_street()
    await rider_chat.in_street("wang", "驳回 1 不归我们管")
    await rider_chat.said()
    [refusal], _ = await rider_chat.said_in_street()
    assert "#1" in refusal
    [ticket] = await tickets(rider_chat.core)
    assert (ticket.status, ticket.tier) == ("dispatched", 3)  # the district's now
    assert [a for a, _ in await history(rider_chat.core, 1)] == [
        "report", "dispatch", "escalate", "escalate",
    ]  # fmt: skip


async def test_the_sla_sweep_whistles_an_unresolved_ticket_up_to_the_street(rider_chat: Driver):
    from handlers.sla import run_sla_sweep

    await rider_chat.street_chat(around=SPOT)
    await rider_chat.appoint("peng")
    await rider_chat.photo("laowang", seed=43)
    await rider_chat.location("laowang", *SPOT)
    await rider_chat.text("peng", "派单 1")
    await rider_chat.said()
    rider_chat.clock.advance(days=4)  # 10:00 in Shanghai: no quiet hours to wait out
    assert await run_sla_sweep(rider_chat.core.deps, rider_chat.clock()) == 1
    texts, photos = await rider_chat.said_in_street()
    [card] = texts
    assert card.startswith("📣 吹哨到街道：来自「友谊路骑手群」，") and "反映人：老王" in card
    assert photos == 1
    [ticket] = await tickets(rider_chat.core)
    assert ticket.tier == 2
