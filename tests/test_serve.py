"""`woodpecker run` with a chat token: the bot, its outbox sender and the scheduler in one
process, up until SIGTERM. The Telegram side talks to the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3

from bot.serve import serve
from bot.settings import Settings
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import jpeg

LAOWANG = tu.user(7001, "老王")


async def test_run_serves_a_report_starts_the_scheduler_and_stops_on_sigterm(tmp_path):
    api = FakeTelegramAPI(token=TOKEN, bot_username="woodpecker_bot")
    await api.start()
    db = tmp_path / "wp.db"
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{db}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TOKEN,
        telegram_base_url=api.base_url,
    )
    running = asyncio.create_task(serve(settings))
    try:
        api.add_file("ph1", jpeg(3), file_unique_id="u-ph1")
        api.push_update(tu.photo(LAOWANG, "ph1", caption="井盖坏了"))
        api.push_update(tu.location(LAOWANG, 31.40512, 121.48931))
        # The location came within the grace: the report's first and only message is the ack.
        ack, *_ = await api.wait_for_sent(1, timeout=30)
        assert ack["text"].startswith("已登记 #1 井盖损坏 — 谢谢！")
        with sqlite3.connect(db) as conn:  # the scheduler noted its first start
            started = conn.execute(
                "SELECT count(*) FROM jobrun WHERE job = 'scheduler' AND period = 'start'"
            ).fetchone()
        assert started == (1,)
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(running, timeout=30) == 0
    finally:
        running.cancel()
        await api.stop()
