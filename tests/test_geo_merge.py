"""One problem, one ticket: a report near an open ticket of its category joins it as 重复."""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select, text

from handlers.roles import grant_role
from handlers.sla import run_sla_sweep
from handlers.types import Incoming, Sender
from storage import geo as store
from storage.models import PointEntry, TicketEvent
from tests.conftest import both_backends, photo_count, send, tickets
from tests.images import scene

SPOT = (31.40512, 121.48931)
PENG = Sender("u-peng", "彭文兴")
ZHANG = Sender("u-3", "小张")
METRE = 1 / 111_195  # degrees of latitude in a metre (2πR/360 with R = 6,371,008.8 m)


def north(metres: float) -> tuple[float, float]:
    return SPOT[0] + metres * METRE, SPOT[1]


async def report(bot, chat, user, where=SPOT, words="共享单车堵住人行道", seed=0) -> list:
    await send(bot, chat, user, location=where)
    return await send(bot, chat, user, photos=[scene(seed)], text=words)


async def command(bot, chat, user, words: str) -> list:
    return await send(bot, chat, user, text=words)


async def appoint(bot) -> None:
    await grant_role(bot.deps, "local", PENG.user_id, "secretary", "street-group", PENG.name)


def cards_of(said, number: int) -> list:
    return [
        s for s in said if f"#{number} " in s.text.split("\n")[0] and s.text.startswith("已登记")
    ]


@both_backends
async def test_a_report_within_the_radius_and_window_joins_the_open_ticket(
    bot, chat, laowang, xiaoli, clock
):
    [card] = await report(bot, chat, laowang, seed=1)
    assert card.text.startswith("已登记 #1 共享单车乱停")
    clock.advance(hours=71)
    said = await report(bot, chat, xiaoli, where=north(30), seed=2)
    heard = [s for s in said if not s.edited]
    assert [s.text for s in heard] == ["已有同类问题 #1，已合并（第2次反映）"]
    assert heard[0].mentions == [xiaoli.user_id] and heard[0].reply_to is not None
    [edit] = [s for s in said if s.edited]
    assert edit.message_id == card.message_id
    assert edit.text.split("\n")[-1] == "🗺 2 位骑手反映"
    first, second = await tickets(bot)
    assert (second.status, second.duplicate_of, first.reporters) == ("duplicate", 1, 2)
    assert await photo_count(bot, second.id) == 1  # the photo stays with its own report
    assert second.reporter_pk != first.reporter_pk
    async with bot.db.read() as s:
        events = (await s.execute(select(TicketEvent).where(TicketEvent.ticket_id == 2))).scalars()
        assert [(e.action, e.to_status, e.actor_pk, e.note) for e in events] == [
            ("report", "new", second.reporter_pk, "共享单车堵住人行道"),
            ("dup", "duplicate", None, "同类问题已合并到 #1"),
        ]


async def test_the_same_problem_reported_again_counts_every_report(bot, chat, laowang, xiaoli):
    await report(bot, chat, laowang, seed=1)
    await report(bot, chat, xiaoli, where=north(20), seed=2)
    said = await report(bot, chat, laowang, where=north(10), seed=3)
    assert "已有同类问题 #1，已合并（第3次反映）" in [s.text for s in said]
    first = (await tickets(bot))[0]
    assert first.reporters == 2  # three reports, two riders: not yet 高频


async def test_other_categories_farther_places_and_unknown_problems_stay_their_own(
    bot, chat, laowang, xiaoli
):
    await report(bot, chat, laowang, seed=1)
    said = await report(bot, chat, xiaoli, where=north(10), words="井盖坏了", seed=2)
    assert said[0].text.startswith("已登记 #2 井盖损坏")
    said = await report(bot, chat, xiaoli, where=north(55), seed=3)  # beyond 50 m
    assert said[0].text.startswith("已登记 #3 共享单车乱停")
    await report(bot, chat, laowang, where=north(200), words="看看这个", seed=4)
    said = await report(bot, chat, xiaoli, where=north(201), words="这是什么", seed=5)
    assert said[0].text.startswith("已登记 #5 其他")  # 其他 is no category to merge by
    assert [t.status for t in await tickets(bot)] == ["new"] * 5


async def test_after_the_window_a_report_is_a_ticket_of_its_own(bot, chat, laowang, xiaoli, clock):
    await report(bot, chat, laowang, seed=1)
    clock.advance(hours=72, seconds=1)
    said = await report(bot, chat, xiaoli, where=north(5), seed=2)
    assert said[0].text.startswith("已登记 #2 共享单车乱停")
    assert [t.status for t in await tickets(bot)] == ["new", "new"]


async def test_no_report_merges_into_a_solved_or_rejected_ticket(bot, chat, laowang, xiaoli):
    await appoint(bot)
    await report(bot, chat, laowang, seed=1)
    await command(bot, chat, PENG, "办结 1 已清理")
    said = await report(bot, chat, xiaoli, where=north(5), seed=2)
    assert said[0].text.startswith("已登记 #2 共享单车乱停")
    await command(bot, chat, PENG, "驳回 2 不属于本街区")
    said = await report(bot, chat, xiaoli, where=north(6), seed=3)
    assert said[0].text.startswith("已登记 #3 共享单车乱停")
    assert [t.status for t in await tickets(bot)] == ["resolved", "rejected", "new"]


async def test_three_riders_make_it_frequent_and_halve_its_sla(bot, chat, laowang, xiaoli, clock):
    await appoint(bot)
    await report(bot, chat, laowang, seed=1)  # #1, alone
    await report(bot, chat, laowang, where=north(500), seed=2)  # #2
    await report(bot, chat, xiaoli, where=north(510), seed=3)  # #3 → #2
    said = await report(bot, chat, ZHANG, where=north(490), seed=4)  # #4 → #2
    [edit] = [s for s in said if s.edited]
    assert edit.text.split("\n")[-1] == "🗺 3 位骑手反映 · 高频"
    clock.advance(hours=2, minutes=1)  # half of SLA_ACCEPT_HOURS (4)
    assert await run_sla_sweep(bot.deps, clock()) == 1
    await bot.flush()
    [reminder] = chat.pop()
    lines = reminder.text.split("\n")
    assert lines[0].startswith("⏰ 彭文兴") and lines[1].startswith("#2 共享单车乱停")
    clock.advance(hours=2)  # 4 hours: now the ordinary ticket's turn
    assert await run_sla_sweep(bot.deps, clock()) == 1
    clock.advance(days=1, hours=8)  # 1.5 days: the 高频 one is escalated, #1 not yet
    assert await run_sla_sweep(bot.deps, clock()) == 1
    by_id = {t.id: t for t in await tickets(bot)}
    assert (by_id[2].status, by_id[2].tier, by_id[1].status) == ("dispatched", 1, "new")


async def test_a_secretary_splits_a_wrong_merge_and_it_is_audited(bot, chat, laowang, xiaoli):
    await appoint(bot)
    await report(bot, chat, laowang, seed=1)
    await report(bot, chat, xiaoli, where=north(20), seed=2)
    said = await command(bot, chat, xiaoli, "拆分 2")
    assert [s.text for s in said] == ["小李，只有书记能拆分合并的工单。"]
    said = await command(bot, chat, PENG, "拆分 2")
    [card] = [s for s in said if s.text.startswith("已登记 #2") and not s.edited]
    assert card.buttons and card.reply_to is not None  # its own card, on the rider's report
    [edit] = [s for s in said if s.edited]
    assert "骑手反映" not in edit.text  # #1 is one rider's report again
    assert "#2 已从 #1 拆分出来，成为单独的工单。" in [s.text for s in said]
    first, second = await tickets(bot)
    assert (second.status, second.duplicate_of, second.closed_at) == ("new", None, None)
    assert first.reporters == 1
    async with bot.db.read() as s:
        rows = await s.execute(select(TicketEvent).where(TicketEvent.ticket_id == 2))
        assert [(e.action, e.from_status, e.to_status, e.note) for e in rows.scalars()][1:] == [
            ("dup", "new", "duplicate", "同类问题已合并到 #1"),
            ("split", "duplicate", "new", "#1"),
        ]
    said = await command(bot, chat, PENG, "拆分 1")
    assert [s.text for s in said] == ["#1 没有被合并，不用拆分。"]
    said = await command(bot, chat, PENG, "工单 2")
    assert "彭文兴 拆分 → 待受理 #1" in said[0].text


async def test_every_merged_reporter_hears_the_resolution_and_shares_the_points(
    bot, chat, laowang, xiaoli
):
    await appoint(bot)
    # 小张 started the bot privately: he hears there; the others hear in the group.
    start = Incoming("local", "private-u-3", "s-1", ZHANG, bot.deps.clock(), is_group=False)
    start.command = "start"
    await bot.handle(start)
    await report(bot, chat, laowang, seed=1)
    await report(bot, chat, xiaoli, where=north(20), seed=2)
    await report(bot, chat, ZHANG, where=north(25), seed=3)
    await bot.flush()
    chat.pop()
    said = await command(bot, chat, PENG, "办结 1 已清理")
    by_chat = {}
    for s in said:
        by_chat.setdefault(s.chat_id, []).append(s)
    group = [s.text for s in by_chat["street-group"] if not s.edited]
    assert "老王，你上报的 #1 共享单车乱停 已解决：已清理。谢谢！" in group
    [line] = [s for s in by_chat["street-group"] if s.text.startswith("小李：")]
    assert line.text == "小李：你们反映的 #1 共享单车乱停 已解决。谢谢！"
    assert line.mentions == [xiaoli.user_id]
    assert "你反映的问题（#3，已合并到 #1 共享单车乱停）已解决。谢谢！" in [
        s.text for s in by_chat["private-u-3"]
    ]
    async with bot.db.read() as s:
        rows = await s.execute(select(PointEntry.ticket_id, PointEntry.reason))
        assert sorted(rows.all()) == [(1, "award"), (2, "share"), (3, "share")]


async def test_a_manual_duplicate_counts_its_rider_on_the_card(bot, chat, laowang, xiaoli):
    await appoint(bot)
    await report(bot, chat, laowang, seed=1)
    await report(bot, chat, xiaoli, where=north(300), seed=2)
    said = await command(bot, chat, PENG, "重复 2 1")
    [edit] = [s for s in said if s.edited and s.text.startswith("已登记 #1")]
    assert edit.text.split("\n")[-1] == "🗺 2 位骑手反映"


async def test_the_merge_lookup_reads_a_few_cells_through_the_index(bot):
    cells = store.cells_around(*SPOT, 50)
    assert 1 <= len(cells) <= 4  # a 50 m circle and 153 m × 131 m cells
    wide = store.cells_around(*SPOT, 400)
    assert all(c in wide for c in cells)
    for lat, lon in [north(x) for x in (-49, 0, 49)] + [(SPOT[0], SPOT[1] + 49 * METRE * 1.17)]:
        assert store.geohash(lat, lon) in cells
    for radius in (50, 400, 2000):  # 4, ~40 and ~900 cells: the planner keeps to the cells
        some = store.cells_around(*SPOT, radius)
        stmt = store.merge_candidates_stmt(some, "共享单车乱停", datetime(2026, 11, 17), 1)
        async with bot.db.read() as s:
            compiled = stmt.compile(s.bind, compile_kwargs={"literal_binds": True})
            plan = (await s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all()
        details = " ".join(str(row[-1]) for row in plan)
        assert "USING INDEX ix_ticket_geocell" in details and "SCAN" not in details, details


def test_cells_cover_the_circle_at_many_places():
    for lat in (22.5, 31.2, 39.9, 53.0):
        for k in range(50):
            lon = 100 + k * 0.0137
            cells = set(store.cells_around(lat, lon, 50))
            for bearing in range(0, 360, 15):
                b = math.radians(bearing)
                dlat = 50 * math.cos(b) / 111_320
                dlon = 50 * math.sin(b) / (111_320 * math.cos(math.radians(lat)))
                assert store.geohash(lat + dlat, lon + dlon) in cells


async def test_a_radius_of_zero_turns_merging_off(settings, chat, clock, laowang, xiaoli):
    from bot.app import Woodpecker

    off = Woodpecker(settings.model_copy(update={"merge_radius_m": 0}), [chat], clock=clock)
    await off.migrate()
    try:
        await report(off, chat, laowang, seed=1)
        said = await report(off, chat, xiaoli, seed=2)  # the very same spot
        assert said[0].text.startswith("已登记 #2 共享单车乱停")
    finally:
        await off.close()
