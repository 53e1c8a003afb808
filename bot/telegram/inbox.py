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

from telegram import Update
from telegram.error import InvalidToken, RetryAfter
from telegram.ext import Application

from bot.inbox import PlatformInbox
from bot.telegram.translate import PLATFORM
from handlers.config import Clock
from storage import inbox
from storage.db import Database

log = logging.getLogger(__name__)


def _arrival(update: Update) -> inbox.Arrival:
    chat = update.effective_chat
    return inbox.Arrival(
        key=str(update.update_id),
        chat=str(chat.id) if chat is not None else None,
        payload=json.dumps(update.to_dict(), ensure_ascii=False),
    )


class TelegramInbox:
    """Records fetched updates, hands them to the Application, marks them done once handled."""

    def __init__(self, app: Application, db: Database, clock: Clock) -> None:
        self.app = app
        self.box = PlatformInbox(db, PLATFORM, clock)

    async def accept(self, updates: Sequence[Update]) -> None:
        """Commit the batch, then hand over what was new. Raises when the commit failed, so the
        caller does not confirm the batch to Telegram."""
        new = await self.box.record([_arrival(u) for u in updates])
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
                await box.accept(updates)
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
