"""Which people may have a live draft: lets a chat line skip the database when it certainly can't
matter. An accelerator only: the drafts table stays the truth, and the answer is as fresh as a
database read made when the line arrived.

A key (platform, chat id, user id) maps to the latest expiry this process knows of for that
person's draft in that chat. Keys are added *before* a transaction that may write the draft
commits (`note`), so "absent" never lags a write of this process. Writes by anyone else (a second
instance, this process's `Database.write()`, the command line) are caught by SQLite's
`PRAGMA data_version` on the database thread's one connection: it changes exactly when another
connection committed, and then the live drafts are read again. That check runs at most once per
batch of lines (every line waits for a check that *started after it arrived*), so a burst of
chatter costs one trip to the database thread, not one per line.

Where this cannot be known (PostgreSQL, an in-memory SQLite), `absent` always says "don't know"
and every line asks the database, as before. Entries only ever make the answer "maybe"; they are
dropped when they expire.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import Chat, Draft, Member

Key = tuple[str, str, str]  # (platform, chat id, user id)
SLACK = timedelta(hours=1)


class DraftHints:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._live: dict[Key, datetime] = {}
        self._version: int | None = None  # data_version when the drafts were last read
        self._fresh_since = -math.inf  # when (monotonic) the last good check started
        self._next: asyncio.Future[bool] | None = None  # the check the next arrivals wait for
        self._next_now: datetime | None = None  # its first waiter's "now"
        self._runner: asyncio.Task | None = None
        self.checks = self.rescans = 0  # for the bench and tests

    def note(self, key: Key, until: datetime) -> None:
        """A transaction that may leave this person's draft live until `until` is about to run."""
        if self._live.get(key, until) <= until:
            self._live[key] = until

    async def absent(
        self, key: Key, clock: Callable[[], datetime], arrived: float | None = None
    ) -> bool:
        """True only when this person certainly has no live draft in this chat right now.

        `clock` gives the core's "now" (asked only when needed: most lines need no time).
        `arrived`: when (time.monotonic()) the adapter received the line, if it says. A check of
        other writers that started after that is as good as a database read made on arrival;
        without it, "arrival" is now, which can be later (behind a chat's queue)."""
        if not self.db.threaded:
            return False
        arrived = arrived or time.monotonic()
        while self._fresh_since < arrived:  # no check has started since the line arrived
            if not await self._next_check(clock):
                return False
        until = self._live.get(key)
        return until is None or until <= clock()

    async def _next_check(self, clock: Callable[[], datetime]) -> bool:
        """Wait for the next check of other writers to *start* and finish; whether it worked."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            self._next_now = clock()  # the first waiter's: the floor of what the scan reads
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run_checks())
        future = self._next
        try:
            return await future  # shared by every waiter, not shielded (a shield per line costs)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this line was cancelled
            return False  # another waiter's cancellation took the shared future: ask the database

    async def _run_checks(self) -> None:
        while self._next is not None:
            waiting, now, self._next = self._next, self._next_now, None
            started = time.monotonic()
            try:
                await self._check(now)
                self._fresh_since, ok = started, True
            except Exception:  # the database is unwell: nobody skips it
                ok = False
            if not waiting.done():  # (cancelled when a waiter was)
                waiting.set_result(ok)

    async def _check(self, now: datetime) -> None:
        self.checks += 1
        # The version first: a commit after it shows up as a changed version next time.
        version = await self.db.data_version()
        if version == self._version:
            return
        # Drafts that expired an hour before the earliest waiter's "now" can never matter (a clock
        # stepping back further than that is not expected); the rest are read.
        floor = now - SLACK

        async def read(s: AsyncSession) -> list[tuple[Key, datetime]]:
            rows = await s.execute(
                select(Chat.platform, Chat.chat_id, Member.user_id, Draft.expires_at)
                .join(Chat, Chat.id == Draft.chat_pk)
                .join(Member, Member.id == Draft.member_pk)
                .where(Draft.expires_at > floor)
            )
            return [((p, c, u), until) for p, c, u, until in rows]

        found = await self.db.run(read, write=False)
        self.rescans += 1
        for key, until in found:
            self.note(key, until)
        self._version = version
        if len(self._live) > 4096:
            for key in [k for k, until in self._live.items() if until <= floor]:
                del self._live[key]


def draft_hints(db: Database) -> DraftHints:
    """The one `DraftHints` of this database object (made on first use)."""
    if db.draft_hints is None:
        db.draft_hints = DraftHints(db)
    return db.draft_hints
