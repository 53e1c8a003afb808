"""Everything the bot says goes through the outbox: sent once, retried when the platform fails."""

from __future__ import annotations

from sqlalchemy import select

from bot.local import LocalChat
from handlers.outbox import OutboxSender
from handlers.ports import PermanentSendError
from storage.models import Outbox
from tests.conftest import both_backends, send
from tests.images import jpeg, seed_of

SPOT = (31.40512, 121.48931)


class FlakyChat(LocalChat):
    """Fails the first `failures` sends, like a platform answering 500."""

    def __init__(self, failures: int, error: Exception) -> None:
        super().__init__()
        self.failures, self.error = failures, error

    async def send(self, message):
        if self.failures:
            self.failures -= 1
            raise self.error
        return await super().send(message)


async def _outbox(bot) -> list[Outbox]:
    async with bot.db.read() as s:
        return list((await s.execute(select(Outbox))).scalars())


@both_backends
async def test_a_failed_send_is_retried_after_a_backoff_and_arrives_once(bot, laowang, clock):
    flaky = FlakyChat(1, ConnectionError("500"))
    bot.sender.ports = {"local": flaky}
    await bot.handle(flaky.message(laowang, location=SPOT))
    await bot.handle(flaky.message(laowang, photos=[jpeg()]))
    await bot.flush()
    assert flaky.said == []
    [row] = await _outbox(bot)
    assert (row.attempts, row.sent_at) == (1, None)
    await bot.flush()  # not due yet
    assert flaky.said == []
    clock.advance(seconds=5)
    await bot.flush()
    assert len(flaky.said) == 1 and "已登记 #1" in flaky.said[0].text
    [row] = await _outbox(bot)
    assert row.sent_at is not None and row.sent_message_id == flaky.said[0].message_id


async def test_a_permanent_failure_is_not_retried(bot, laowang, clock):
    dead = FlakyChat(5, PermanentSendError("bot was kicked"))
    bot.sender.ports = {"local": dead}
    await bot.handle(dead.message(laowang, command="report"))
    await bot.flush()
    clock.advance(hours=1)
    await bot.flush()
    [row] = await _outbox(bot)
    assert row.dead and row.attempts == 1 and dead.failures == 4


@both_backends
async def test_two_senders_on_one_database_send_each_message_once(bot, chat, laowang, xiaoli):
    other_chat = LocalChat()
    other = OutboxSender(bot.db, [other_chat], clock=bot.deps.clock)
    for user in (laowang, xiaoli):
        await bot.handle(chat.message(user, location=SPOT))
        await bot.handle(chat.message(user, photos=[jpeg(seed_of(user.user_id, 50))]))
    claimed = await other.drain_once() + await bot.sender.drain_once()
    await other.idle()
    await bot.flush()
    assert claimed == 2
    assert len(chat.said) + len(other_chat.said) == 2


async def test_the_ticket_remembers_its_message_in_the_group(bot, chat, laowang):
    from tests.conftest import tickets

    await send(bot, chat, laowang, location=SPOT)
    [ack] = await send(bot, chat, laowang, photos=[jpeg()])
    [ticket] = await tickets(bot)
    assert ticket.card_message_id == ack.message_id


@both_backends
async def test_cards_sent_together_in_many_groups_are_each_recorded(bot, chat, laowang):
    from tests.conftest import tickets

    groups = [LocalChat(chat_id=f"group-{i}") for i in range(4)]
    for i, group in enumerate(groups):  # answered through the bot's one local port
        await bot.handle(group.message(laowang, location=SPOT))
        await bot.handle(group.message(laowang, photos=[jpeg(i)]))
    await bot.flush()  # four chats send at once; their records share transactions
    cards = {said.chat_id: said.message_id for said in chat.pop()}
    assert len(cards) == 4
    for ticket in await tickets(bot):
        async with bot.db.read() as s:
            group = (
                await s.execute(select(Outbox.chat_id).where(Outbox.card_of_ticket == ticket.id))
            ).scalar()
        assert ticket.card_message_id == cards[group]
    assert all(row.sent_at is not None for row in await _outbox(bot))
