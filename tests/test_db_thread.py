"""`Database.run` (one trip per transaction) and the chatter fast path stay correct: a draft made
by another instance, before a restart, or through `write()` is never skipped over."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from bot.app import Woodpecker
from storage import repository as repo
from storage.db import Database
from storage.drafthints import draft_hints
from storage.models import Chat, Draft
from tests.conftest import both_backends, send, tickets
from tests.images import jpeg

SPOT = (31.40512, 121.48931)


async def chats(db: Database) -> int:
    async def count(s) -> int:
        return (await s.execute(select(func.count()).select_from(Chat))).scalar_one()

    return await db.run(count, write=False)


@both_backends
async def test_run_commits_on_return_and_rolls_back_on_error(bot):
    db = bot.db

    async def add(s, chat_id: str, fail: bool = False) -> str:
        s.add(Chat(platform="local", chat_id=chat_id, is_group=True, created_at=bot.deps.clock()))
        await s.flush()
        if fail:
            raise RuntimeError("no")
        return chat_id

    assert await db.run(lambda s: add(s, "a")) == "a"
    with pytest.raises(RuntimeError):
        await db.run(lambda s: add(s, "b", fail=True))
    assert await chats(db) == 1
    async with db.read() as s:  # what `run` committed, the loop's own sessions see
        assert (await s.execute(text("SELECT chat_id FROM chat"))).scalars().all() == ["a"]
    assert db.threaded == (bot.settings.database_url.startswith("sqlite"))


async def test_write_and_run_take_turns(bot):
    async def add(s, chat_id: str) -> None:
        s.add(Chat(platform="local", chat_id=chat_id, is_group=True, created_at=bot.deps.clock()))

    async def on_loop(chat_id: str) -> None:
        async with bot.db.write() as s:
            await add(s, chat_id)

    import asyncio

    await asyncio.gather(
        *(bot.db.run(lambda s, i=i: add(s, f"t{i}")) for i in range(20)),
        *(on_loop(f"l{i}") for i in range(20)),
    )
    assert await chats(bot.db) == 40


async def test_a_draft_made_by_another_instance_still_gets_its_words(
    bot, settings, chat, clock, laowang, xiaoli
):
    # This instance has looked at chatter already (its cache is warm)...
    assert await send(bot, chat, xiaoli, text="中午吃啥？") == []
    other = Woodpecker(settings, [chat], clock=clock)
    try:
        # ...when a second instance on the same database takes 老王's photo.
        await send(other, chat, laowang, photos=[jpeg()])
    finally:
        await other.close()
    await send(bot, chat, laowang, text="井盖坏了")
    await send(bot, chat, laowang, location=SPOT)
    [ticket] = await tickets(bot)
    assert ticket.description == "井盖坏了"
    assert draft_hints(bot.db).rescans >= 2  # at start, and after the other instance wrote


async def test_a_draft_from_before_a_restart_still_gets_its_words(settings, chat, clock, laowang):
    first = Woodpecker(settings, [chat], clock=clock)
    await first.migrate()
    await send(first, chat, laowang, photos=[jpeg()])
    await first.close()
    second = Woodpecker(settings, [chat], clock=clock)
    try:
        await send(second, chat, laowang, text="路面塌陷了")
        await send(second, chat, laowang, location=SPOT)
        [ticket] = await tickets(second)
        assert ticket.description == "路面塌陷了"
    finally:
        await second.close()


async def test_a_draft_written_through_write_is_seen(bot, chat, clock, laowang, xiaoli):
    await send(bot, chat, xiaoli, text="收到")  # the cache is warm and 老王 is not in it
    hints = draft_hints(bot.db)
    rescans = hints.rescans
    now = clock()
    # A draft appears through the loop's own connection, as some other use case might write it.
    async with bot.db.write() as s:
        chat_row = await repo.upsert_chat(s, "local", chat.chat_id, chat.title, True, now)
        member = await repo.upsert_member(s, "local", laowang.user_id, laowang.name, None, now)
        s.add(
            Draft(
                chat_pk=chat_row.id,
                member_pk=member.id,
                started_at=now,
                expires_at=now + timedelta(minutes=10),
                lat=SPOT[0],
                lon=SPOT[1],
            )
        )
    await send(bot, chat, laowang, text="飞线充电")
    async with bot.db.read() as s:
        [draft] = (await s.execute(select(Draft))).scalars().all()
    assert draft.description == "飞线充电"
    assert hints.rescans == rescans + 1


async def test_chatter_from_people_without_drafts_asks_no_query(bot, chat, xiaoli, laowang):
    await send(bot, chat, laowang, photos=[jpeg()])
    asked = []
    run = bot.db.run

    async def counting(fn, write=True):
        asked.append(getattr(fn, "__qualname__", ""))
        return await run(fn, write)

    bot.db.run = counting
    for line in ("中午吃啥？", "收到", "好的"):
        assert await send(bot, chat, xiaoli, text=line) == []
    assert not any("awaiting_text" in name for name in asked)
    await send(bot, chat, laowang, text="井盖坏了")  # 老王 has a draft: the database is asked
    assert any("awaiting_text" in name for name in asked)


async def test_a_read_through_run_inside_write_does_not_wait_for_itself(bot):
    import asyncio

    async def add(s, chat_id: str) -> None:
        s.add(Chat(platform="local", chat_id=chat_id, is_group=True, created_at=bot.deps.clock()))

    async with bot.db.write() as s:
        await add(s, "outer")
        # A write queued meanwhile waits for this one; a read still goes through.
        queued = asyncio.create_task(bot.db.run(lambda s: add(s, "queued")))
        await asyncio.sleep(0.05)
        assert await asyncio.wait_for(chats(bot.db), 5) == 0  # the outer one is not committed
        assert not queued.done()
    await asyncio.wait_for(queued, 5)
    assert await chats(bot.db) == 2
