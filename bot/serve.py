"""`woodpecker run` with chat settings: the composition root. One core per process (one
database, one writer queue, one outbox sender), shared by every configured platform: Telegram
when its token is set, WeChat when a puppet service is, WeCom robots (push only) when keys are.
One scheduler queues reminders, statuses and digests into the same outbox. All stop together on
SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.app import Woodpecker
from bot.settings import Settings
from handlers.ports import ChatPort

log = logging.getLogger(__name__)


class Adapter(Protocol):
    """A chat platform: built with the process's core (it attaches `port` to it), then
    `start()` to receive, `stop()` to finish what it took in."""

    port: ChatPort

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_adapters(settings: Settings, core: Woodpecker) -> list[Adapter]:
    adapters: list[Adapter] = []
    if settings.telegram_bot_token:
        from bot.telegram.runner import TelegramBot

        adapters.append(TelegramBot(settings, core=core))
    if settings.wechat_enabled:
        from bot.wechat.runner import WeChatBot

        adapters.append(WeChatBot(settings, core=core))
    return adapters


def attach_wecom(settings: Settings, core: Woodpecker) -> tuple[list[str], list[Callable]]:
    """WeCom group robots share the outbox (their rows carry platform "wecom")."""
    if not settings.wecom_webhook_keys:
        return [], []
    from bot.wecom import WeComPort, WeComPusher, robot_id

    pusher = WeComPusher(settings.wecom_webhook_keys, settings.wecom_webhook_url)
    core.attach(WeComPort(pusher))
    return [robot_id(k) for k in settings.wecom_webhook_keys], [pusher.aclose]


async def serve(
    settings: Settings,
    core: Woodpecker | None = None,
    adapters: list[Adapter] | None = None,
    stop: asyncio.Event | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or `stop`). Tests give the core and adapters they built."""
    core = core or Woodpecker(settings)
    adapters = build_adapters(settings, core) if adapters is None else adapters
    robots, closers = attach_wecom(settings, core)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    started: list[Adapter] = []
    scheduler = None
    sender: asyncio.Task | None = None
    closing: list[Callable[[], Awaitable]] = list(closers)
    web = None
    try:
        await core.migrate()  # once, for every platform
        from bot.web.server import start_web

        web = await start_web(settings, core.deps)  # the desk, when WEB_PORT is set
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            log.info("%s running", type(adapter).__name__)
        sender = asyncio.create_task(core.sender.run(stop))
        if settings.scheduler_enabled and started:
            from scheduler.service import SchedulerService

            scheduler = SchedulerService(core.deps, settings.sla_sweep_minutes, robots)
            await scheduler.start()
            log.info("scheduler running (%s)", settings.timezone)
        await stop.wait()
    finally:
        if scheduler is not None:
            scheduler.stop()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping %s failed", type(adapter).__name__)
        stop.set()
        if sender is not None:
            with contextlib.suppress(Exception):
                await sender
        if web is not None:
            await web.stop()
        for close in closing:
            await close()
        await core.close()
    return 0
