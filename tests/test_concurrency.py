"""Two bot instances on one database, at the same moment, on SQLite and on PostgreSQL.

Each instance has its own `Database` (its own connections, and on SQLite its own write lock), as
two processes would. On PostgreSQL the transactions really overlap: only row locks (`SELECT ... FOR
UPDATE` on the ticket, `FOR UPDATE SKIP LOCKED` on the outbox) keep them from acting twice.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.app import Woodpecker
from bot.local import LocalChat
from handlers.roles import grant_role
from handlers.types import Sender
from storage.models import Outbox, Ticket, TicketEvent
from tests.conftest import both_backends, send
from tests.images import jpeg

pytestmark = both_backends

SPOT = (31.40512, 121.48931)
PENG, ZHOU = Sender("s-1", "彭文兴"), Sender("s-2", "周书记")


@pytest.fixture
async def twin(settings, clock):
    """A second instance of the bot on the `bot` fixture's database, in the same chat."""
    chat = LocalChat()
    app = Woodpecker(settings, [chat], clock=clock)
    async with app.db.read() as s:  # connected already, as a running instance would be
        await s.execute(select(1))
    yield app, chat
    await app.close()


async def test_two_secretaries_resolving_at_once_on_two_instances_make_one_change(
    bot, chat, twin, laowang
):
    other, other_chat = twin
    for secretary in (PENG, ZHOU):
        assert await grant_role(bot.deps, "local", secretary.user_id, "secretary", chat.chat_id)
    await send(bot, chat, laowang, location=SPOT)
    [ack] = await send(bot, chat, laowang, photos=[jpeg()], text="井盖坏了")
    number = ack.text.split("#")[1].split(" ")[0]

    presses = [chat.message(PENG, command="resolve"), other_chat.message(ZHOU, command="resolve")]
    presses[1].message_id = "other-" + presses[1].message_id  # two messages, not a redelivery
    for press in presses:
        press.args = number
    await asyncio.gather(bot.handle(presses[0]), other.handle(presses[1]))
    await asyncio.gather(bot.flush(), other.flush())

    async with bot.db.read() as s:
        ticket = await s.get(Ticket, int(number))
        stmt = select(TicketEvent.action).where(TicketEvent.ticket_id == ticket.id)
        actions = list((await s.execute(stmt)).scalars())
    assert ticket.status == "resolved"
    assert sorted(actions) == ["report", "resolve"]
    said = [s.text for s in chat.pop() + other_chat.pop()]
    assert len([t for t in said if "不能解决" in t]) == 1  # the later one is refused
    assert len([t for t in said if t.startswith(f"老王，你上报的 #{number}")]) == 1


async def test_two_instances_draining_the_outbox_at_once_send_each_message_once(
    bot, chat, twin, laowang, xiaoli
):
    other, other_chat = twin
    riders = [laowang, xiaoli, *(Sender(f"u-{i}", f"骑手{i}") for i in range(3, 9))]
    for i, rider in enumerate(riders):
        await bot.handle(chat.message(rider, location=SPOT))
        await bot.handle(chat.message(rider, photos=[jpeg(i)]))
    claimed = await asyncio.gather(bot.sender.drain_once(), other.sender.drain_once())
    await asyncio.gather(bot.sender.idle(), other.sender.idle())
    assert sum(claimed) == len(riders)
    said = chat.pop() + other_chat.pop()
    assert sorted(s.text.split(" ")[1] for s in said) == [f"#{n}" for n in range(1, 9)]
    async with bot.db.read() as s:
        rows = list((await s.execute(select(Outbox))).scalars())
    assert len(rows) == len(riders) and all(r.sent_at is not None for r in rows)
