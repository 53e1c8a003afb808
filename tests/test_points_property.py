"""Property: whatever order awards, redemptions, confirmations, expiries and adjustments come in,
a balance is the sum of its ledger lines, never negative, and no code is deducted twice.

Runs the real handlers (router → tickets/rewards/points → SQLite) on one migrated database;
each example gets its own group and riders, so examples do not see each other's points.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers import router
from handlers.config import CoreConfig
from handlers.deps import Deps
from handlers.rewards import expire_codes
from handlers.types import Incoming, Sender
from storage.db import Database
from storage.media import MediaStore
from storage.migrate import upgrade
from storage.models import Chat, Member, Outbox, PointEntry, Redemption, Ticket
from tests.conftest import FakeClock

ADMIN = Sender("admin", "运营")
CATEGORIES = ("井盖损坏", "共享单车乱停", "其他")
_ids = itertools.count(1)

rider = st.integers(0, 1)
op = st.one_of(
    st.tuples(st.just("award"), rider, st.sampled_from(CATEGORIES)),
    st.tuples(st.just("redeem"), rider, st.integers(0, 1)),
    st.tuples(st.just("confirm"), st.integers(0, 7)),
    st.tuples(st.just("expire"), st.integers(1, 30)),
    st.tuples(st.just("adjust"), rider, st.integers(-15, 15).filter(bool)),
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledger") / "wp.db"
    url = f"sqlite+aiosqlite:///{path}"
    runner = asyncio.Runner()
    runner.run(upgrade(url))
    db = Database(url)
    media = MediaStore(str(path.parent / "media"))
    yield runner, db, media
    runner.run(db.dispose())
    runner.close()


class Group:
    """One example's group: two riders, an admin, two rewards, and what the bot said."""

    def __init__(self, db: Database, media: MediaStore) -> None:
        n = next(_ids)
        self.chat_id = f"g{n}"
        self.riders = [Sender(f"r{n}a", "老王"), Sender(f"r{n}b", "小李")]
        self.clock = FakeClock(datetime(2026, 11, 20, 2, 0))
        self.deps = Deps(
            db=db,
            media=media,
            config=CoreConfig(admin_ids=frozenset({ADMIN.user_id})),
            clock=self.clock,
        )
        self.seen_outbox = 0
        self.codes: list[tuple[str, datetime]] = []  # code, when it stops being valid
        self.confirmed: list[str] = []
        self.rewards: list[int] = []

    async def say(
        self, who: Sender, command: str, args: str = "", reply_to=None, privately: bool = False
    ) -> list[str]:
        """What the group and the speaker's private chat hear after `who` says it."""
        msg = Incoming(
            platform="local",
            chat_id=f"dm-{who.user_id}" if privately else self.chat_id,
            is_group=not privately,
            message_id=str(next(_ids)),
            sender=who,
            sent_at=self.clock(),
            command=command,
            args=args,
            reply_to_sender=reply_to,
        )
        await router.handle(msg, self.deps)
        async with self.deps.db.read() as s:
            rows = await s.execute(
                select(Outbox.id, Outbox.text)
                .where(
                    Outbox.id > self.seen_outbox,
                    Outbox.chat_id.in_([self.chat_id, f"dm-{who.user_id}"]),
                )
                .order_by(Outbox.id)
            )
            rows = rows.all()
        if rows:
            self.seen_outbox = rows[-1][0]
        return [text for _, text in rows]

    async def setup(self) -> None:
        for r in self.riders:
            await self.say(r, "start", privately=True)  # codes only go privately
            await self.say(r, "points")
        for cost in (8, 25):
            [added] = await self.say(ADMIN, "rewards", f"add 面馆 午餐{cost} {cost}")
            self.rewards.append(int(added.split("：")[1].split(".")[0]))

    async def award(self, who: Sender, category: str) -> None:
        now = self.clock()
        async with self.deps.db.write() as s:
            chat = (await s.execute(select(Chat).where(Chat.chat_id == self.chat_id))).scalar_one()
            member = (
                await s.execute(select(Member).where(Member.user_id == who.user_id))
            ).scalar_one()
            ticket = Ticket(
                chat_pk=chat.id,
                reporter_pk=member.id,
                category=category,
                lat=31.4,
                lon=121.5,
                source_message_id=str(next(_ids)),
                created_at=now,
                updated_at=now,
            )
            s.add(ticket)
            await s.flush()
            number = ticket.id
        await self.say(ADMIN, "resolve", str(number))
        await self.say(ADMIN, "resolve", str(number))  # a second press awards nothing

    async def run(self, step: tuple) -> None:
        kind = step[0]
        if kind == "award":
            await self.award(self.riders[step[1]], step[2])
        elif kind == "redeem":
            said = await self.say(self.riders[step[1]], "redeem", str(self.rewards[step[2]]))
            found = re.search(r"兑换码 ([A-Z0-9]{6})", "\n".join(said))  # said privately
            if found:
                self.codes.append((found.group(1), self.clock() + self.deps.config.redeem_valid))
        elif kind == "confirm" and self.codes:
            code, valid_until = self.codes[step[1] % len(self.codes)]
            [answer] = await self.say(ADMIN, "confirm", code)
            if answer.startswith("✅"):
                assert code not in self.confirmed, "a code deducted twice"
                assert self.clock() < valid_until, "an expired code deducted"
                self.confirmed.append(code)
                CONFIRMED.append(code)
        elif kind == "expire":
            self.clock.advance(hours=step[1])
            await expire_codes(self.deps)
        elif kind == "adjust":
            who = self.riders[step[1]]
            await self.say(ADMIN, "adjust", f"{step[2]:+d} 测试", reply_to=who)

    async def check(self) -> None:
        async with self.deps.db.read() as s:
            for r in self.riders:
                member = (
                    await s.execute(select(Member).where(Member.user_id == r.user_id))
                ).scalar_one()
                total = (
                    await s.execute(
                        select(func.coalesce(func.sum(PointEntry.delta), 0)).where(
                            PointEntry.member_pk == member.id
                        )
                    )
                ).scalar_one()
                assert total >= 0
            per_code = (
                await s.execute(
                    select(Redemption.code, Redemption.status, func.count(PointEntry.id))
                    .outerjoin(PointEntry, PointEntry.redemption_id == Redemption.id)
                    .join(Member, Member.id == Redemption.member_pk)
                    .where(Member.user_id.in_([r.user_id for r in self.riders]))
                    .group_by(Redemption.id)
                )
            ).all()
        for code, status, deducted in per_code:
            assert deducted == (1 if status == "confirmed" else 0), (code, status, deducted)
        assert sorted(c for c, st_, _ in per_code if st_ == "confirmed") == sorted(self.confirmed)

    async def shown_balance_is_the_sum(self) -> None:
        for r in self.riders:
            line = (await self.say(r, "points", privately=True))[-1]  # after any notices
            shown = int(re.search(r"积分[ ：](-?\d+) 分", line).group(1))
            async with self.deps.db.read() as s:
                total = (
                    await s.execute(
                        select(func.coalesce(func.sum(PointEntry.delta), 0))
                        .join(Member, Member.id == PointEntry.member_pk)
                        .where(Member.user_id == r.user_id)
                    )
                ).scalar_one()
            assert shown == total >= 0


CONFIRMED: list[str] = []  # across examples


def test_balance_is_the_sum_of_entries_never_negative_and_codes_deduct_at_most_once(world):
    runner, db, media = world

    @settings(
        max_examples=100,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(steps=st.lists(op, min_size=1, max_size=20))
    @example(steps=[("award", 0, "井盖损坏"), ("redeem", 0, 0), ("confirm", 0), ("confirm", 0)])
    @example(steps=[("award", 1, "其他"), ("adjust", 1, 9), ("redeem", 1, 0), ("expire", 25)])
    def interleavings(steps) -> None:
        async def play() -> None:
            group = Group(db, media)
            await group.setup()
            for step in steps:
                await group.run(step)
                await group.check()
            await group.shown_balance_is_the_sum()

        runner.run(play())

    CONFIRMED.clear()
    interleavings()
    assert CONFIRMED, "no example got as far as a confirmed redemption"
