"""Telegram and WeChat in one process share one core: one database (one database thread, one
writer queue), one outbox sender, one numbering of tickets — the way `woodpecker run` runs them."""

from __future__ import annotations

import asyncio
import threading

from bot.app import Woodpecker
from bot.serve import serve
from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from bot.wechat.runner import WeChatBot
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN, tickets
from tests.fakes.wechat_puppet import WeChatFakePuppet, location_xml
from tests.images import jpeg

ROOM = "20998811223@chatroom"
LAOWANG_TG = tu.user(7001, "老王")
XIAOLI_WX = "wxid_xiaoli02"
SPOT = (31.40512, 121.48931)


async def test_telegram_and_wechat_in_one_process_share_one_database_core(api, tmp_path, clock):
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_base_url=api.base_url,
        scheduler_enabled=False,
    )
    puppet = WeChatFakePuppet()
    puppet.add_room(ROOM, "友谊路骑手群", {XIAOLI_WX: "小李"})
    core = Woodpecker(settings, clock=clock)
    telegram = TelegramBot(settings, core=core)
    wechat = WeChatBot(settings, puppet=puppet, core=core)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, core, [telegram, wechat], stop))
    try:
        api.add_file("ph1", jpeg(1), file_unique_id="u-ph1")
        api.push_update(tu.photo(LAOWANG_TG, "ph1"))
        api.push_update(tu.location(LAOWANG_TG, *SPOT))
        [tg_ack] = await api.wait_for_sent(1, timeout=30)
        puppet.send_image(ROOM, XIAOLI_WX, jpeg(2))
        puppet.send_location_xml(ROOM, XIAOLI_WX, location_xml(*SPOT))
        await wechat.settle()
        [wx_ack] = puppet.pop()
        assert tg_ack["text"].startswith("已登记 #1 ")
        assert wx_ack.text.startswith("已登记 #2 ")  # one numbering: one database
        assert telegram.core is wechat.core is core
        assert set(core.sender.ports) == {"telegram", "wechat"}  # one sender for both
        db_threads = [t for t in threading.enumerate() if t.name == "woodpecker-db"]
        assert len(db_threads) == 1
        assert [t.id for t in await tickets(core)] == [1, 2]
    finally:
        stop.set()
        assert await asyncio.wait_for(running, timeout=30) == 0
