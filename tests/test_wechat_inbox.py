"""WeChat arrivals are recorded before they are handled; what a kill interrupted resumes at start
(as far as the puppet still holds the message)."""

from __future__ import annotations

from sqlalchemy import select

from bot.settings import Settings
from bot.wechat.runner import WeChatBot
from storage import inbox
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Inbox
from tests.conftest import tickets
from tests.images import jpeg
from tests.test_wechat import LAOWANG, ROOM, SPOT, puppet  # noqa: F401  (fixture)


def _settings(tmp_path) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
    )


async def _rows(settings: Settings) -> list[Inbox]:
    db = Database(settings.database_url)
    try:
        async with db.read() as s:
            return list((await s.execute(select(Inbox).order_by(Inbox.id))).scalars())
    finally:
        await db.dispose()


async def test_messages_recorded_but_not_handled_before_a_kill_are_handled_at_start(
    puppet,  # noqa: F811
    tmp_path,
    clock,
):
    settings = _settings(tmp_path)
    # The puppet delivered these while the last process was dying: it had recorded them only.
    photo = puppet.send_image(ROOM, LAOWANG, jpeg(1))
    location = puppet.send_location(ROOM, LAOWANG, *SPOT)
    await upgrade(settings.database_url)
    db = Database(settings.database_url)
    arrivals = [inbox.Arrival(i, None, f'{{"message_id": "{i}"}}') for i in (photo, location)]
    arrivals.append(inbox.Arrival("forgotten-by-the-puppet", None, "{}"))
    await db.run(lambda s: inbox.record(s, "wechat", arrivals, clock()))
    await db.dispose()

    wx = WeChatBot(settings, clock=clock, puppet=puppet)
    await wx.start()
    try:
        await wx.settle()
        [ack] = puppet.pop()
        assert ack.text.startswith("已登记 #1 ")
        assert len(await tickets(wx.core)) == 1
    finally:
        await wx.stop()
    rows = await _rows(settings)  # also the bot's own card, echoed back by the puppet
    assert [r.update_key for r in rows[:3]] == [photo, location, "forgotten-by-the-puppet"]
    assert all(r.done_at is not None for r in rows)


async def test_a_message_the_puppet_delivers_twice_is_handled_once(
    puppet,  # noqa: F811
    tmp_path,
    clock,
):
    settings = _settings(tmp_path)
    wx = WeChatBot(settings, clock=clock, puppet=puppet)
    await wx.start()
    try:
        photo = puppet.send_image(ROOM, LAOWANG, jpeg(2))
        location = puppet.send_location(ROOM, LAOWANG, *SPOT)
        await wx.settle()
        [ack] = puppet.pop()
        assert ack.text.startswith("已登记 #1 ")
        puppet.emit_message(location)
        await wx.settle()
        assert puppet.pop() == []
    finally:
        await wx.stop()
    rows = await _rows(settings)
    assert [r.update_key for r in rows if r.update_key in (photo, location)] == [photo, location]
    assert all(r.done_at is not None for r in rows)
