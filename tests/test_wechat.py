"""The WeChat adapter: the real wechaty SDK on a fake puppet, the location XML, the port."""

from __future__ import annotations

import base64
import math

import eviltransform
import pytest

from bot.settings import Settings
from bot.wechat.location import looks_like_location, parse_location
from bot.wechat.port import WeChatPort
from bot.wechat.runner import WeChatBot
from bot.wechat.sdk import FileBox, GRPCError, GrpcStatus
from bot.wechat.translate import filebox_bytes, split_command
from handlers.photos import PhotoRejected
from handlers.ports import PermanentSendError
from handlers.types import Outgoing
from tests.conftest import photo_count, tickets
from tests.fakes.wechat_puppet import BOT_ID, WeChatFakePuppet, location_xml
from tests.images import jpeg, jpeg_with_gps

ROOM = "20998811223@chatroom"
LAOWANG, XIAOLI, PENG = "wxid_laowang01", "wxid_xiaoli02", "wxid_peng03"
SPOT = (31.40512, 121.48931)  # WGS-84


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


@pytest.fixture
def puppet() -> WeChatFakePuppet:
    fake = WeChatFakePuppet()
    fake.add_room(
        ROOM,
        "友谊路骑手群",
        {LAOWANG: "王建国", XIAOLI: "小李", PENG: "彭文兴"},
        owner_id=PENG,
        aliases={LAOWANG: "老王-美团"},
    )
    return fake


@pytest.fixture
async def wx(puppet, tmp_path, clock):
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
    )
    bot = WeChatBot(settings, clock=clock, puppet=puppet)
    await bot.start()
    yield bot
    await bot.stop()


async def said(wx: WeChatBot, puppet: WeChatFakePuppet):
    await wx.settle()
    return puppet.pop()


# The bot in a room.


async def test_photo_then_location_xml_makes_one_ticket_acknowledged_in_the_room(wx, puppet):
    puppet.send_image(ROOM, LAOWANG, jpeg(1))
    puppet.send_location_xml(ROOM, LAOWANG, location_xml(*SPOT))
    [ack] = await said(wx, puppet)
    assert ack.conversation_id == ROOM
    assert ack.text.startswith("已登记 #1 ") and "uri.amap.com" in ack.text
    [ticket] = await tickets(wx.core)
    assert metres((ticket.lat, ticket.lon), SPOT) < 2
    assert ticket.address == "友谊路地铁站 上海市宝山区友谊路1号"
    assert ticket.card_message_id == ack.message_id


async def test_location_xml_then_photo_and_location_as_plain_text(wx, puppet):
    # Some puppets deliver the location as a text message holding the XML.
    puppet.send_location_xml(ROOM, LAOWANG, location_xml(*SPOT, label=None), as_text=True)
    puppet.send_image(ROOM, LAOWANG, jpeg(2))
    [ack] = await said(wx, puppet)
    assert ack.text.startswith("已登记 #1 ")
    [ticket] = await tickets(wx.core)
    assert ticket.address == "友谊路地铁站"


async def test_the_same_message_id_emitted_twice_makes_one_ticket(wx, puppet):
    puppet.send_location(ROOM, LAOWANG, *SPOT)
    photo = puppet.send_image(ROOM, LAOWANG, jpeg(3))
    puppet.emit_message(photo)
    puppet.emit_message(photo)
    acks = await said(wx, puppet)
    assert len(acks) == 1 and len(await tickets(wx.core)) == 1
    puppet.emit_message(photo)  # again, later (a reconnecting puppet replays)
    assert await said(wx, puppet) == []
    [ticket] = await tickets(wx.core)
    assert await photo_count(wx.core, ticket.id) == 1


async def test_chatter_and_the_bots_own_words_get_nothing(wx, puppet):
    puppet.send_text(ROOM, XIAOLI, "中午吃啥？")
    puppet.send_text(ROOM, LAOWANG, "@小李\u2005老地方", mention_ids=[XIAOLI])
    puppet.send_text(ROOM, BOT_ID, "已登记 #9 其他 — 谢谢！")  # our own message echoed back
    assert await said(wx, puppet) == []
    assert await tickets(wx.core) == []


async def test_an_unreadable_location_gets_a_clear_reply_naming_the_rider(wx, puppet):
    puppet.send_location_xml(ROOM, LAOWANG, '<msg><location x="" y="121.47" label="某处"/></msg>')
    [reply] = await said(wx, puppet)
    assert reply.mention_ids == [LAOWANG]
    assert reply.text.startswith("@老王-美团\u2005老王-美团，这个位置没能读出来")
    assert "重新发送位置" in reply.text and "文件" in reply.text
    assert await tickets(wx.core) == []


async def test_a_photo_sent_as_a_file_with_gps_is_a_whole_report(wx, puppet):
    puppet.send_image(ROOM, LAOWANG, jpeg_with_gps(31.2304, 121.4737), as_file=True)
    [ack] = await said(wx, puppet)
    assert ack.text.startswith("已登记 #1 ")
    [ticket] = await tickets(wx.core)
    assert abs(ticket.lat - 31.2304) < 1e-4 and abs(ticket.lon - 121.4737) < 1e-4


async def test_a_document_that_is_not_a_picture_is_ignored(wx, puppet):
    puppet.send_image(ROOM, LAOWANG, b"%PDF-1.4", as_file=True, name="排班表.pdf")
    assert await said(wx, puppet) == []


async def test_words_right_after_a_slow_photo_stay_in_order(wx, puppet):
    # The photo's payload loads slowly; the words after it must still come second.
    puppet.send_image(ROOM, LAOWANG, jpeg(4), slow=50)
    puppet.send_text(ROOM, LAOWANG, "井盖坏了")
    puppet.send_location(ROOM, LAOWANG, *SPOT)
    # The words arrived before the location: they are the ticket's description and category.
    [ack] = [s.text for s in await said(wx, puppet)]
    assert ack.startswith("已登记 #1 井盖损坏")


async def test_help_in_words_or_by_mention(wx, puppet):
    puppet.send_text(ROOM, XIAOLI, "帮助")
    puppet.send_text(ROOM, XIAOLI, "@啄木鸟\u2005帮助", mention_ids=[BOT_ID])
    puppet.send_text(ROOM, XIAOLI, "/help")
    replies = await said(wx, puppet)
    assert len(replies) == 3 and all("随手拍两步" in r.text for r in replies)


async def test_a_photo_then_a_mention_of_the_bot_asks_for_the_location(wx, puppet, clock):
    # WeChat photos carry no caption: the words come as the next message.
    puppet.send_image(ROOM, LAOWANG, jpeg(5))
    puppet.send_text(ROOM, LAOWANG, "@啄木鸟\u2005这里有飞线充电", mention_ids=[BOT_ID])
    assert await said(wx, puppet) == []  # the location may be on its way
    clock.advance(seconds=30)
    [ask] = await said(wx, puppet)
    assert ask.mention_ids == [LAOWANG] and "再发一个位置" in ask.text


async def test_the_room_owner_is_a_chat_admin_and_members_are_known_by_contact_id(wx, puppet):
    from sqlalchemy import select

    from storage.models import Member

    puppet.send_location(ROOM, PENG, *SPOT)
    puppet.send_image(ROOM, PENG, jpeg(6))
    await said(wx, puppet)
    async with wx.core.db.read() as s:
        members = (await s.execute(select(Member))).scalars().all()
    assert [(m.platform, m.user_id) for m in members] == [("wechat", PENG)]


async def test_room_say_works_on_the_fake_puppet(wx, puppet):
    room = wx.wechaty.Room.load(ROOM)
    await room.ready()
    message = await room.say("你好", mention_ids=[LAOWANG])
    [line] = puppet.pop()
    assert line.text == "@王建国 你好" and line.mention_ids == [LAOWANG]
    assert message.message_id == line.message_id


# The port.


class _Refusing(WeChatFakePuppet):
    def __init__(self, status: GrpcStatus) -> None:
        super().__init__()
        self.status = status

    async def message_send_text(self, conversation_id, message, mention_ids=None):
        raise GRPCError(self.status, "room not found")


@pytest.mark.parametrize(
    ("status", "permanent"), [(GrpcStatus.NOT_FOUND, True), (GrpcStatus.UNAVAILABLE, False)]
)
async def test_the_port_tells_permanent_from_passing_failures(tmp_path, status, permanent):
    bot = WeChatBot(
        Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}"),
        puppet=_Refusing(status),
    )
    await bot.wechaty.init_puppet()
    port = WeChatPort(bot.wechaty)
    expected = PermanentSendError if permanent else GRPCError
    with pytest.raises(expected):
        await port.send(Outgoing("wechat", ROOM, "hi"))
    await bot.core.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # FileBox logs with .warn
async def test_filebox_kinds_and_the_size_limit(tmp_path):
    data = jpeg(9)
    path = tmp_path / "a.jpg"
    path.write_bytes(data)
    assert await filebox_bytes(FileBox.from_base64(base64.b64encode(data), "a.jpg")) == data
    assert await filebox_bytes(FileBox.from_buffer(data, "a.jpg")) == data
    assert await filebox_bytes(FileBox.from_file(str(path))) == data
    with pytest.raises(PhotoRejected):
        await filebox_bytes(FileBox.from_base64(base64.b64encode(data), "a.jpg"), limit=1000)


def test_commands_and_mentions_in_words():
    assert split_command("@啄木鸟\u2005受理 17") == (None, "受理 17")
    assert split_command("/help@woodpecker") == ("help", None)
    assert split_command("/report 井盖坏了") == ("report", "井盖坏了")
    assert split_command("帮助一下老人") == (None, "帮助一下老人")


# The location XML.

SAMPLES = {
    "padlocal, wrapped, with a sender prefix": (
        'wxid_laowang01:\n<?xml version="1.0"?>\n<msg>\n\t<location x="31.230416" '
        'y="121.473701" scale="16" label="上海市黄浦区人民大道200号" maptype="roadmap" '
        'poiname="上海市人民政府" poiid="nearby_123" buildingId="" floorName="" '
        'poiCategoryTips="" poiBusinessHour="" poiPhone="" poiPriceTips="0.0" isFromPoiList="true" '
        'adcode="310101" cityname="上海市" />\n</msg>',
        (31.230416, 121.473701),
        "上海市人民政府 上海市黄浦区人民大道200号",
    ),
    "bare tag, no names": ('<location x="31.23" y="121.47"/>', (31.23, 121.47), None),
    "odd spacing, attributes reordered, single quotes": (
        "<location   poiname = '人民广场'\n  y = '121.4752'   x='31.2323'  scale='15' ></location>",
        (31.2323, 121.4752),
        "人民广场",
    ),
    "escaped XML, entities in the names": (
        "&lt;msg&gt;&lt;location x=&quot;31.2991&quot; y=&quot;121.5012&quot; "
        "label=&quot;杨浦区&amp;amp;五角场&quot; /&gt;&lt;/msg&gt;",
        (31.2991, 121.5012),
        "杨浦区&五角场",
    ),
    "label only, equal poiname ignored": (
        '<location x="31.1" y="121.3" label="松江区" poiname="松江区"/>',
        (31.1, 121.3),
        "松江区",
    ),
}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_real_shaped_location_xml(name):
    text, gcj, address = SAMPLES[name]
    location = parse_location(text)
    assert location is not None, name
    want = eviltransform.gcj2wgs_exact(*gcj)
    assert metres((location.lat, location.lon), want) < 0.01
    assert location.address == address
    assert looks_like_location(text)


@pytest.mark.parametrize(
    "text",
    [
        '<location x="" y="121.47"/>',
        '<location x="abc" y="121.47"/>',
        '<location x="nan" y="121.47"/>',
        '<location x="inf" y="121.47"/>',
        '<location x="0" y="0" label="null island"/>',
        '<location x="95" y="200"/>',
        '<location y="121.47"/>',
        "<location />",
        "<locationx x='31' y='121'/>",
        "我在人民广场",
        "",
    ],
)
def test_bad_location_values_are_unreadable(text):
    assert parse_location(text) is None


def test_swapped_coordinates_are_put_right():
    location = parse_location('<location x="121.47" y="31.23"/>')
    assert location is not None and 31 < location.lat < 32 and 121 < location.lon < 122


@pytest.mark.parametrize(
    "wgs", [SPOT, (31.2304, 121.4737), (39.9087, 116.3975), (22.5431, 114.0579), (30.0, 103.0)]
)
def test_gcj02_to_wgs84_is_within_2_metres(wgs):
    gcj = eviltransform.wgs2gcj(*wgs)
    assert metres(gcj, wgs) > 100  # the shift is real (hundreds of metres in China)
    location = parse_location(f'<location x="{gcj[0]:.6f}" y="{gcj[1]:.6f}" scale="15"/>')
    assert metres((location.lat, location.lon), wgs) < 2
