"""`woodpecker run` with chat settings: Telegram when its token is set, WeChat when a puppet
service is, both in one process under one SIGINT/SIGTERM. Each platform keeps its own core and
outbox sender; a sender only claims its own platform's rows, so they share the database safely.
One scheduler per process queues reminders, statuses and digests into that outbox; WeCom
robots (push only) get their own sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal

from bot.settings import Settings

log = logging.getLogger(__name__)


class Extras:
    """The scheduler and the WeCom robots' outbox sender, beside the chat bots."""

    def __init__(self) -> None:
        self.scheduler = None
        self.tasks: list[asyncio.Task] = []
        self.closers: list = []
        self.stopping: asyncio.Event | None = None

    async def start(self, settings: Settings, bots: list, stop: asyncio.Event) -> None:
        self.stopping = stop
        core = bots[0].core
        senders = [b.core.sender for b in bots]
        robots: list[str] = []
        if settings.wecom_webhook_keys:
            from bot.wecom import WeComPort, WeComPusher, robot_id
            from handlers.outbox import OutboxSender

            pusher = WeComPusher(settings.wecom_webhook_keys, settings.wecom_webhook_url)
            sender = OutboxSender(
                core.db, [WeComPort(pusher)], core.deps.clock, quiet=core.sender.quiet
            )
            senders.append(sender)
            robots = [robot_id(k) for k in settings.wecom_webhook_keys]
            self.tasks.append(asyncio.create_task(sender.run(stop)))
            self.closers.append(pusher.aclose)
        if settings.scheduler_enabled:
            from scheduler.service import SchedulerService

            def wake_all() -> None:
                for sender in senders:
                    sender.wake()

            deps = dataclasses.replace(core.deps, wake_outbox=wake_all)
            self.scheduler = SchedulerService(deps, settings.sla_sweep_minutes, robots)
            await self.scheduler.start()
            log.info("scheduler running (%s)", settings.timezone)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.stopping is not None:
            self.stopping.set()
        for task in self.tasks:
            with contextlib.suppress(Exception):
                await task
        for close in self.closers:
            await close()


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
    started, extras = [], Extras()
    try:
        for bot in bots:  # one after the other: each runs the migrations first
            await bot.start()
            started.append(bot)
            log.info("%s running", type(bot).__name__)
        if started:
            await extras.start(settings, started, stop)
        await stop.wait()
    finally:
        await extras.stop()
        for bot in reversed(started):
            try:
                await bot.stop()
            except Exception:
                log.exception("stopping %s failed", type(bot).__name__)
    return 0
