"""Geography through the real adapters: Telegram's Application on the fake Bot API, and the
shared rider stories (tests/scenarios.py) on Telegram and WeChat."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest

from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from handlers.geo import stations
from storage.models import Chat
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN, tickets
from tests.scenarios import DRIVERS, Driver
from tests.test_telegram import LAOWANG, SPOT, add_photo, settle

SAMPLE_GRIDS = str(files("handlers").joinpath("data/sample_grids.geojson"))
GRID_GROUP = "-1001000000002"  # 友谊二网格's chat in the sample, where SPOT lies
OUTSIDE = "-1009990000001"


@pytest.fixture
async def tg(api, tmp_path, clock):
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_base_url=api.base_url,
        grids_file=SAMPLE_GRIDS,
        outside_chat=f"telegram:{OUTSIDE}",
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    yield bot
    await bot.stop()


def _to(sent: list[dict], chat_id: str) -> list[dict]:
    return [s for s in sent if str(s["chat_id"]) == chat_id and s["method"] == "sendMessage"]


async def test_a_private_report_goes_to_its_grids_group(api, tg):
    private = tu.private_chat(LAOWANG)
    add_photo(api, "pp1")
    api.push_update(tu.photo(LAOWANG, "pp1", caption="井盖坏了", chat=private))
    api.push_update(tu.location(LAOWANG, *SPOT, chat=private))
    said = await settle(api, private)
    [card] = _to(said, GRID_GROUP)
    assert card["text"].startswith("已登记 #1 井盖损坏")
    assert card["text"].split("\n")[-1] == "🗺 友谊二网格 · 友谊路街道"
    assert card["reply_markup"] and card["reply_to_message_id"] is None
    mine = [s["text"] for s in _to(said, str(LAOWANG["id"]))]
    assert mine[-1] == "已登记 #1 井盖损坏，已转给「友谊二网格」的群处理。谢谢！"
    [ticket] = await tickets(tg.core)
    async with tg.core.db.read() as s:
        chat = await s.get(Chat, ticket.chat_pk)
    assert (chat.chat_id, chat.is_group) == (GRID_GROUP, True)
    assert ticket.card_message_id == str(card["message_id"])


async def test_a_report_outside_every_grid_is_kept_and_its_card_also_goes_to_the_default_chat(
    api, tg
):
    add_photo(api, "po1")
    api.push_update(tu.location(LAOWANG, 31.2304, 121.4737))  # 人民广场: no sample grid
    api.push_update(tu.photo(LAOWANG, "po1", caption="井盖坏了"))
    said = await settle(api)
    [card] = _to(said, str(tu.GROUP["id"]))
    [copy] = _to(said, OUTSIDE)
    assert card["text"].split("\n")[-1] == "🗺 区域外" and card["reply_markup"]
    assert copy["text"] == card["text"] and not copy["reply_markup"]
    [ticket] = await tickets(tg.core)
    assert ticket.outside and ticket.grid is None


async def test_an_impossible_location_is_refused_on_telegram(api, tg):
    add_photo(api, "pi1")
    api.push_update(tu.photo(LAOWANG, "pi1", caption="井盖坏了"))
    api.push_update(tu.location(LAOWANG, 0.0, 0.0))
    api.push_update(tu.location(LAOWANG, 91.0, 200.0))
    said = [s["text"] for s in await settle(api)]  # (the photo's question waits its grace)
    assert (
        said
        == [
            "老王，这个位置不可能（超出范围或是 0,0），没有登记。"
            "请在 10 分钟内重新发送当前位置（📎→位置）。"
        ]
        * 2
    )
    assert await tickets(tg.core) == []


# ------------------------------------------------------------- the same stories, both platforms


@pytest.fixture(params=sorted(DRIVERS))
async def rider_chat(request, tmp_path, clock):
    driver = DRIVERS[request.param](tmp_path, clock)
    await driver.start()
    yield driver
    await driver.stop()


async def test_nearby_then_a_location_answers_with_the_nearest_stations(
    rider_chat: Driver, tmp_path
):
    path = tmp_path / "stations.csv"
    path.write_text(
        "name,services,hours,lat,lon,datum\n"
        "近站,饮水,全天,31.40602,121.48931,wgs84\n"  # 0.0009° north: 100.1 m
        "远站,充电,全天,31.41512,121.48931,wgs84\n",  # 0.01° north: 1,112 m
        "utf-8",
    )
    await stations.import_file(rider_chat.core.deps, path)
    await rider_chat.text("laowang", "附近驿站")
    [ask] = await rider_chat.said()
    assert "发送你的位置" in ask
    await rider_chat.location("laowang", *SPOT)  # on WeChat: GCJ-02 XML, converted back
    [answer] = await rider_chat.said()
    found = re.findall(r"^\d\. (\S+) · ([\d.]+) (米|公里)$", answer, re.M)
    assert [name for name, *_ in found] == ["近站", "远站"]
    assert abs(float(found[0][1]) - 100) <= 2 and found[1][1:] == ("1.1", "公里")
    assert await tickets(rider_chat.core) == []


async def test_an_impossible_location_makes_nothing_on_either_platform(rider_chat: Driver):
    await rider_chat.photo("laowang", seed=1)
    await rider_chat.location("laowang", 0.0, 0.0)
    said = await rider_chat.said()
    assert any("没有登记" in s for s in said)  # 不可能 (Telegram) or 没能读出来 (WeChat's XML)
    assert await tickets(rider_chat.core) == []
    await rider_chat.location("laowang", *SPOT)
    [ack] = await rider_chat.said()
    assert ack.startswith("已登记 #1 ")
