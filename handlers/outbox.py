"""Drains the outbox through the chat ports: in order within a chat, chats in parallel."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from handlers.config import Clock, utc_now
from handlers.ports import ChatPort, PermanentSendError
from handlers.types import Attachment, Button, Outgoing
from storage import leases
from storage import repository as repo
from storage.db import Database
from storage.media import MediaStore
from storage.models import Outbox

log = logging.getLogger(__name__)

# A claimed row is this process's for LEASE, renewed every RENEW while it is still being sent
# (a chat's queue can wait long behind the rate limiter). Short, so that a row whose sender died
# goes to another instance soon; and at start, rows of a sender known to be gone are freed at
# once (storage/leases.py). What remains is at-least-once: the Bot API has no idempotency key,
# so a message delivered just before a crash, not yet marked sent, is sent again.
LEASE = timedelta(seconds=30)
RENEW = timedelta(seconds=10)
# An edit of a ticket's card, whose message id may not be known when the edit is queued.
CARD = "card"
MAX_ATTEMPTS = 8
# An outbox file named so is a stored photo, read from the media store when it is sent.
MEDIA = "media:"


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
        file_name=(MEDIA + file.media_path if file.media_path else file.filename) if file else None,
        file_data=file.data if file and not file.media_path else None,
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
        attachment=_attachment(row),
    )


def _attachment(row: Outbox) -> Attachment | None:
    if not row.file_kind:
        return None
    name = row.file_name or "file"
    if name.startswith(MEDIA):
        path = name[len(MEDIA) :]
        return Attachment(row.file_kind, path.rsplit("/", 1)[-1], b"", media_path=path)
    return Attachment(row.file_kind, name, row.file_data) if row.file_data is not None else None


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
        media: MediaStore | None = None,
    ):
        self.db, self.clock, self.poll, self.quiet = db, clock, poll, quiet
        self.media = media  # where stored photos sent by path are read from
        self.ports = {p.platform: p for p in ports}
        self._wake = asyncio.Event()
        self._chats: dict[tuple[str, str], asyncio.Queue[Outbox]] = {}
        self._workers: set[asyncio.Task] = set()
        self._in_flight: set[int] = set()  # claimed by us, not yet marked sent or failed
        self._marks: list[tuple] = []  # (row, message id, when, card of ticket, future)
        self._marking: asyncio.Task | None = None
        self._renewed = clock()
        self.holder = leases.PROCESS_ID
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    async def drain_once(self) -> int:
        """Claim what is due and hand it to the chats' workers; return how many rows."""
        now = self.clock()

        async def claim(s) -> list[Outbox]:  # one trip to the database (storage/db.py `run`)
            rows = await repo.claim_outbox(s, set(self.ports), now, now + LEASE)
            for row in rows:
                row.claimed_by = self.holder
            # Scheduled pushes wait out the quiet hours; replies to someone never do.
            until = self.quiet(now) if self.quiet else None
            if until is not None and any(r.push for r in rows):
                for row in rows:
                    if row.push:
                        row.not_before, row.claimed_until = until, None
                rows = [r for r in rows if not r.push]
            return rows

        rows = await self.db.run(claim)
        self._in_flight.update(r.id for r in rows)
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
        try:
            await self._send_once(row)
        finally:
            self._in_flight.discard(row.id)

    async def renew(self) -> None:
        """Extend the lease on every row still being sent."""
        now = self.clock()
        self._renewed = now
        ids = sorted(self._in_flight)
        if ids:
            await self.db.run(lambda s: leases.renew(s, ids, self.holder, now + LEASE))

    async def reclaim(self) -> int:
        """At start: free the rows a dead sender process held, so they go out now."""
        now = self.clock()
        freed = await self.db.run(
            lambda s: leases.free_rows_of_gone_holders(s, set(self.ports), now)
        )
        if freed:
            log.info("%d outbox row(s) held by a stopped process: sending them now", freed)
        return freed

    async def _send_once(self, row: Outbox) -> None:
        port = self.ports[row.platform]
        message = await self._with_media(to_outgoing(row))
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
        await self._mark_sent(row, message_id)
        self.sent += 1

    async def _with_media(self, message: Outgoing) -> Outgoing:
        """A stored photo's bytes, read off the loop; a photo gone from the disk leaves the text."""
        file = message.attachment
        if file is None or file.media_path is None:
            return message
        try:
            data = await asyncio.to_thread(self.media.resolve(file.media_path).read_bytes)
        except (OSError, AttributeError):
            log.warning("photo %s could not be read; sending the text alone", file.media_path)
            return dataclasses.replace(message, attachment=None)
        return dataclasses.replace(message, attachment=dataclasses.replace(file, data=data))

    async def _mark_sent(self, row: Outbox, message_id: str) -> None:
        """Mark the row sent; the chat waits for it, so a chat never has more than one message
        in the window between the platform accepting it and the mark (a kill in that window
        means it goes out again after the restart).

        On a SQLite file the mark joins the other chats' marks of the moment in one `write()`,
        which goes ahead of the database thread's queue of intake transactions: it is in the
        database within milliseconds instead of waiting its turn (bench/chaos.py, 0.2 s API:
        repeated acknowledgements fell from 49–79 a run to 0–15). On PostgreSQL each mark is
        its own short transaction, in parallel on the pool: one shared batch would make every
        chat wait for it (and hold ticket rows locked while it ran).
        """
        if not self.db.threaded:
            sent_at = self.clock()
            await self.db.run(
                lambda s: repo.mark_sent(s, row.id, message_id, sent_at, row.card_of_ticket)
            )
            return
        done = asyncio.get_running_loop().create_future()
        self._marks.append((row.id, message_id, self.clock(), row.card_of_ticket, done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._write_marks())
        await done

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            try:
                async with self.db.write() as s:
                    for row_id, message_id, at, card, _ in batch:
                        await repo.mark_sent(s, row_id, message_id, at, card)
            except Exception:  # still leased to us: sent again once the lease ends
                log.exception("marking %d outbox row(s) sent failed", len(batch))
            for *_, done in batch:
                if not done.done():
                    done.set_result(None)

    async def idle(self) -> None:
        """Wait until every claimed row has been sent or rescheduled, and marked (tests, stop)."""
        while self._workers or (self._marking is not None and not self._marking.done()):
            await asyncio.gather(*list(self._workers), return_exceptions=True)
            if self._marking is not None:
                await asyncio.gather(self._marking, return_exceptions=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain on every wake-up, and every `poll` seconds for rows other instances left."""
        try:
            await self.reclaim()
        except Exception:
            log.exception("freeing a stopped process's outbox rows failed")
        while not stop.is_set():
            self._wake.clear()
            try:
                if self.clock() - self._renewed >= RENEW:
                    await self.renew()
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
