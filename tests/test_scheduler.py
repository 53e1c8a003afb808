"""Scheduled jobs on a frozen clock: SLA thresholds, quiet hours, the daily status, catch-up
after downtime, two instances on one database, and the APScheduler wiring. Nothing sleeps."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.app import Woodpecker
from bot.local import LocalChat
from handlers import runs
from handlers.daily_status import run_daily_status
from handlers.digest import run_weekly_digest
from handlers.roles import grant_role
from handlers.sla import run_sla_sweep
from handlers.subscriptions import subscribe_chat
from handlers.types import Sender
from scheduler.service import SchedulerService
from storage.models import JobRun, Outbox, Ticket, TicketEvent
from tests.conftest import FakeClock, both_backends, send, tickets
from tests.images import jpeg

SPOT = (31.40512, 121.48931)
PENG = Sender("u-peng", "彭文兴")
TZ = ZoneInfo("Asia/Shanghai")


def utc(local: str) -> datetime:
    """`2026-11-20 21:00` Shanghai time as naive UTC."""
    at = datetime.fromisoformat(local).replace(tzinfo=TZ)
    return at.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


async def report(bot, chat, user, n: int = 0) -> int:
    # Each report its own spot, ~220 m apart: reports of one place would merge (handlers/geo).
    await send(bot, chat, user, location=(SPOT[0] + n * 0.002, SPOT[1]))
    [ack] = await send(bot, chat, user, photos=[jpeg(n)], text="井盖坏了")
    return int(ack.text.split("#")[1].split(" ")[0])


async def command(bot, chat, user, name: str, args: str) -> list:
    """A slash command with arguments, as an adapter hands it over."""
    msg = chat.message(user, command=name)
    msg.args = args
    await bot.handle(msg)
    await bot.flush()
    return chat.pop()


async def appoint(bot) -> None:
    await grant_role(bot.deps, "local", PENG.user_id, "secretary", "street-group", PENG.name)


async def said_after(bot, chat) -> list:
    await bot.flush()
    return chat.pop()


async def test_each_sla_threshold_acts_once_per_ticket(bot, chat, laowang, xiaoli, clock):
    await appoint(bot)
    first = await report(bot, chat, laowang, 1)  # Friday 10:00
    second = await report(bot, chat, xiaoli, 2)
    await command(bot, chat, PENG, "dispatch", f"{second} 城管")
    clock.advance(hours=3)
    assert await run_sla_sweep(bot.deps, clock()) == 0
    clock.advance(hours=1, minutes=1)  # past 4 hours: #1 was never accepted
    assert await run_sla_sweep(bot.deps, clock()) == 1
    [reminder] = await said_after(bot, chat)
    assert reminder.text.split("\n") == [
        "⏰ 彭文兴，以下工单超过 4 小时还没受理：",
        f"#{first} 井盖损坏 · 待受理 · 4 小时",
        f"请回复“受理 {first}”，或点工单卡片上的按钮。",
    ]
    assert reminder.mentions == [PENG.user_id]
    assert await run_sla_sweep(bot.deps, clock()) == 0
    assert await said_after(bot, chat) == []

    clock.advance(days=3)  # past 3 days: both escalate one tier, through the workflow
    assert await run_sla_sweep(bot.deps, clock()) == 2
    said = await said_after(bot, chat)
    edits = [s for s in said if s.edited]
    assert len(edits) == 2 and all("已派单" in e.text for e in edits)
    [notice] = [s for s in said if not s.edited]
    assert notice.text.split("\n")[0] == "⏫ 彭文兴，以下工单超过 3 天未解决，已自动升级（吹哨）："
    assert f"#{first} 井盖损坏 · 已派单 · 城运中心 · 一级（街区）" in notice.text
    assert f"#{second} 井盖损坏 · 已派单 · 城管 · 二级（街道）" in notice.text
    by_id = {t.id: t for t in await tickets(bot)}
    assert (by_id[first].status, by_id[first].tier) == ("dispatched", 1)
    assert (by_id[second].status, by_id[second].tier) == ("dispatched", 2)
    async with bot.db.read() as s:
        events = (
            await s.execute(select(TicketEvent).where(TicketEvent.actor_pk.is_(None)))
        ).scalars()
        assert sorted((e.ticket_id, e.action, e.note) for e in events) == [
            (first, "dispatch", "超过 3 天未解决，自动升级"),
            (second, "escalate", "超过 3 天未解决，自动升级"),
        ]
    clock.advance(days=5)
    assert await run_sla_sweep(bot.deps, clock()) == 0  # each threshold once per ticket
    assert await said_after(bot, chat) == []


async def test_quiet_hours_hold_pushes_until_morning_but_never_replies(
    settings, chat, laowang, tmp_path
):
    clock = FakeClock(utc("2026-11-20 20:30"))
    bot = Woodpecker(settings, [chat], clock=clock)
    await bot.migrate()
    try:
        await appoint(bot)
        number = await report(bot, chat, laowang)
        clock.now = utc("2026-11-21 01:30")  # the reminder comes due at night
        assert await run_sla_sweep(bot.deps, clock()) == 1
        assert await said_after(bot, chat) == []
        async with bot.db.read() as s:
            [held] = (await s.execute(select(Outbox).where(Outbox.push))).scalars()
        assert held.not_before == utc("2026-11-21 07:00") and held.sent_at is None
        [answer] = await send(bot, chat, laowang, command="tickets")  # a reply is not held
        assert answer.text.startswith("本群未办结工单 1 张")
        clock.now = utc("2026-11-21 06:59")
        assert await said_after(bot, chat) == []
        clock.now = utc("2026-11-21 07:00")
        [reminder] = await said_after(bot, chat)
        assert f"#{number} 井盖损坏 · 待受理" in reminder.text
    finally:
        await bot.close()


async def test_the_daily_status_says_yesterday_once_and_nothing_on_a_quiet_day(
    settings, chat, laowang, xiaoli
):
    clock = FakeClock(utc("2026-11-20 10:00"))
    bot = Woodpecker(settings, [chat], clock=clock)
    await bot.migrate()
    try:
        await runs.mark_started(bot.deps, clock())
        await appoint(bot)
        first = await report(bot, chat, laowang, 1)
        second = await report(bot, chat, xiaoli, 2)
        await command(bot, chat, PENG, "resolve", f"{first} 已修好")
        clock.now = utc("2026-11-21 08:30")
        assert await run_daily_status(bot.deps, clock()) == 1
        [status] = await said_after(bot, chat)
        assert status.text.split("\n") == [
            "📋 昨日（11/20）本群新上报 2 件，解决 1 件。",
            "未办结 1 件（最早的在前）：",
            f"#{second} 井盖损坏 · 待受理 · 22 小时",
        ]
        clock.advance(hours=3)
        assert await run_daily_status(bot.deps, clock()) == 0  # once a day
        await command(bot, chat, PENG, "resolve", f"{second}")
        clock.now = utc("2026-11-22 08:30")  # yesterday: one resolved, nothing open
        assert await run_daily_status(bot.deps, clock()) == 1
        [status] = await said_after(bot, chat)
        assert status.text.split("\n") == [
            "📋 昨日（11/21）本群新上报 0 件，解决 1 件。",
            "目前没有未办结的工单 👍",
        ]
        clock.now = utc("2026-11-23 08:30")  # nothing happened yesterday: nothing to say
        assert await run_daily_status(bot.deps, clock()) == 0
        assert await said_after(bot, chat) == []
    finally:
        await bot.close()


@both_backends
async def test_a_digest_missed_while_down_goes_out_once_at_start_marked_late(
    settings, chat, laowang
):
    clock = FakeClock(utc("2026-11-18 10:00"))  # Wednesday of week 47
    bot = Woodpecker(settings, [chat], clock=clock)
    await bot.migrate()
    try:
        first_run = SchedulerService(bot.deps)
        await first_run.start()  # the bot runs, then stops on Wednesday
        first_run.stop()
        await report(bot, chat, laowang)
        await subscribe_chat(bot.deps, "local", "officials")
        chat.pop()
        clock.now = utc("2026-11-23 15:00")  # back on Monday afternoon: 09:00 was missed
        for _ in range(2):  # and restarted once more
            service = SchedulerService(bot.deps)
            await service.start()
            service.stop()
        said = [s for s in await said_after(bot, chat) if s.chat_id == "officials"]
        assert [(s.attachment.kind if s.attachment else "text") for s in said] == [
            "text",
            "photo",
            "document",
        ]
        assert said[0].text.startswith("（补发）📊 啄木鸟周报 2026-W47（11-16 至 11-22）")
        async with bot.db.read() as s:
            rows = (await s.execute(select(JobRun).where(JobRun.job == "digest"))).scalars()
            assert sorted((r.period, r.target, r.late) for r in rows) == [
                ("2026-W47", "*", True),
                ("2026-W47", "chat:2", True),
            ]
    finally:
        await bot.close()


async def test_a_fresh_install_does_not_send_what_was_due_before_it_existed(settings, chat):
    clock = FakeClock(utc("2026-11-23 15:00"))  # first ever start: Monday afternoon
    bot = Woodpecker(settings, [chat], clock=clock)
    await bot.migrate()
    try:
        await subscribe_chat(bot.deps, "local", "officials")
        service = SchedulerService(bot.deps)
        await service.start()
        service.stop()
        assert await said_after(bot, chat) == []
        clock.now = utc("2026-11-30 09:00")  # the next Monday it goes out on time
        assert await run_weekly_digest(bot.deps, clock()) == 1
        said = await said_after(bot, chat)
        assert said[0].text.startswith("📊 啄木鸟周报 2026-W48")
    finally:
        await bot.close()


@both_backends
async def test_two_schedulers_on_one_database_send_once(settings, laowang, xiaoli):
    clock = FakeClock(utc("2026-11-18 10:00"))
    chats = [LocalChat(), LocalChat()]
    chats[1]._ids = itertools.count(1000)  # one group seen by two instances: distinct messages
    bots = [Woodpecker(settings, [c], clock=clock) for c in chats]
    await bots[0].migrate()
    try:
        await runs.mark_started(bots[0].deps, clock())
        await appoint(bots[0])
        await report(bots[0], chats[0], laowang, 1)
        await report(bots[1], chats[1], xiaoli, 2)
        await subscribe_chat(bots[0].deps, "local", "officials")
        for c in chats:
            c.pop()
        clock.now = utc("2026-11-23 09:00")  # Monday: digest, daily status, SLA all due
        for job in (run_weekly_digest, run_daily_status, run_sla_sweep):
            done = await asyncio.gather(*(job(b.deps, clock()) for b in bots))
            assert sorted(done)[0] == 0 and sorted(done)[1] > 0, job.__name__
        await asyncio.gather(*(b.flush() for b in bots))
        said = chats[0].pop() + chats[1].pop()
        officials = [s for s in said if s.chat_id == "officials"]
        group = [s for s in said if s.chat_id == "street-group" and not s.edited]
        assert len(officials) == 3
        assert [s.text.split("\n")[0] for s in group if s.text.startswith("📋")] == [
            "📋 昨日（11/22）本群新上报 0 件，解决 0 件。"
        ]
        assert len([s for s in group if s.text.startswith("⏫")]) == 1
        async with bots[0].db.read() as s:
            assert all(t.tier == 1 for t in (await s.execute(select(Ticket))).scalars())
    finally:
        for b in bots:
            await b.close()


async def test_the_scheduler_registers_its_triggers_in_the_configured_time_zone(bot):
    service = SchedulerService(bot.deps, sweep_minutes=7)
    jobs = {j.id: j for j in service.scheduler.get_jobs()}
    assert set(jobs) == {"sla", "daily", "digest"}
    friday = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)
    nxt = {name: job.trigger.get_next_fire_time(None, friday) for name, job in jobs.items()}
    assert nxt["daily"] == datetime(2026, 11, 21, 8, 30, tzinfo=TZ)
    assert nxt["digest"] == datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
    assert jobs["sla"].trigger.interval == timedelta(minutes=7)
    assert str(jobs["digest"].trigger.timezone) == "Asia/Shanghai"
    assert all(j.coalesce and j.max_instances == 1 for j in jobs.values())


async def test_a_resolved_ticket_nobody_reopened_is_closed_once_after_the_window(
    bot, chat, laowang, clock
):
    await appoint(bot)
    number = await report(bot, chat, laowang)
    await command(bot, chat, PENG, "accept", str(number))
    await command(bot, chat, PENG, "resolve", f"{number} 已盖好")
    clock.advance(days=6, hours=23)
    await run_sla_sweep(bot.deps, clock())
    assert [t.status for t in await tickets(bot)] == ["resolved"]
    clock.advance(hours=1)  # seven days: the reporter's reopen window is over
    await run_sla_sweep(bot.deps, clock())
    [edit] = await said_after(bot, chat)
    assert edit.edited and "状态：已办结" in edit.text
    assert [t.status for t in await tickets(bot)] == ["closed"]
    async with bot.db.read() as s:
        [event] = (
            await s.execute(select(TicketEvent).where(TicketEvent.action == "close"))
        ).scalars()
    assert (event.actor_pk, event.note) == (None, "解决后 7 天无异议，自动办结")
    await run_sla_sweep(bot.deps, clock())
    assert await said_after(bot, chat) == []
    [reopen] = await command(bot, chat, laowang, "reopen", str(number))
    assert reopen.text.startswith(f"#{number} 现在是“已办结”，不能重新打开。")  # too late
