"""`woodpecker run` with chat settings: Telegram when its token is set, WeChat when a puppet
service is, both in one process under one SIGINT/SIGTERM. Each platform keeps its own core and
outbox sender; a sender only claims its own platform's rows, so they share the database safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> int:
    bots = []
    if settings.telegram_bot_token:
        from bot.telegram.runner import TelegramBot

        bots.append(TelegramBot(settings))
    if settings.wechat_enabled:
        from bot.wechat.runner import WeChatBot

        bots.append(WeChatBot(settings))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    started = []
    try:
        for bot in bots:  # one after the other: each runs the migrations first
            await bot.start()
            started.append(bot)
            log.info("%s running", type(bot).__name__)
        await stop.wait()
    finally:
        for bot in reversed(started):
            try:
                await bot.stop()
            except Exception:
                log.exception("stopping %s failed", type(bot).__name__)
    return 0
