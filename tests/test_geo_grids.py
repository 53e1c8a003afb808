"""Grids and levels: the grids file is checked whole, every ticket gets its place."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from bot.app import Woodpecker
from bot.cli import main
from bot.settings import Settings
from handlers.geo import grids
from handlers.geo.grids import GridFileError, GridIndex, parse_grids
from storage.db import Database
from tests.conftest import both_backends, send, tickets
from tests.images import scene

SAMPLE = Path(str(files("handlers").joinpath("data/sample_grids.geojson")))
SPOT = (31.40512, 121.48931)  # 友谊二网格 in the sample


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(name, level, parent, geometry, chat=None) -> dict:
    props = {"name": name, "level": level, "parent": parent, "chat": chat}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


GOOD = [
    feature("测试区", "区", None, box(121.0, 31.0, 121.2, 31.2), "telegram:-300"),
    feature("甲街道", "街道", "测试区", box(121.0, 31.0, 121.1, 31.2), "wechat:77@chatroom"),
    feature("甲一网格", "网格", "甲街道", box(121.0, 31.0, 121.1, 31.1), "telegram:-100"),
    feature("甲二网格", "网格", "甲街道", box(121.0, 31.1, 121.1, 31.2)),
]


def test_a_good_file_is_read_whole():
    specs = parse_grids(collection(*GOOD))
    assert [(s.name, s.level, s.parent, s.chat) for s in specs] == [
        ("测试区", "区", None, "telegram:-300"),
        ("甲街道", "街道", "测试区", "wechat:77@chatroom"),
        ("甲一网格", "网格", "甲街道", "telegram:-100"),
        ("甲二网格", "网格", "甲街道", None),
    ]
    assert len(parse_grids(SAMPLE.read_bytes())) == 8
    assert "示例数据" in json.loads(SAMPLE.read_text("utf-8"))["_note"]


def test_import_names_each_bad_feature_of_each_kind():
    crossing = [[121, 31], [121.1, 31.1], [121.1, 31], [121, 31.1], [121, 31]]
    bowtie = {"type": "Polygon", "coordinates": [crossing]}
    bad = [
        *GOOD,
        feature("点", "网格", "甲街道", {"type": "Point", "coordinates": [121.05, 31.05]}),
        feature("蝴蝶结", "网格", "甲街道", bowtie),
        feature("孤儿网格", "网格", "不存在的街道", box(121.0, 31.0, 121.01, 31.01)),
        feature("跳级网格", "网格", "测试区", box(121.0, 31.0, 121.01, 31.01)),
        feature("甲一网格", "网格", "甲街道", box(121.0, 31.0, 121.01, 31.01)),
        feature("坏群", "网格", "甲街道", box(121.0, 31.0, 121.01, 31.01), "qq:12345"),
        feature("反了", "网格", "甲街道", box(31.0, 121.0, 31.01, 121.01)),
        feature("有上级的区", "区", "测试区", box(121.0, 31.0, 121.01, 31.01)),
    ]
    with pytest.raises(GridFileError) as e:
        parse_grids(collection(*bad))
    found = [(p.index, p.name, p.kind) for p in e.value.problems]
    assert found == [
        (5, "点", "not_polygon"),
        (6, "蝴蝶结", "invalid_geometry"),
        (7, "孤儿网格", "unknown_parent"),
        (8, "跳级网格", "wrong_level_order"),
        (9, "甲一网格", "duplicate_name"),
        (10, "坏群", "bad_chat"),
        (11, "反了", "invalid_geometry"),
        (12, "有上级的区", "wrong_level_order"),
    ]
    said = str(e.value)
    assert "第 5 个要素 / feature 5「点」: 不是多边形 / not a polygon (Point)" in said
    assert "Self-intersection" in said and "经纬度写反了" in said


def test_a_file_that_is_no_feature_collection_is_refused():
    for text in ("not json", json.dumps({"type": "Feature"}), json.dumps([1, 2])):
        with pytest.raises(GridFileError) as e:
            parse_grids(text)
        assert e.value.problems[0].kind == "not_collection"


def test_gcj02_polygons_are_stored_as_wgs84():
    import eviltransform

    from handlers.geo.coords import haversine_m

    wgs = (31.2304, 121.4737)
    gcj = eviltransform.wgs2gcj(*wgs)
    d = 0.01
    shifted = box(gcj[1] - d, gcj[0] - d, gcj[1] + d, gcj[0] + d)
    doc = json.loads(collection(feature("区", "区", None, shifted)))
    doc["datum"] = "gcj02"
    [spec] = parse_grids(json.dumps(doc))
    centre = spec.geometry.centroid
    assert haversine_m(centre.y, centre.x, *wgs) < 5  # the box's centre moved back ~500 m


def _index(text: str) -> GridIndex:
    class Row:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    return GridIndex.build(1, [Row(**s.row()) for s in parse_grids(text)])


def test_a_point_inside_outside_or_on_a_border_gets_one_place():
    index = _index(collection(*GOOD))
    inside = index.locate(31.05, 121.05)
    assert (inside.grid, inside.street, inside.district, inside.outside) == (
        "甲一网格", "甲街道", "测试区", False,
    )  # fmt: skip
    assert index.locate(31.5, 121.5).outside
    # On the border two grids share: the one listed first in the file.
    assert index.locate(31.1, 121.05).grid == "甲一网格"
    # On the outer edge of a grid: inside it.
    assert index.locate(31.2, 121.05).grid == "甲二网格"
    # In the district but in no street: the district only.
    east = index.locate(31.05, 121.15)
    assert (east.grid, east.street, east.district, east.outside) == (None, None, "测试区", False)


def test_the_tiers_climb_from_a_grid_to_its_street_and_district():
    index = _index(collection(*GOOD))
    assert index.chat_for_tier("甲一网格", 1) == "telegram:-100"
    assert index.chat_for_tier("甲一网格", 2) == "wechat:77@chatroom"
    assert index.chat_for_tier("甲一网格", 3) == "telegram:-300"
    assert index.chat_for_tier("甲二网格", 1) is None  # that grid has no chat
    assert index.chat_for_tier("甲街道", 1) is None  # no lower than the area itself
    assert index.chat_for_tier("无此网格", 2) is None
    assert index.area_of_chat("wechat:77@chatroom") == ("街道", "甲街道")
    assert index.area_of_chat("telegram:-999") is None

    class T:
        grid, street, district = "甲一网格", "甲街道", "测试区"

    assert grids.ticket_in_area(T, "街道", "甲街道") and grids.ticket_in_area(T, "区", "测试区")
    assert not grids.ticket_in_area(T, "网格", "甲二网格")


@pytest.fixture
def grid_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"grids_file": str(SAMPLE)})


@both_backends
async def test_every_ticket_gets_its_grid_or_is_marked_outside(grid_settings, chat, clock, laowang):
    bot = Woodpecker(grid_settings, [chat], clock=clock)
    await bot.migrate()  # reads GRIDS_FILE
    try:
        await send(bot, chat, laowang, location=SPOT)
        [card] = await send(bot, chat, laowang, photos=[scene(1)], text="井盖坏了")
        assert card.text.split("\n")[-1] == "🗺 友谊二网格 · 友谊路街道"
        await send(bot, chat, laowang, location=(31.3000, 121.4000))
        [card] = await send(bot, chat, laowang, photos=[scene(2)], text="井盖坏了")
        assert card.text.split("\n")[-1] == "🗺 区域外"
        await send(bot, chat, laowang, location=(31.395, 121.46))  # 一 and 二 share this border
        await send(bot, chat, laowang, photos=[scene(3)], text="路口积水")
        first, outside, border = await tickets(bot)
        assert (first.grid, first.street, first.district) == ("友谊二网格", "友谊路街道", "宝山区")
        assert (outside.grid, outside.outside) == (None, True)
        assert border.grid == "友谊一网格"
        [shown] = await send(bot, chat, laowang, text="工单 1")
        assert "🗺 友谊二网格 · 友谊路街道" in shown.text.split("\n")
    finally:
        await bot.close()


async def test_without_grids_nothing_is_said_about_the_place(bot, chat, laowang):
    await send(bot, chat, laowang, location=SPOT)
    [card] = await send(bot, chat, laowang, photos=[scene(1)], text="井盖坏了")
    assert "🗺" not in card.text
    [ticket] = await tickets(bot)
    assert (ticket.grid, ticket.outside) == (None, False)


async def test_a_process_sees_a_new_import_at_its_next_report(grid_settings, chat, clock, laowang):
    bot = Woodpecker(grid_settings, [chat], clock=clock)
    await bot.migrate()
    try:
        await send(bot, chat, laowang, location=SPOT)
        await send(bot, chat, laowang, photos=[scene(1)], text="井盖坏了")
        renamed = SAMPLE.read_text("utf-8").replace("友谊二网格", "友谊新网格")
        other = Database(grid_settings.database_url)  # the command line, another process
        try:
            from handlers.deps import Deps
            from storage.media import MediaStore

            deps = Deps(db=other, media=MediaStore(grid_settings.media_dir))
            done = await grids.import_grids(deps, renamed)
            assert done.changed and done.version == 2
        finally:
            await other.dispose()
        await send(bot, chat, laowang, location=SPOT)
        await send(bot, chat, laowang, photos=[scene(2)], text="井盖坏了")
        assert [t.grid for t in await tickets(bot)] == ["友谊二网格", "友谊新网格"]
    finally:
        await bot.close()


async def test_a_bad_grids_file_at_start_stops_the_start(settings, chat, tmp_path):
    bad = tmp_path / "grids.geojson"
    bad.write_text(collection(GOOD[2]), "utf-8")  # a 网格 whose street is not in the file
    bot = Woodpecker(settings.model_copy(update={"grids_file": str(bad)}), [chat])
    try:
        with pytest.raises(GridFileError, match="甲一网格"):
            await bot.migrate()
    finally:
        await bot.close()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/wp.db")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))


def test_the_command_line_loads_all_or_nothing_and_lists(env, tmp_path, capsys):
    assert main(["grids", "import", str(SAMPLE), "--create"]) == 0
    assert "已导入 8 个区域（网格 5、街道 2、区 1）" in capsys.readouterr().out
    bad = tmp_path / "bad.geojson"
    doc = json.loads(SAMPLE.read_text("utf-8"))
    doc["features"][3]["properties"]["parent"] = "宝山区"  # a 网格 under a 区
    doc["features"][4]["geometry"] = {"type": "LineString", "coordinates": [[121, 31], [122, 32]]}
    bad.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    assert main(["grids", "import", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "没有导入，2 处问题 / nothing imported, 2 problems" in out
    assert "「友谊一网格」: 层级不对 / wrong level order" in out
    assert "「友谊二网格」: 不是多边形 / not a polygon (LineString)" in out
    assert main(["grids", "list"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert len(lines) == 8  # the good import still stands, untouched
    assert lines[3].startswith("网格\t友谊一网格\t友谊路街道\ttelegram:-1001000000001\t")
