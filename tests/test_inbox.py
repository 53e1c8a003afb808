"""Updates are durable before Telegram hears they were received: a kill loses none."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys

import httpx
from sqlalchemy import select

from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from storage.db import Database
from storage.models import Inbox
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN, tickets
from tests.images import jpeg
from tests.test_telegram import LAOWANG, SPOT, settle


def _settings(api, tmp_path, **overrides) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_base_url=api.base_url,
        telegram_rate_limit=False,
        scheduler_enabled=False,
        **overrides,
    )


async def _run_bot_process(settings: Settings, cwd) -> asyncio.subprocess.Process:
    """`woodpecker run` in a process of its own, as an operator starts it."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEDIA_DIR": settings.media_dir,
        "TELEGRAM_BOT_TOKEN": settings.telegram_bot_token,
        "TELEGRAM_BASE_URL": settings.telegram_base_url,
        "TELEGRAM_RATE_LIMIT": "false",
        "SCHEDULER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", "--create", env=env, cwd=cwd
    )


async def test_a_report_fetched_but_not_handled_when_the_bot_is_killed_is_handled_after_restart(
    api, tmp_path, clock
):
    settings = _settings(api, tmp_path)
    api.add_file("ph1", jpeg(5), file_unique_id="u-ph1")
    download = api.hold("getFile")  # the bot is busy with the photo when it is killed
    api.push_update(tu.photo(LAOWANG, "ph1", caption="井盖坏了"))
    api.push_update(tu.location(LAOWANG, *SPOT, message_id=4242))
    proc = await _run_bot_process(settings, tmp_path)
    try:
        await api.wait_for_call("getFile", timeout=60)
        await api.wait_until_delivered(timeout=10)  # Telegram considers both received
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
    download.set()
    assert await tickets_in(settings) == []

    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    try:
        acks = [s["text"] for s in await settle(api) if "已登记" in s["text"]]
        assert len(acks) == 1 and acks[0].startswith("已登记 #1 井盖损坏")
    finally:
        await bot.stop()
    db = Database(settings.database_url)
    async with db.read() as s:
        rows = (await s.execute(select(Inbox))).scalars().all()
    await db.dispose()
    assert len(rows) == 3 and all(r.done_at is not None for r in rows)  # photo, location, /help


async def tickets_in(settings: Settings) -> list:
    from bot.app import Woodpecker

    core = Woodpecker(settings, [])
    try:
        return await tickets(core)
    finally:
        await core.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_webhook_answers_200_only_once_the_update_is_in_the_database(
    api, tmp_path, clock
):
    port = _free_port()
    settings = _settings(
        api,
        tmp_path,
        telegram_webhook_url="https://bot.example.org/123456",
        telegram_webhook_listen="127.0.0.1",
        telegram_webhook_port=port,
        telegram_webhook_secret="s3cret-hook",
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    url = f"http://127.0.0.1:{port}/123456"
    update = {"update_id": 99001, **tu.command(LAOWANG, "/help")}
    body = json.dumps(update)
    headers = {"Content-Type": "application/json"}
    try:
        [hook] = api.calls("setWebhook")
        assert hook["url"] == settings.telegram_webhook_url
        assert hook["secret_token"] == "s3cret-hook"
        async with httpx.AsyncClient() as client:
            wrong = {**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
            assert (await client.post(url, content=body, headers=wrong)).status_code == 403
            assert (await client.post(url, content="{", headers=headers)).status_code == 403
            right = {**headers, "X-Telegram-Bot-Api-Secret-Token": "s3cret-hook"}
            assert (await client.post(url, content="[1]", headers=right)).status_code == 400
            response = await client.post(url, content=body, headers=right)
            assert response.status_code == 200
            async with bot.core.db.read() as s:  # committed before the 200 was written
                [row] = (await s.execute(select(Inbox))).scalars().all()
            assert row.update_key == "99001" and json.loads(row.payload)["update_id"] == 99001
            [reply] = await api.wait_for_sent(1)
            assert "随手拍两步" in reply["text"]
            # Telegram sends it again (it missed our 200): recorded once, answered once.
            assert (await client.post(url, content=body, headers=right)).status_code == 200
            later = {"update_id": 99002, **tu.command(LAOWANG, "/help")}
            assert (await client.post(url, json=later, headers=right)).status_code == 200
            await api.wait_for_sent(2)  # the later one, answered after any second answer
        assert sum("随手拍两步" in s["text"] for s in api.sent) == 2
    finally:
        await bot.stop()
