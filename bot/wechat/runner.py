"""The WeChat bot: a wechaty puppet feeding the core room by room, the outbox saying the replies.

Messages are taken straight from the puppet's event stream rather than through wechaty's own
event bridge: the bridge loads every message concurrently and hands it on in whatever order the
loads finish (a photo can overtake the words about it), drops ids through a process-wide set,
and starts wechaty's plugin web server on login. Here loads still run concurrently, but each
room's messages reach the core one at a time, in the order WeChat delivered them; rooms run in
parallel (as `PerChatProcessor` does for Telegram).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import Woodpecker
from bot.chatqueue import ChatQueues
from bot.inbox import PlatformInbox
from bot.settings import Settings
from bot.wechat.port import WeChatPort
from bot.wechat.sdk import (
    EventMessagePayload,
    Puppet,
    PuppetOptions,
    Wechaty,
    WechatyOptions,
    qr_terminal,
)
from bot.wechat.translate import PLATFORM, to_incoming
from handlers.config import utc_now
from handlers.types import Incoming
from storage import inbox

log = logging.getLogger(__name__)

MAX_CONCURRENT_LOADS = 16


class WeChatBot:
    """Owns the wechaty instance and the core; `start()` / `stop()` so tests and `run` share it.

    Give `puppet` to drive the bot with a puppet you control (the tests' fake): `start()` then
    binds to it but does not start it. Without one, the puppet service from the settings is
    started and restarted in the background.
    """

    def __init__(
        self,
        settings: Settings,
        clock=None,
        puppet: Puppet | None = None,
        core: Woodpecker | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or utc_now
        self._own_puppet = puppet is None
        options = WechatyOptions(
            puppet=puppet if puppet is not None else "wechaty-puppet-service",
            puppet_options=PuppetOptions(
                token=settings.wechaty_puppet_service_token,
                end_point=settings.wechaty_puppet_service_endpoint,
            ),
            scheduler=AsyncIOScheduler(),  # wechaty's default keeps a job database on disk
        )
        self.wechaty = Wechaty(options)
        self.port = WeChatPort(self.wechaty)
        # Without a shared core (bot/serve.py gives one) the bot makes and runs its own.
        self._owns_core = core is None
        if core is None:
            core = Woodpecker(settings, **({"clock": clock} if clock else {}))
        self.core = core
        core.attach(self.port)
        self.inbox = PlatformInbox(self.core.db, PLATFORM, self.clock)
        self._stop = asyncio.Event()
        self._arrivals: asyncio.Queue[asyncio.Future] = asyncio.Queue()
        self._loads = asyncio.Semaphore(MAX_CONCURRENT_LOADS)
        self._rooms: ChatQueues[Incoming] = ChatQueues(self._handle_one)
        self._tasks: list[asyncio.Task] = []
        self._pending = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._self_name: str | None = None
        self.handled = 0

    # Events from the puppet.
    def _on_message(self, payload: EventMessagePayload) -> None:
        """Called synchronously in the order the puppet delivers: that order is kept per room."""
        self._pending += 1
        self._quiet.clear()
        self._arrivals.put_nowait(asyncio.ensure_future(self._arrive(payload.message_id)))

    async def _arrive(self, message_id: str) -> Incoming | None:
        """Record the arrival in the inbox first (the puppet will not deliver it again), then
        load it. One already recorded is a second delivery: skipped."""
        arrival = inbox.Arrival(message_id[:64], None, json.dumps({"message_id": message_id}))
        if not await self.inbox.record([arrival]):
            return None
        incoming = await self._load(message_id)
        if incoming is None:
            self.inbox.done(message_id[:64])  # not for us: nothing to resume
        return incoming

    async def _resume(self, message_id: str) -> Incoming | None:
        """A message recorded before a restart but never handled: load it again, if the puppet
        still has it (it may not: then it is gone, and said so in the log)."""
        try:
            incoming = await self._load(message_id)
        except Exception:
            log.warning("WeChat message %s from before the restart is gone; dropped", message_id)
            incoming = None
        if incoming is None:
            self.inbox.done(message_id[:64])
        return incoming

    def _on_scan(self, payload) -> None:
        qrcode = getattr(payload, "qrcode", None)
        if qrcode:
            log.warning("scan to log in: https://wechaty.js.org/qrcode/%s", qrcode)
            with contextlib.suppress(Exception):
                qr_terminal(qrcode)

    def _on_login(self, payload) -> None:
        log.info("WeChat account %s logged in", getattr(payload, "contact_id", "?"))

    def _on_logout(self, payload) -> None:
        log.warning("WeChat account %s logged out", getattr(payload, "contact_id", "?"))

    def _on_error(self, payload) -> None:
        if payload:
            log.error("puppet error: %s", getattr(payload, "data", payload))

    async def _load(self, message_id: str) -> Incoming | None:
        async with self._loads:
            msg = self.wechaty.Message.load(message_id)
            await msg.ready()
            puppet = self.wechaty.puppet
            self_id = puppet.self_id()
            if self._self_name is None and self_id:
                with contextlib.suppress(Exception):
                    me = self.wechaty.Contact.load(self_id)
                    await me.ready()
                    self._self_name = me.name or None
            return await to_incoming(msg, self_id, self._self_name, self.clock)

    # Ordered, per-room processing.
    def _finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self._quiet.set()

    async def _dispatch(self) -> None:
        while True:
            load = await self._arrivals.get()
            try:
                incoming = await load
            except Exception:
                log.exception("could not read a WeChat message")
                incoming = None
            if incoming is None:
                self._finished()
                continue
            incoming.arrived = time.monotonic()
            self._rooms.put(incoming.chat_id, incoming)

    async def _handle_one(self, incoming: Incoming) -> None:
        try:
            await self.core.handle(incoming)
            self.handled += 1
        except Exception:
            log.exception("message %s in %s failed", incoming.message_id, incoming.chat_id)
        finally:
            self.inbox.done(incoming.message_id[:64])
            self._finished()

    async def settle(self) -> None:
        """Wait until every message delivered so far is handled and what it owed is sent."""
        while True:
            await self._quiet.wait()
            await self.core.flush()
            if self._quiet.is_set():  # nothing arrived meanwhile (e.g. our own words echoed)
                return

    async def _run_puppet(self) -> None:
        """Keep the puppet service connected; its `start()` returns when the stream ends."""
        delay = 5.0
        while not self._stop.is_set():
            try:
                await self.wechaty.puppet.start()
                log.warning("the puppet service closed its event stream; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("puppet service failed; retrying in %.0f s", delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)
            delay = min(delay * 2, 300.0)

    async def start(self) -> None:
        if self._owns_core:
            await self.core.migrate()
        await self.wechaty.init_puppet()  # binds Message, Room, Contact… to this puppet
        # wechaty caches Room and Contact objects in one class-wide pool shared by every
        # instance's bound subclasses: give this bot its own, or it gets another bot's objects.
        for cls in (self.wechaty.Room, self.wechaty.Contact, self.wechaty.ContactSelf):
            cls._pool = {}
        puppet = self.wechaty.puppet
        puppet.on("message", self._on_message)
        puppet.on("scan", self._on_scan)
        puppet.on("login", self._on_login)
        puppet.on("logout", self._on_logout)
        puppet.on("error", self._on_error)
        async for row in self.inbox.pending():  # before anything new, in their order
            self._pending += 1
            self._quiet.clear()
            self._arrivals.put_nowait(asyncio.ensure_future(self._resume(row.update_key)))
        self.inbox.start()
        self._tasks.append(asyncio.create_task(self._dispatch()))
        sender = self.core.sender.run(self._stop) if self._owns_core else self._stop.wait()
        self._tasks.append(asyncio.create_task(sender))
        if self._own_puppet:
            self._tasks.append(asyncio.create_task(self._run_puppet()))

    async def stop(self) -> None:
        self._stop.set()
        dispatcher, sender, *rest = self._tasks or [None, None]
        for task in (dispatcher, *rest):
            if task is not None:
                task.cancel()
        await self._rooms.idle()
        if sender is not None:
            await sender
        await self.inbox.stop()
        for task in (dispatcher, *rest):
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._own_puppet:
            with contextlib.suppress(Exception):
                await self.wechaty.puppet.stop()
        if self._owns_core:
            await self.core.close()
