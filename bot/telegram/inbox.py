"""Telegram updates are committed to the inbox before Telegram hears they were received.

PTB's own Updater puts a fetched batch in memory and asks for the next offset at once, which
confirms the batch: a kill then loses every update fetched but not yet handled. Here the batch
is written to the `inbox` table in one transaction first; only then is the next offset asked
for (polling) or 200 answered (webhook, bot/telegram/webhook.py). Each update is then handed to
`Application.process_update` through the per-chat processor; once handled, its row is marked
done (in a batch right after: every use case skips a platform message it already processed, so
handling one twice changes nothing). At start, rows never marked done are handed over again,
in their order, before anything new.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, RetryAfter
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.inbox import PlatformInbox
from bot.telegram.translate import PLATFORM
from handlers.config import Clock
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)


class RawUpdatesRequest(HTTPXRequest):
    """The getUpdates request, keeping the last response's bytes: the inbox stores each update
    as Telegram sent it, instead of re-serialising PTB's objects (`to_dict`, ~75 µs an update,
    was a third of the time a chatter line cost)."""

    def __init__(self) -> None:
        super().__init__(connection_pool_size=1)  # what PTB's builder gives getUpdates
        self.last_body = b""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, body = await super().do_request(*args, **kwargs)
        self.last_body = body
        return status, body

    def payloads(self, updates: Sequence[Update]) -> list[str] | None:
        """The raw JSON of `updates`, just fetched, or None when the body does not match."""
        try:
            result = json.loads(self.last_body)["result"]
        except (ValueError, KeyError, TypeError):
            return None
        if len(result) != len(updates) or any(
            r.get("update_id") != u.update_id for r, u in zip(result, updates, strict=True)
        ):
            return None
        return [json.dumps(r, ensure_ascii=False) for r in result]


def _arrival(update: Update, payload: str | None) -> inbox.Arrival:
    chat = update.effective_chat
    return inbox.Arrival(
        key=str(update.update_id),
        chat=str(chat.id) if chat is not None else None,
        payload=payload or json.dumps(update.to_dict(), ensure_ascii=False),
    )


class TelegramInbox:
    """Records fetched updates, hands them to the Application, marks them done once handled."""

    def __init__(self, app: Application, db: Database, clock: Clock) -> None:
        self.app = app
        self.box = PlatformInbox(db, PLATFORM, clock)

    async def accept(
        self, updates: Sequence[Update], payloads: Sequence[str] | None = None
    ) -> None:
        """Commit the batch (`payloads`: the updates' JSON as received, when at hand), then hand
        over what was new. Raises when the commit failed, so the caller does not confirm the
        batch to Telegram."""
        raw = payloads or [None] * len(updates)
        new = await self.box.record([_arrival(u, p) for u, p in zip(updates, raw, strict=True)])
        for update in updates:
            if str(update.update_id) in new:  # the rest: redelivered, its first row is in hand
                await self.app.update_queue.put(update)

    def done(self, update: object) -> None:
        """Called by the per-chat processor once `update` was handled."""
        update_id = getattr(update, "update_id", None)
        if update_id is not None:
            self.box.done(str(update_id))

    async def start(self) -> None:
        """Hand over what the last process recorded but never finished, then start marking."""
        resumed = 0
        async for row in self.box.pending():
            try:
                update = Update.de_json(json.loads(row.payload), self.app.bot)
            except Exception:
                log.exception("inbox row %s cannot be read back; dropped", row.id)
                self.box.done(row.update_key)
                continue
            await self.app.update_queue.put(update)
            resumed += 1
        if resumed:
            log.info("resuming %d update(s) received but not handled before the restart", resumed)
        self.box.start()

    async def stop(self) -> None:
        await self.box.stop()


async def poll(
    box: TelegramInbox,
    stop: asyncio.Event,
    allowed_updates: list[str],
    long_poll: int = 10,
    raw: RawUpdatesRequest | None = None,
) -> None:
    """Long polling that confirms a batch (the next offset) only after the inbox holds it."""
    bot = box.app.bot
    await bot.delete_webhook()
    offset: int | None = None
    delay = 1.0
    while not stop.is_set():
        try:
            updates = await bot.get_updates(
                offset=offset, timeout=long_poll, allowed_updates=allowed_updates
            )
            if updates:
                await box.accept(updates, raw.payloads(updates) if raw is not None else None)
                offset = updates[-1].update_id + 1
            delay = 1.0
        except asyncio.CancelledError:
            raise
        except InvalidToken:
            log.error("Telegram refused the bot token; polling stops")
            raise
        except RetryAfter as e:
            await _pause(stop, _seconds(e.retry_after))
        except Exception as e:
            # Nothing confirmed: what was fetched comes again with the same offset.
            log.warning("polling for updates failed (%s); again in %.0f s", e, delay)
            await _pause(stop, delay)
            delay = min(delay * 2, 30.0)
    if offset is not None:  # confirm the last batch, so a restart is not handed it again
        with contextlib.suppress(Exception):
            await bot.get_updates(offset=offset, timeout=0, allowed_updates=allowed_updates)


def _seconds(value: object) -> float:
    """A timedelta (PTB_TIMEDELTA, bot/telegram/__init__.py), or PTB's older plain number."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
