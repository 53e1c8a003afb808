"""One platform's share of the inbox table: record arrivals, read back the unhandled, mark done.

Marks are written in batches a moment after handling (a transaction per update would cost as
much as the update): a mark lost in a kill only means the update is handled again at start,
and every use case skips a platform message it already processed (`ProcessedMessage`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from handlers.config import Clock
from storage import inbox
from storage.db import Database
from storage.models import Inbox

log = logging.getLogger(__name__)

MARK_EVERY = 0.2  # seconds between two batches of "done" marks
KEEP_DONE = timedelta(days=2)  # Telegram redelivers for 24 h; a handled row is useless after
PRUNE_EVERY = 3600.0


class PlatformInbox:
    def __init__(self, db: Database, platform: str, clock: Clock) -> None:
        self.db, self.platform, self.clock = db, platform, clock
        self._done: list[str] = []
        self._marker: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    async def record(self, arrivals: list[inbox.Arrival]) -> set[str]:
        """Commit the arrivals; the keys not seen before (the others are redeliveries)."""
        now = self.clock()
        return await self.db.run(lambda s: inbox.record(s, self.platform, arrivals, now))

    async def pending(self) -> AsyncIterator[Inbox]:
        """Every unhandled row, oldest first, read a page at a time."""
        after = 0
        while True:
            page = await self.db.run(
                lambda s, after=after: inbox.pending(s, self.platform, after), write=False
            )
            for row in page:
                yield row
            if not page:
                return
            after = page[-1].id

    def done(self, key: str) -> None:
        self._done.append(key)

    def start(self) -> None:
        self._marker = asyncio.create_task(self._mark_loop())

    async def flush(self) -> None:
        keys, self._done = self._done, []
        if keys:
            now = self.clock()
            try:
                await self.db.run(lambda s: inbox.mark_done(s, self.platform, keys, now))
            except Exception:
                self._done[:0] = keys  # again with the next batch
                raise

    async def _prune(self) -> None:
        before = self.clock() - KEEP_DONE
        await self.db.run(lambda s: inbox.prune(s, self.platform, before))

    async def _mark_loop(self) -> None:
        since_prune = PRUNE_EVERY
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), MARK_EVERY)
            try:
                await self.flush()
                since_prune += MARK_EVERY
                if since_prune >= PRUNE_EVERY:
                    since_prune = 0.0
                    await self._prune()
            except Exception:
                log.exception("marking handled %s updates failed; will retry", self.platform)

    async def stop(self) -> None:
        """The last marks, once everything handed over was handled."""
        self._stopping.set()
        if self._marker is not None:
            await self._marker
        await self.flush()
