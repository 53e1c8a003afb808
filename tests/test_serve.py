"""`woodpecker run` with a chat token: the bot, its outbox sender and the scheduler in one
process, up until SIGTERM. The Telegram side talks to the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys

import httpx
import pytest

from bot.serve import serve
from bot.settings import Settings
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import jpeg
from tests.web import free_port

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


async def test_run_with_web_port_serves_the_desk_in_the_same_process(tmp_path):
    api = FakeTelegramAPI(token=TOKEN, bot_username="woodpecker_bot")
    await api.start()
    port = free_port()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TOKEN,
        telegram_base_url=api.base_url,
        web_port=port,
    )
    running = asyncio.create_task(serve(settings))
    try:
        api.add_file("ph1", jpeg(3), file_unique_id="u-ph1")
        api.push_update(tu.photo(LAOWANG, "ph1", caption="井盖坏了"))
        api.push_update(tu.location(LAOWANG, 31.40512, 121.48931))
        await api.wait_for_sent(1, timeout=30)  # the acknowledgement (no question: within grace)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as desk:
            health = (await desk.get("/healthz")).json()
            [ticket] = (await desk.get("/open311/v2/requests.json")).json()
        assert health["ok"] and health["last_update"]["telegram"] is not None
        assert ticket["service_request_id"] == "1"
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(running, timeout=30) == 0
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as desk:
                await desk.get("/healthz")
    finally:
        running.cancel()
        await api.stop()


async def test_woodpecker_web_runs_the_desk_alone_until_sigterm(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'wp.db'}",
        "MEDIA_DIR": str(tmp_path / "media"),
    }
    desk = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "web", "--port", str(port), "--create",
        env=env, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        banner = await asyncio.wait_for(desk.stdout.readline(), 60)  # printed once it listens
        assert f"127.0.0.1:{port}" in banner.decode()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/healthz")).json()["database"] == "ok"
            assert (await client.get("/map")).status_code == 401
        desk.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(desk.wait(), 30) == 0
    finally:
        if desk.returncode is None:
            desk.kill()
            await desk.wait()
