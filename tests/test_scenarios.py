"""The same rider stories on every platform, through the real adapters (see tests/scenarios.py)."""

from __future__ import annotations

import math

import pytest

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
