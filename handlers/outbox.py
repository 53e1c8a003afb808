"""Drains the outbox through the chat ports: in order within a chat, chats in parallel."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from handlers.config import Clock, utc_now
from handlers.ports import ChatPort, PermanentSendError
from handlers.types import Attachment, Button, Outgoing
from storage import repository as repo
from storage.db import Database
from storage.models import Outbox

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# An edit of a ticket's card, whose message id may not be known when the edit is queued.
CARD = "card"
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** (attempts + 1)))


def queue(
    session,
    message: Outgoing,
    now: datetime,
    card_of_ticket: int | None = None,
    push: bool = False,
    not_before: datetime | None = None,
) -> Outbox:
    """Queue a message in the caller's transaction; `push`: the bot speaks unasked (quiet hours
    hold it), not a reply; `not_before`: not sent until then (a later transaction may still
    delete the row). `to_outgoing` reads the row back for the sender."""
    file = message.attachment
    row = Outbox(
        platform=message.platform,
        chat_id=message.chat_id,
        text=message.text,
        reply_to=message.reply_to,
        mention_ids=json.dumps(message.mention_user_ids),
        buttons=json.dumps([[b.label, b.data] for b in message.buttons], ensure_ascii=False),
        edit_message_id=message.edit_message_id,
        card_of_ticket=card_of_ticket,
        created_at=now,
        not_before=not_before or now,
        push=push,
        file_kind=file.kind if file else None,
        file_name=file.filename if file else None,
        file_data=file.data if file else None,
    )
    session.add(row)
    return row


def to_outgoing(row: Outbox) -> Outgoing:
    return Outgoing(
        platform=row.platform,
        chat_id=row.chat_id,
        text=row.text,
        reply_to=row.reply_to,
        mention_user_ids=json.loads(row.mention_ids),
        buttons=[Button(label, data) for label, data in json.loads(row.buttons)],
        edit_message_id=row.edit_message_id,
        attachment=Attachment(row.file_kind, row.file_name or "file", row.file_data)
        if row.file_kind and row.file_data is not None
        else None,
    )


async def _mark_all(s, batch: list[tuple]) -> None:
    for outbox_id, message_id, sent_at, card_of_ticket, _ in batch:
        await repo.mark_sent(s, outbox_id, message_id, sent_at, card_of_ticket)


# Given now, when the quiet hours end (None: not quiet now). See handlers/periods.quiet_until.
QuietHours = Callable[[datetime], datetime | None]


class OutboxSender:
    """One per process. Rows are claimed with a lease, so a second instance never sends twice."""

    def __init__(
        self,
        db: Database,
        ports: list[ChatPort],
        clock: Clock = utc_now,
        poll: float = 2.0,
        quiet: QuietHours | None = None,
    ):
        self.db, self.clock, self.poll, self.quiet = db, clock, poll, quiet
        self.ports = {p.platform: p for p in ports}
        self._wake = asyncio.Event()
        self._chats: dict[tuple[str, str], asyncio.Queue[Outbox]] = {}
        self._workers: set[asyncio.Task] = set()
        self._marks: list[tuple[int, str, datetime, int | None, asyncio.Future]] = []
        self._marker: asyncio.Task | None = None
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        """Claim what is due and hand it to the chats' workers; return how many rows."""
        now = self.clock()

        async def claim(s) -> list[Outbox]:  # one trip to the database (storage/db.py `run`)
            rows = await repo.claim_outbox(s, set(self.ports), now, now + LEASE)
            # Scheduled pushes wait out the quiet hours; replies to someone never do.
            until = self.quiet(now) if self.quiet else None
            if until is not None and any(r.push for r in rows):
                for row in rows:
                    if row.push:
                        row.not_before, row.claimed_until = until, None
                rows = [r for r in rows if not r.push]
            return rows

        rows = await self.db.run(claim)
        for row in rows:
            key = (row.platform, row.chat_id)
            queue = self._chats.get(key)
            if queue is None:
                queue = self._chats[key] = asyncio.Queue()
                task = asyncio.create_task(self._chat_worker(key, queue))
                self._workers.add(task)
                task.add_done_callback(self._workers.discard)
            queue.put_nowait(row)
        return len(rows)

    async def _chat_worker(self, key: tuple[str, str], queue: asyncio.Queue[Outbox]) -> None:
        try:
            while not queue.empty():
                await self._send(queue.get_nowait())
        finally:
            del self._chats[key]
            if not queue.empty():  # rows that arrived as we left: their lease runs out, then resent
                self.wake()

    async def _send(self, row: Outbox) -> None:
        port = self.ports[row.platform]
        message = to_outgoing(row)
        if message.edit_message_id == CARD:
            async with self.db.read() as s:
                message.edit_message_id = await repo.card_message_id(s, row.card_of_ticket)
        try:
            message_id = await port.send(message)
        except PermanentSendError as e:
            log.warning("outbox %s dropped: %s", row.id, e)
            async with self.db.write() as s:
                await repo.mark_failed(s, row.id, str(e), None)
            return
        except Exception as e:
            attempts = row.attempts + 1
            retry = self.clock() + backoff(attempts) if attempts < MAX_ATTEMPTS else None
            log.warning("outbox %s failed (attempt %d): %r", row.id, attempts, e)
            async with self.db.write() as s:
                await repo.mark_failed(s, row.id, repr(e), retry)
            return
        await self._mark_sent(row, message_id, self.clock())
        self.sent += 1

    async def _mark_sent(self, row: Outbox, message_id: str, sent_at: datetime) -> None:
        """Record a send (before the chat's next message: a card's id must be known to edit it).
        Sends that finish while a record is being written share the next transaction: under load
        one trip to the database for a burst of messages, not one each."""
        done = asyncio.get_running_loop().create_future()
        self._marks.append((row.id, message_id, sent_at, row.card_of_ticket, done))
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks())
        await done

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                await self.db.run(functools.partial(_mark_all, batch=batch))
                error = None
            except Exception as e:  # each waiting send raises it, as its own write would have
                error = e
            for *_, done in batch:
                if not done.done():
                    done.set_exception(error) if error else done.set_result(None)

    async def idle(self) -> None:
        """Wait until every claimed row has been sent or rescheduled (tests, shutdown)."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain on every wake-up, and every `poll` seconds for rows other instances left."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.drain_once()
            except Exception:
                log.exception("outbox drain failed")
            waiter = asyncio.create_task(self._wake.wait())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait(
                {waiter, stopper}, timeout=self.poll, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (waiter, stopper):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.idle()
