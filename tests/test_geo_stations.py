"""The nearest rest stations, and coordinates that stay honest."""

from __future__ import annotations

import json
import math
from importlib.resources import files
from urllib.parse import quote

import eviltransform
import pytest
from sqlalchemy import select

from bot.app import Woodpecker
from bot.cli import main
from handlers.geo import stations
from handlers.geo.coords import gcj02_to_wgs84, haversine_m, plausible
from storage.models import NearbyRequest
from tests.conftest import send, tickets
from tests.images import scene

RIDER = (31.0, 121.0)
M_PER_DEG = 6_371_008.8 * math.pi / 180  # 111,195.08 m per degree of a great circle


def metres_north(m: float) -> float:
    return RIDER[0] + m / M_PER_DEG


# By hand: 0.001° of latitude is 111.195 m; 0.002° of longitude at 31° N is
# 111,195.08 × 0.002 × cos 31° = 190.63 m; 2,100 m north is 2.1 km; the corner station
# 1,900 m north and 1,900 m east is √2 × 1,900 ≈ 2,687 m, farther than the one due north.
STATIONS_CSV = f"""name,address,services,hours,lat,lon,datum
北边驿站,宝山区甲路 1 号,饮水、充电,08:00-22:00,31.001,121.0,wgs84
东边驿站,,饮水/微波炉/厕所,全天,31.0,121.002,wgs84
角落驿站,宝山区丙路 3 号,充电,,{metres_north(1900)},{121.0 + 1900 / (M_PER_DEG * math.cos(math.radians(31)))},wgs84
远北驿站,宝山区丁路 4 号,饮水,09:00-21:00,{metres_north(2100)},121.0,wgs84
很远驿站,,,,31.3,121.0,wgs84
"""  # noqa: E501


@pytest.fixture
async def with_stations(bot, tmp_path):
    path = tmp_path / "stations.csv"
    path.write_text(STATIONS_CSV, "utf-8")
    assert await stations.import_file(bot.deps, path) == 5
    return bot


async def test_nearby_then_a_location_lists_the_three_nearest_in_order(
    with_stations, chat, laowang
):
    bot = with_stations
    [ask] = await send(bot, chat, laowang, text="附近驿站")
    assert ask.text == "老王，请在 10 分钟内发送你的位置（📎→位置），告诉你最近的三个驿站。"
    [answer] = await send(bot, chat, laowang, location=RIDER)
    lines = answer.text.split("\n")
    assert lines[0] == "老王，离你最近的驿站："
    assert [x for x in lines if x[:2] in ("1.", "2.", "3.")] == [
        "1. 北边驿站 · 111 米",
        "2. 东边驿站 · 191 米",
        "3. 远北驿站 · 2.1 公里",
    ]
    assert lines[2] == "   饮水、充电 · 08:00-22:00"
    assert lines[3] == "   宝山区甲路 1 号"
    assert lines[4] == (
        f"   https://uri.amap.com/marker?position=121.000000,31.001000&name={quote('北边驿站')}"
        "&coordinate=wgs84"
    )
    assert lines[6] == "   饮水、微波炉、厕所 · 全天"
    assert await tickets(bot) == []  # the location answered the question, it made no report
    async with bot.db.read() as s:
        assert (await s.execute(select(NearbyRequest))).first() is None


async def test_the_distances_are_the_haversine_figures(with_stations):
    async with with_stations.db.read() as s:
        found = await stations.nearest(s, *RIDER)
    assert [round(n.metres, 1) for n in found] == [111.2, 190.6, 2100.0]
    for near in found:
        assert abs(near.metres - haversine_m(*RIDER, near.station.lat, near.station.lon)) < 1e-6


async def test_a_location_sent_with_the_words_is_answered_at_once(with_stations, chat, laowang):
    msg = chat.message(laowang, location=RIDER, text="附近驿站")
    await with_stations.handle(msg)
    await with_stations.flush()
    [answer] = chat.pop()
    assert "1. 北边驿站 · 111 米" in answer.text


async def test_the_wait_for_a_location_survives_a_restart_and_expires(
    with_stations, settings, chat, laowang, xiaoli, clock
):
    await send(with_stations, chat, laowang, command="nearby")
    await send(with_stations, chat, xiaoli, command="nearby")
    await with_stations.close()
    again = Woodpecker(settings, [chat], clock=clock)  # a restart: nothing held in memory
    await again.migrate()
    try:
        [answer] = await send(again, chat, laowang, location=RIDER)
        assert "1. 北边驿站" in answer.text
        clock.advance(minutes=11)
        assert await send(again, chat, xiaoli, location=RIDER) == []  # an ordinary location
        said = await send(again, chat, xiaoli, photos=[scene(1)], text="井盖坏了")
        assert said[0].text.startswith("已登记 #1 井盖损坏")
    finally:
        await again.close()


async def test_nearby_says_when_there_is_no_list_or_nothing_near(bot, chat, laowang, tmp_path):
    await send(bot, chat, laowang, text="附近驿站")
    [answer] = await send(bot, chat, laowang, location=RIDER)
    assert answer.text == "还没有导入驿站名单，请联系街道。"
    path = tmp_path / "far.csv"
    path.write_text("name,lat,lon\n北京驿站,39.9,116.4\n", "utf-8")
    await stations.import_file(bot.deps, path)
    await send(bot, chat, laowang, text="附近驿站")
    [answer] = await send(bot, chat, laowang, location=RIDER)
    assert answer.text == "64 公里内没有驿站。"


def test_a_station_file_in_gcj02_is_stored_as_wgs84_and_bad_rows_load_nothing():
    wgs = (31.40480, 121.48620)
    gcj = eviltransform.wgs2gcj(*wgs)
    rows = stations.parse_stations(
        f"name,lat,lon,datum\n甲,{gcj[0]:.7f},{gcj[1]:.7f},gcj02\n".encode(), "s.csv"
    )
    assert haversine_m(rows[0]["lat"], rows[0]["lon"], *wgs) < 1
    geo = {
        "type": "FeatureCollection",
        "datum": "gcj02",
        "features": [
            {
                "type": "Feature",
                "properties": {"name": "乙", "services": ["饮水", "充电"], "hours": "全天"},
                "geometry": {"type": "Point", "coordinates": [gcj[1], gcj[0]]},
            }
        ],
    }
    [row] = stations.parse_stations(json.dumps(geo).encode(), "s.geojson")
    assert (row["services"], row["hours"]) == ("饮水、充电", "全天")
    assert haversine_m(row["lat"], row["lon"], *wgs) < 1
    bad = "name,lat,lon,datum\n好,31.1,121.1,wgs84\n,31.1,121.1,\n零,0,0,\n怪,31.1,121.1,bd09\n"
    with pytest.raises(stations.StationFileError) as e:
        stations.parse_stations(bad.encode(), "s.csv")
    assert e.value.problems == [
        "第 3 行 / line 3: 缺少 name / no name",
        "第 4 行 / line 4「零」: 坐标不可能 / impossible coordinates (0.0, 0.0)",
        "第 5 行 / line 5「怪」: datum 应为 wgs84 或 gcj02 / datum must be wgs84 or gcj02",
    ]


def test_the_sample_stations_are_marked_and_load(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/wp.db")
    sample = str(files("handlers").joinpath("data/sample_stations.csv"))
    assert "示例数据 sample data" in open(sample, encoding="utf-8").read()
    assert main(["stations", "import", sample, "--create"]) == 0
    assert "已导入 6 个驿站" in capsys.readouterr().out
    assert main(["stations", "list"]) == 0
    assert "友谊路街道骑手驿站\t31.404800,121.486200" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wgs",
    [(31.2304, 121.4737), (31.40512, 121.48931), (30.9123, 121.4741), (31.1950, 121.3200)],
)
def test_gcj02_and_wgs84_round_trip_within_a_metre_in_shanghai(wgs):
    gcj = eviltransform.wgs2gcj(*wgs)
    assert haversine_m(*gcj, *wgs) > 300  # the shift is real
    back = gcj02_to_wgs84(*gcj)
    assert haversine_m(*back, *wgs) < 1


def test_impossible_points_are_told_apart_from_real_ones():
    assert plausible(31.2304, 121.4737) and plausible(-33.86, 151.2) and plausible(0, 0.0001)
    for lat, lon in ((0, 0), (0.0, -0.0), (91, 121), (31, 181), (math.nan, 121), (31, math.inf)):
        assert not plausible(lat, lon), (lat, lon)
    assert not plausible("x", 1)


async def test_an_impossible_location_gets_a_clear_reply_and_makes_nothing(bot, chat, laowang):
    await send(bot, chat, laowang, photos=[scene(1)], text="井盖坏了")
    for point in ((0.0, 0.0), (95.0, 200.0), (math.nan, 121.0)):
        [said] = await send(bot, chat, laowang, location=point)
        assert said.text.startswith("老王，这个位置不可能（超出范围或是 0,0），没有登记。")
    assert await tickets(bot) == []
    [card] = await send(bot, chat, laowang, location=(31.40512, 121.48931))
    assert card.text.startswith("已登记 #1 井盖损坏")


async def test_a_photo_whose_exif_says_0_0_waits_for_a_real_location(bot, chat, laowang):
    from tests.images import jpeg_with_gps

    said = await send(
        bot, chat, laowang, photos=[jpeg_with_gps(0.0, 0.0)], photo_as_file=True, text="井盖坏了"
    )
    assert said == []  # no ticket at 0,0; the question for a location waits its grace
    assert await tickets(bot) == []
    await send(bot, chat, laowang, location=(31.40512, 121.48931))
    [ticket] = await tickets(bot)
    assert (ticket.lat, ticket.lon) == (31.40512, 121.48931)
