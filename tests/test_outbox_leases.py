"""Sent, then crashed: a dead sender's rows go out at once at start, a live one's lease holds."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from sqlalchemy import select

from bot.local import LocalChat
from handlers.outbox import LEASE, OutboxSender
from storage.models import Outbox
from tests.conftest import both_backends
from tests.images import jpeg

SPOT = (31.40512, 121.48931)

# A sender in a process of its own whose chat never answers: it claims the row and hangs, as a
# bot does that is killed while a message is on its way.
STUCK_SENDER = """
import asyncio, sys
from datetime import datetime
from handlers.outbox import OutboxSender
from storage.db import Database

class Stuck:
    platform = "local"
    async def send(self, message):
        print("sending", flush=True)
        await asyncio.Event().wait()

async def main():
    now = datetime.fromisoformat(sys.argv[2])
    sender = OutboxSender(Database(sys.argv[1]), [Stuck()], clock=lambda: now)
    await sender.drain_once()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def _outbox(bot) -> list[Outbox]:
    async with bot.db.read() as s:
        return list((await s.execute(select(Outbox).order_by(Outbox.id))).scalars())


async def _report(bot, chat, user) -> None:
    await bot.handle(chat.message(user, location=SPOT))
    await bot.handle(chat.message(user, photos=[jpeg()]))


@both_backends
async def test_a_message_a_killed_bot_was_sending_goes_out_as_soon_as_the_bot_starts(
    bot, chat, laowang, clock
):
    await _report(bot, chat, laowang)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        STUCK_SENDER,
        bot.settings.database_url,
        clock.now.isoformat(),
        stdout=asyncio.subprocess.PIPE,
    )
    assert await asyncio.wait_for(proc.stdout.readline(), 30) == b"sending\n"
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    [row] = await _outbox(bot)
    assert row.claimed_until == clock.now + LEASE and row.sent_at is None

    said = asyncio.Event()
    chat.on_say = lambda _said: said.set()
    stop = asyncio.Event()
    running = asyncio.create_task(bot.sender.run(stop))
    try:
        await asyncio.wait_for(said.wait(), 10)  # the clock stands still: no lease ran out
    finally:
        stop.set()
        await running
    [ack] = chat.said
    assert ack.text.startswith("已登记 #1")


async def test_a_row_held_by_a_live_process_is_left_to_its_lease(bot, chat, laowang, clock):
    await _report(bot, chat, laowang)
    async with bot.db.write() as s:
        row = (await s.execute(select(Outbox))).scalar_one()
        row.claimed_until, row.claimed_by = clock.now + LEASE, f"elsewhere:{os.getppid()}:1"
    assert await bot.sender.reclaim() == 0
    await bot.flush()
    assert chat.said == []
    clock.advance(seconds=LEASE.total_seconds() + 1)
    await bot.flush()
    assert [s.text[:6] for s in chat.said] == ["已登记 #1"]


class SlowChat(LocalChat):
    """A chat whose sends wait until the test lets them through."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started = asyncio.Event()

    async def send(self, message):
        self.started.set()
        await self.gate.wait()
        return await super().send(message)


async def test_a_slow_send_keeps_its_lease_so_no_other_instance_sends_it_again(bot, laowang, clock):
    slow = SlowChat()
    bot.sender.ports = {"local": slow}
    await _report(bot, slow, laowang)
    other_chat = LocalChat()
    other = OutboxSender(bot.db, [other_chat], clock=clock)
    assert await bot.sender.drain_once() == 1
    await slow.started.wait()
    for _ in range(4):  # two minutes of sending, far past one lease
        clock.advance(seconds=30)
        await bot.sender.renew()
        assert await other.drain_once() == 0
    slow.gate.set()
    await bot.sender.idle()
    assert len(slow.said) == 1 and other_chat.said == []
