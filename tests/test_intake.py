"""A courier's photo and location become one ticket; everything else in the group is left alone."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from handlers.photos import MAX_BYTES
from storage.models import Draft, Outbox, Photo, ProcessedMessage
from tests.conftest import after_grace, both_backends, photo_count, send, tickets
from tests.images import jpeg, jpeg_with_gps, pixel_bomb, scene, truncated_jpeg, with_metadata

SPOT = (31.40512, 121.48931)


@both_backends
async def test_photo_then_location_makes_one_ticket(bot, chat, laowang, clock):
    assert await send(bot, chat, laowang, photos=[jpeg()], text="井盖坏了") == []  # waits
    clock.advance(seconds=5)
    said = await send(bot, chat, laowang, location=SPOT, message_id="loc-1")
    [ticket] = await tickets(bot)
    assert (ticket.lat, ticket.lon, ticket.category) == (*SPOT, "井盖损坏")
    assert ticket.description == "井盖坏了"
    [ack] = said
    assert ack.text.startswith(f"已登记 #{ticket.id} 井盖损坏 — 谢谢！")
    assert "uri.amap.com/marker?position=121.489310,31.405120" in ack.text
    assert ack.reply_to == "loc-1"
    assert await after_grace(bot, chat, clock) == []  # the location came: nothing is asked


@both_backends
async def test_location_then_photo_makes_one_ticket(bot, chat, laowang):
    assert await send(bot, chat, laowang, location=SPOT) == []  # held silently
    said = await send(bot, chat, laowang, photos=[jpeg()], text="共享单车堵住人行道")
    [ticket] = await tickets(bot)
    assert ticket.category == "共享单车乱停"
    assert [s.text.split("\n")[0] for s in said] == [f"已登记 #{ticket.id} 共享单车乱停 — 谢谢！"]


@both_backends
async def test_album_then_a_late_location_is_one_ticket_with_every_photo(bot, chat, laowang, clock):
    said = []
    for i, caption in enumerate([None, "路面塌陷了", None]):
        said += await send(bot, chat, laowang, photos=[jpeg(i)], text=caption, album_id="alb-1")
    said += await after_grace(bot, chat, clock)
    said += await send(bot, chat, laowang, location=SPOT)
    [ticket] = await tickets(bot)
    assert await photo_count(bot, ticket.id) == 3
    assert ticket.category == "路面突发事件"
    assert sum("已登记" in s.text for s in said) == 1
    assert sum("请在" in s.text for s in said) == 1  # asked for the location once


@both_backends
async def test_location_then_album_acknowledges_once(bot, chat, laowang):
    await send(bot, chat, laowang, location=SPOT)
    said = []
    for i in range(3):
        said += await send(bot, chat, laowang, photos=[jpeg(i)], album_id="alb-2")
    [ticket] = await tickets(bot)
    assert await photo_count(bot, ticket.id) == 3
    assert len(said) == 1 and "已登记" in said[0].text


@both_backends
async def test_a_second_location_after_a_report_does_not_make_a_photoless_ticket(
    bot, chat, laowang
):
    await send(bot, chat, laowang, photos=[jpeg()], text="井盖坏了")
    await send(bot, chat, laowang, location=SPOT)
    assert await send(bot, chat, laowang, location=(31.41, 121.49)) == []  # "I'm here", held
    [ticket] = await tickets(bot)
    assert await photo_count(bot, ticket.id) == 1
    said = await send(bot, chat, laowang, photos=[jpeg(7)])
    assert len(await tickets(bot)) == 2 and "已登记" in said[0].text


async def test_photo_file_with_exif_gps_needs_no_location(bot, chat, laowang):
    said = await send(
        bot, chat, laowang, photos=[jpeg_with_gps(31.2304, 121.4737)], photo_as_file=True
    )
    [ticket] = await tickets(bot)
    assert abs(ticket.lat - 31.2304) < 1e-4 and abs(ticket.lon - 121.4737) < 1e-4
    assert "已登记" in said[0].text


async def test_compressed_photo_gps_is_not_trusted(bot, chat, laowang):
    # Only an uncompressed file keeps the rider's own EXIF; a compressed one waits for a location.
    assert await send(bot, chat, laowang, photos=[jpeg_with_gps(31.23, 121.47)]) == []
    assert await tickets(bot) == []


async def test_half_left_past_the_window_expires_silently(bot, chat, laowang, clock):
    await send(bot, chat, laowang, photos=[jpeg()])
    clock.advance(minutes=11)
    assert await send(bot, chat, laowang, location=SPOT) == []
    assert await tickets(bot) == []
    # The late location is a fresh half of its own.
    await send(bot, chat, laowang, photos=[jpeg(2)])
    [ticket] = await tickets(bot)
    assert (ticket.lat, ticket.lon) == SPOT


async def test_other_riders_halves_do_not_pair(bot, chat, laowang, xiaoli):
    await send(bot, chat, laowang, photos=[jpeg()])
    await send(bot, chat, xiaoli, location=SPOT)
    assert await tickets(bot) == []


@both_backends
async def test_redelivered_message_makes_one_ticket_and_one_reply(bot, chat, laowang):
    await send(bot, chat, laowang, location=SPOT)
    photo = chat.message(laowang, photos=[jpeg()], message_id="m-42")
    await bot.handle(photo)
    await bot.handle(chat.message(laowang, photos=[jpeg()], message_id="m-42"))
    await bot.flush()
    assert len(await tickets(bot)) == 1
    assert len(chat.pop()) == 1


async def test_corrupt_image_gets_a_clear_reply_and_a_later_photo_still_works(bot, chat, laowang):
    await send(bot, chat, laowang, location=SPOT)
    said = await send(bot, chat, laowang, photos=[truncated_jpeg()], photo_as_file=True)
    assert [s.text for s in said] == [
        "老王，这张图片打不开（文件损坏），没有登记。请重新拍一张发来。"
    ]
    assert said[0].mentions == [laowang.user_id]
    assert await tickets(bot) == []
    said = await send(bot, chat, laowang, photos=[jpeg()])
    [ticket] = await tickets(bot)
    assert (ticket.lat, ticket.lon) == SPOT and "已登记" in said[0].text


async def test_non_image_bomb_and_oversized_files_are_refused_without_a_ticket(bot, chat, laowang):
    texts = []
    for data in (b"%PDF-1.7 not a picture", pixel_bomb(), b"\xff\xd8\xff" + b"0" * (MAX_BYTES + 1)):
        texts += [s.text for s in await send(bot, chat, laowang, photos=[data], photo_as_file=True)]
    assert texts == [
        "老王，这个文件不是图片，没有登记。请发照片。",
        "老王，图片尺寸太大，没有登记。请用手机直接拍一张发来。",
        "老王，文件超过 20 MB，没有登记。请直接拍照发送，不要以文件发送。",
    ]
    await send(bot, chat, laowang, location=SPOT)
    assert await tickets(bot) == []


async def test_chatter_gets_no_reply_and_writes_nothing(bot, chat, laowang, xiaoli):
    for text in ("中午吃啥？", "老王牛啊", "🚲🚲"):
        assert await send(bot, chat, xiaoli, text=text) == []
    async with bot.db.read() as s:
        for table in (ProcessedMessage, Outbox, Draft):
            assert (await s.execute(select(func.count()).select_from(table))).scalar_one() == 0


async def test_lunch_photo_and_im_here_location_are_held_silently(bot, chat, laowang, xiaoli):
    assert await send(bot, chat, laowang, photos=[jpeg()], text="今天的盒饭") == []
    assert await send(bot, chat, xiaoli, location=SPOT) == []
    assert await tickets(bot) == []


async def test_a_report_like_half_asks_for_the_other_half_once_after_the_grace(
    bot, chat, laowang, clock
):
    assert await send(bot, chat, laowang, photos=[jpeg()], text="这里积水很深") == []
    clock.advance(seconds=29)
    await bot.flush()
    assert chat.pop() == []  # not yet: the location may be on its way
    clock.advance(seconds=1)
    await bot.flush()
    [ask] = chat.pop()
    assert ask.text == "老王，照片收到 📷 请在 10 分钟内再发一个位置（📎→位置）。"
    assert ask.mentions == [laowang.user_id]
    assert await send(bot, chat, laowang, photos=[jpeg(1)], text="积水越来越深") == []
    assert await after_grace(bot, chat, clock) == []


@both_backends
async def test_location_then_photo_within_the_grace_costs_one_message(bot, chat, laowang, clock):
    assert await send(bot, chat, laowang, location=SPOT) == []
    assert await send(bot, chat, laowang, text="井盖坏了") == []  # a report: the question waits
    assert await _unsent(bot) == 1
    clock.advance(seconds=20)
    [ack] = await send(bot, chat, laowang, photos=[jpeg()])
    assert ack.text.startswith("已登记 #1")
    assert await _unsent(bot) == 0  # the photo came in time: the question is gone
    assert await after_grace(bot, chat, clock) == []


async def _unsent(bot) -> int:
    async with bot.db.read() as s:
        unsent = select(func.count()).select_from(Outbox).where(Outbox.sent_at.is_(None))
        return (await s.execute(unsent)).scalar_one()


async def test_with_no_grace_the_question_goes_out_at_once(tmp_path, chat, clock, laowang):
    from bot.app import Woodpecker
    from bot.settings import Settings

    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        prompt_grace_seconds=0,
    )
    bot = Woodpecker(settings, [chat], clock=clock)
    await bot.migrate()
    try:
        [ask] = await send(bot, chat, laowang, photos=[jpeg()], text="这里积水很深")
        assert "再发一个位置" in ask.text
    finally:
        await bot.close()


async def test_report_command_alone_explains_the_two_steps(bot, chat, laowang, clock):
    [howto] = await send(bot, chat, laowang, command="report")
    assert "随手拍两步" in howto.text
    assert await send(bot, chat, laowang, location=SPOT) == []
    [ask] = await after_grace(bot, chat, clock)
    assert "请在 10 分钟内再拍一张照片" in ask.text


@both_backends
async def test_text_right_after_is_the_description(bot, chat, laowang, xiaoli, clock):
    await send(bot, chat, laowang, photos=[jpeg()])
    await send(bot, chat, laowang, text="树枝断了挂在电线上")
    [ask] = await after_grace(bot, chat, clock)
    assert "再发一个位置" in ask.text  # the words make the half look like a report
    await send(bot, chat, laowang, location=SPOT)
    # A text after the ticket, with no description yet, fills it in too.
    await send(bot, chat, xiaoli, location=SPOT)
    await send(bot, chat, xiaoli, photos=[jpeg(3)])
    await send(bot, chat, xiaoli, text="有人乱堆杂物")
    first, second = await tickets(bot)
    assert (first.description, first.category) == ("树枝断了挂在电线上", "行道树隐患")
    assert (second.description, second.category) == ("有人乱堆杂物", "乱堆乱放")


async def test_no_stored_copy_keeps_exif(bot, chat, laowang, settings):
    from pathlib import Path

    await send(bot, chat, laowang, photos=[jpeg_with_gps(31.2304, 121.4737)], photo_as_file=True)
    async with bot.db.read() as s:
        [photo] = (await s.execute(select(Photo))).scalars().all()
    stored = list(Path(settings.media_dir).rglob("*.jpg"))
    assert {p.name for p in stored} == {f"{photo.sha256}.jpg", f"{photo.sha256}.thumb.jpg"}
    for path in stored:
        data = path.read_bytes()
        assert b"Exif" not in data and b"Xiaomi" not in data and b"Wang Jianguo" not in data
        with Image.open(io.BytesIO(data)) as img:
            assert dict(img.getexif()) == {}


@pytest.mark.parametrize("as_file", [False, True])
async def test_a_small_photo_is_stored_as_it_came_less_all_its_metadata(
    bot, chat, laowang, as_file
):
    original = with_metadata(jpeg_with_gps(31.2304, 121.4737, seed=5))
    await send(bot, chat, laowang, photos=[original], photo_as_file=as_file)
    async with bot.db.read() as s:
        [photo] = (await s.execute(select(Photo))).scalars().all()
    stored = bot.deps.media.resolve(photo.path).read_bytes()
    for secret in (b"Exif", b"Xiaomi", b"Wang Jianguo", b"GPSLatitude", b"Youyi", b"TRAILER"):
        assert secret not in stored
    with Image.open(io.BytesIO(original)) as a, Image.open(io.BytesIO(stored)) as b:
        assert a.size == b.size and a.tobytes() == b.tobytes()  # not one pixel re-encoded


async def test_a_small_photo_taken_sideways_is_stored_upright(bot, chat, laowang):
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: turned a quarter
    await send(bot, chat, laowang, photos=[jpeg(2, exif=exif)], photo_as_file=True)
    async with bot.db.read() as s:
        [photo] = (await s.execute(select(Photo))).scalars().all()
    assert (photo.width, photo.height) == (480, 640)
    with Image.open(bot.deps.media.resolve(photo.path)) as shown:
        assert shown.size == (480, 640) and dict(shown.getexif()) == {}


async def test_a_photo_cut_off_mid_picture_is_refused(bot, chat, laowang):
    data = scene(4)
    [said] = await send(bot, chat, laowang, photos=[data[: len(data) // 2]])
    assert "图片打不开" in said.text
    async with bot.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Photo))).scalar_one() == 0


async def test_a_report_still_lands_after_the_image_workers_died(bot, chat, laowang, xiaoli):
    from handlers import imagework

    await send(bot, chat, xiaoli, photos=[jpeg(1)])  # the worker processes are running
    for worker in list(imagework._pool._processes.values()):
        worker.kill()  # as a decoder crash would end one
        worker.join()
    await send(bot, chat, laowang, location=(31.41, 121.49))
    [ack] = await send(bot, chat, laowang, photos=[jpeg(2)])
    assert ack.text.startswith("已登记 #1")
    assert await photo_count(bot, 1) == 1


async def test_a_large_photo_taken_sideways_is_stored_upright_and_shrunk(bot, chat, laowang):
    from handlers.photos import DISPLAY_SIDE, THUMB_SIDE

    img = Image.new("RGB", (6000, 4000), (200, 120, 40))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: the phone was held upright, the sensor stored it sideways
    raw = io.BytesIO()
    img.save(raw, "JPEG", quality=70, exif=exif)
    await send(bot, chat, laowang, photos=[raw.getvalue()], photo_as_file=True)
    async with bot.db.read() as s:
        [photo] = (await s.execute(select(Photo))).scalars().all()
    assert (photo.width, photo.height) == (4000, 6000)
    for path, side in ((photo.path, DISPLAY_SIDE), (photo.thumb_path, THUMB_SIDE)):
        with Image.open(bot.deps.media.resolve(path)) as shown:
            assert max(shown.size) == side and shown.height > shown.width


async def test_english_locale_speaks_english(settings, chat, clock, laowang):
    from bot.app import Woodpecker

    app = Woodpecker(settings.model_copy(update={"locale": "en"}), [chat], clock=clock)
    await app.migrate()
    await send(app, chat, laowang, location=SPOT)
    [ack] = await send(app, chat, laowang, photos=[jpeg()], text="manhole cover missing")
    assert ack.text.startswith("Logged #1 broken manhole cover — thank you!")
    await app.close()


async def test_chatter_in_the_pairing_window_does_not_become_the_description(bot, chat, laowang):
    await send(bot, chat, laowang, photos=[jpeg()])
    assert await send(bot, chat, laowang, text="今天好热啊") == []
    await send(bot, chat, laowang, location=SPOT)
    await send(bot, chat, laowang, text="今天好热啊，喝口水")  # after the ticket, too
    [ticket] = await tickets(bot)
    assert (ticket.description, ticket.category) == (None, "其他")


async def test_a_caption_a_category_word_or_a_reply_to_the_card_describes_the_report(
    bot, chat, laowang, xiaoli
):
    await send(bot, chat, laowang, photos=[jpeg(1)], text="路口这个")  # a caption, however short
    await send(bot, chat, laowang, location=SPOT)
    await send(bot, chat, xiaoli, photos=[jpeg(2)])
    await send(bot, chat, xiaoli, location=SPOT)
    await send(bot, chat, xiaoli, text="井盖松了")  # names a category
    await send(bot, chat, laowang, photos=[jpeg(3)])
    [card] = await send(bot, chat, laowang, location=SPOT)
    await send(bot, chat, laowang, text="这里很危险，晚上看不见", reply_to=card.message_id)
    first, second, third = await tickets(bot)
    assert first.description == "路口这个"
    assert (second.description, second.category) == ("井盖松了", "井盖损坏")
    assert third.description == "这里很危险，晚上看不见"
