"""The Telegram bot: a python-telegram-bot Application feeding the core, the outbox sending back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import replace
from typing import Any

import httpx
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.app import Woodpecker
from bot.chatqueue import ChatQueues
from bot.settings import Settings
from bot.telegram.inbox import RawUpdatesRequest, TelegramInbox, poll
from bot.telegram.port import TelegramPort
from bot.telegram.translate import PLATFORM, button_to_incoming, to_incoming
from bot.telegram.webhook import WebhookServer
from handlers.chats import migrate_chat
from handlers.i18n import t

log = logging.getLogger(__name__)

# What a rider finds behind the "/" button; the secretary's commands are on the cards.
MENU = ("report", "points", "rank", "rewards", "tickets", "nearby", "help", "start")
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


# When (time.monotonic()) the update being handled arrived: set by the chat's worker, read when
# the update becomes an `Incoming` (its `arrived`), inside this adapter only.
_ARRIVED: ContextVar[float | None] = ContextVar("telegram_arrived", default=None)


class PerChatProcessor(BaseUpdateProcessor):
    """PTB's updates into the shared per-chat queues (bot/chatqueue.py): PTB hands each update
    over at once (max_concurrent_updates=1, so it creates no task of its own). Each handled
    update is marked done in the inbox (`on_done`)."""

    def __init__(self, max_chats: int = 256) -> None:
        super().__init__(1)
        self._chats: ChatQueues[tuple[float, object, Awaitable[Any]]] = ChatQueues(
            self._run, max_chats, discard=lambda item: item[2].close()
        )
        self.on_done: Callable[[object], None] = lambda _update: None  # the inbox's mark

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = getattr(update, "effective_chat", None)
        key = chat.id if chat is not None else None
        self._chats.put(key, (time.monotonic(), update, coroutine))

    async def _run(self, item: tuple[float, object, Awaitable[Any]]) -> None:
        arrived, update, coroutine = item
        _ARRIVED.set(arrived)
        try:
            await coroutine  # Application.process_update: errors go to its handlers
        except Exception:
            log.exception("update %s failed", getattr(update, "update_id", "?"))
        # Done even when it failed: handled again it would fail again.
        self.on_done(update)

    async def idle(self) -> None:
        """Until every handed-over update has been handled (stop, tests)."""
        await self._chats.idle()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        await self.idle()


CONNECTIONS = 32


class BoundedRequest(HTTPXRequest):
    """At most as many requests in flight as the pool has connections, the rest wait here.

    httpx's pool matches waiting requests to connections in a loop over both on every request
    and response; with hundreds of updates each fetching a photo that loop took a quarter of the
    event loop's time (bench/intake.py, py-spy). A semaphore here keeps httpx's queue empty.
    """

    def __init__(self, connections: int) -> None:
        super().__init__(connection_pool_size=connections)
        self._slots = asyncio.Semaphore(connections)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        async with self._slots:
            return await super().do_request(*args, **kwargs)


def build_application(
    settings: Settings, updates_request: RawUpdatesRequest | None = None
) -> Application:
    builder = (
        Application.builder()
        .token(settings.telegram_bot_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_file_url)
        .concurrent_updates(PerChatProcessor())
        .request(BoundedRequest(CONNECTIONS))
        .get_updates_request(updates_request or RawUpdatesRequest())
        .updater(None)  # our own polling and webhook commit to the inbox first (inbox.py)
    )
    if settings.telegram_rate_limit:
        # Telegram's own caps: ~30 messages/s overall, 20/min into one group; wait out 429s.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
    return builder.build()


class TelegramBot:
    """The Telegram adapter: the Application feeding the core, `port` sending for it.

    Give `core` to share the process's one core (bot/serve.py does, and runs its migrations and
    outbox sender); without one the bot makes and runs its own (tests, a single platform)."""

    def __init__(self, settings: Settings, clock=None, core: Woodpecker | None = None) -> None:
        self.settings = settings
        self.updates_request = RawUpdatesRequest()
        self.app = build_application(settings, self.updates_request)
        self.port = TelegramPort(self.app.bot, on_migrated=self._migrated)
        self._owns_core = core is None
        if core is None:
            core = Woodpecker(settings, **({"clock": clock} if clock else {}))
        self.core = core
        core.attach(self.port)
        self._stop = asyncio.Event()  # the outbox sender's, once everything handed over is handled
        self._halt = asyncio.Event()  # the poller's
        self._sender: asyncio.Task | None = None
        self._poller: asyncio.Task | None = None
        self._webhook: WebhookServer | None = None
        self.inbox = TelegramInbox(self.app, self.core.db, self.core.deps.clock)
        if isinstance(self.app.update_processor, PerChatProcessor):
            self.app.update_processor.on_done = self.inbox.done
        # Photos are streamed and abandoned past the 20 MB cap (translate.download_capped).
        self.downloads = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=16))
        self.app.add_handler(
            MessageHandler(
                filters.UpdateType.MESSAGE & filters.StatusUpdate.MIGRATE, self._on_migrate
            )
        )
        # Edits (live-location moves, corrected captions) are not new reports.
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.app.add_handler(CallbackQueryHandler(self._on_button, pattern=r"^wp:"))
        self.app.add_error_handler(self._on_error)

    async def _migrated(self, old_id: str, new_id: str) -> None:
        if await migrate_chat(self.core.deps, PLATFORM, old_id, new_id):
            log.info("chat %s became supergroup %s", old_id, new_id)

    async def _on_migrate(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """A group upgraded to a supergroup: its tickets follow it to the new id."""
        message = update.message
        if message.migrate_to_chat_id:
            await self._migrated(str(message.chat.id), str(message.migrate_to_chat_id))
        elif message.migrate_from_chat_id:
            await self._migrated(str(message.migrate_from_chat_id), str(message.chat.id))

    async def _on_message(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """Anything a rider posts: the core decides whether it is a report, a command or chatter."""
        me = self.app.bot
        msg = to_incoming(update.message, me, me.username, me.id, self.downloads)
        if msg is None:
            return
        msg.arrived = _ARRIVED.get()
        if msg.is_group and not msg.sender.is_chat_admin and self._asks_admin(msg):
            member = await me.get_chat_member(update.message.chat.id, update.message.from_user.id)
            if member.status in ("administrator", "creator"):
                msg.sender = replace(msg.sender, is_chat_admin=True)
        await self.core.handle(msg)

    def _asks_admin(self, msg) -> bool:
        """Commands whose answer depends on being a group admin (one getChatMember call)."""
        if msg.command == "secretary":
            return True
        return msg.command in ("help", "start") and self.core.privacy_warning

    async def _on_button(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        """A secretary's button under a ticket: the ticket moves, the presser sees a short toast."""
        query = update.callback_query
        answer: str | None = t("button.failed", self.settings.locale)
        try:
            msg = button_to_incoming(query)
            answer = await self.core.handle_button(msg) if msg else None
        finally:
            # Answered whatever happened: an unanswered button spins on the presser's phone.
            await query.answer(answer or None)

    async def _on_error(self, update: object, ctx: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=ctx.error)

    async def _set_commands(self) -> None:
        for locale, language in (("zh_CN", None), ("en", "en")):
            commands = [BotCommand(c, t(f"command.{c}", locale)) for c in MENU]
            await self.app.bot.set_my_commands(commands, language_code=language)

    async def start(self) -> None:
        if self._owns_core:
            await self.core.migrate()
        await self.app.initialize()
        me = self.app.bot.bot
        if me.can_read_all_group_messages is False:
            self.core.privacy_warning = True
            log.warning(
                "privacy mode is on: in groups @%s sees only commands and replies, not photos or "
                "locations. Make it a group admin, or BotFather /setprivacy → Disable, re-add it.",
                me.username,
            )
        await self._set_commands()
        await self.app.start()
        await self.inbox.start()  # what the last process recorded but did not finish, first
        s = self.settings
        if s.telegram_webhook_url:
            self._webhook = WebhookServer(
                self.inbox, s.telegram_bot_token.split(":")[0], s.telegram_webhook_secret
            )
            self._webhook.listen(s.telegram_webhook_port, s.telegram_webhook_listen)
            await self.app.bot.set_webhook(
                s.telegram_webhook_url,
                allowed_updates=ALLOWED_UPDATES,
                secret_token=s.telegram_webhook_secret,
            )
        else:
            self._poller = asyncio.create_task(
                poll(self.inbox, self._halt, ALLOWED_UPDATES, raw=self.updates_request)
            )
        if self._owns_core:
            self._sender = asyncio.create_task(self.core.sender.run(self._stop))

    async def stop(self) -> None:
        self._halt.set()
        if self._webhook is not None:
            await self._webhook.stop()
        if self._poller is not None:
            self._poller.cancel()  # a long poll in flight: what it fetched is not confirmed
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        if self.app.running:
            await self.app.stop()
        if isinstance(self.app.update_processor, PerChatProcessor):
            await self.app.update_processor.idle()  # updates already handed over finish first
        await self.inbox.stop()
        self._stop.set()
        if self._sender:
            await self._sender
        await self.app.shutdown()
        await self.downloads.aclose()
        if self._owns_core:
            await self.core.close()
