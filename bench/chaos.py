"""Chaos: the real bot, SIGKILLed twice while riders report, then counted for what was lost.

    .venv/bin/python -m bench.chaos --db sqlite --seed 1
    .venv/bin/python -m bench.chaos --db postgresql --seed 1 --delay 0.2

The bot runs as `woodpecker run` in a process of its own, against the fake Bot API
(`tests/fakes/telegram_api.py`) served by this process on 127.0.0.1. Riders (each in one group)
send reports, a photo and a location each (half of them location first); a secretary resolves
every acknowledged ticket with `/resolve N`, so points are earned while the bot is being killed.
At two seeded moments the bot is SIGKILLed and started again after a short seeded pause. When
everything is quiet, the bot is stopped (SIGTERM) and the database and the fake's record are
counted. Nothing is asserted: the figures are printed.

What identifies a half: report i's photo is file `u-r{i}`, its location a point of its own;
acknowledgements are matched to reports by the message they reply to.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database
from storage.models import Inbox, Outbox, Photo, PointEntry, Ticket
from tests import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import scene

TOKEN = "424242:CHAOS-token"
SECRETARY = tu.user(990001, "彭书记")
ACK = "已登记 #"
DEADLINE = 900.0  # seconds the whole run may take before it reports what it has


def group(g: int) -> dict:
    return {"id": -1003000000000 - g, "title": f"骑手群{g}", "type": "supergroup"}


def rider(r: int) -> dict:
    return tu.user(810000 + r, f"骑手{r}")


def spot(i: int) -> tuple[float, float]:
    """Report i's own location: 1,000 points ~1 km apart around Shanghai."""
    return round(31.10 + (i % 40) * 0.01, 6), round(121.30 + (i // 40) * 0.01, 6)


@dataclass
class Plan:
    reports: int
    riders: int
    groups: int
    rate: float
    seed: int
    kills: int = 2

    def who(self, i: int) -> tuple[int, int]:
        r = i % self.riders
        return r, r % self.groups


@dataclass
class Run:
    plan: Plan
    api: FakeTelegramAPI
    database_url: str
    workdir: Path
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0
    kills: list[float] = field(default_factory=list)
    half_of: dict[int, int] = field(default_factory=dict)  # message id -> report
    resolved: set[int] = field(default_factory=set)
    seen: int = 0  # fake.sent entries looked at

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "MEDIA_DIR": str(self.workdir / "media"),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": self.api.base_url,
            "TELEGRAM_RATE_LIMIT": "false",
            "SCHEDULER_ENABLED": "false",
            "ADMIN_USER_IDS": str(SECRETARY["id"]),
            "LOG_LEVEL": "INFO",
        }

    async def start_bot(self) -> None:
        self.starts += 1
        log = open(self.workdir / f"bot-{self.starts}.log", "wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--create",
            env=self.env(),
            cwd=self.workdir,
            stdout=log,
            stderr=log,
        )
        log.close()

    async def kill_bot(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()  # reaped: its pid is gone, as after a real crash

    async def stop_bot(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 60)
        except TimeoutError:
            await self.kill_bot()

    def push_report(self, i: int) -> None:
        r, g = self.plan.who(i)
        chat, sender = group(g), rider(r)
        photo_id, location_id = 100_000 + 2 * i, 100_001 + 2 * i
        self.half_of[photo_id] = self.half_of[location_id] = i
        photo = tu.photo(sender, f"r{i}", chat=chat, message_id=photo_id)
        location = tu.location(sender, *spot(i), chat=chat, message_id=location_id)
        for update in (photo, location) if i % 2 == 0 else (location, photo):
            self.api.push_update(update)

    def resolve_acknowledged(self) -> None:
        """The secretary resolves each ticket once its acknowledgement arrives."""
        sent = self.api.sent
        while self.seen < len(sent):
            entry = sent[self.seen]
            self.seen += 1
            text = entry.get("text") or ""
            if entry["method"] == "sendMessage" and text.startswith(ACK):
                number = int(text[len(ACK) :].split(" ")[0])
                if number not in self.resolved:
                    self.resolved.add(number)
                    chat = {"id": entry["chat_id"], "type": "supergroup", "title": "骑手群"}
                    self.api.push_update(tu.command(SECRETARY, f"/resolve {number}", chat=chat))

    async def busy(self, db: Database) -> tuple[int, int]:
        """(inbox rows not handled, outbox rows not sent) right now."""
        async with db.read() as s:
            inbox = await s.scalar(
                select(func.count()).select_from(Inbox).where(Inbox.done_at.is_(None))
            )
            outbox = await s.scalar(
                select(func.count())
                .select_from(Outbox)
                .where(Outbox.sent_at.is_(None), Outbox.dead.is_(False))
            )
        return inbox, outbox


async def drive(run: Run) -> float:
    """Send every report at the planned rate, killing and restarting the bot on the way."""
    plan, rng = run.plan, random.Random(run.plan.seed)
    duration = plan.reports / plan.rate
    kill_at = sorted(rng.uniform(0.1, 0.9) * duration for _ in range(plan.kills))
    pauses = [rng.uniform(0.2, 2.0) for _ in kill_at]
    await run.start_bot()
    t0 = time.monotonic()
    i = 0
    while i < plan.reports or kill_at:
        now = time.monotonic() - t0
        while i < plan.reports and i <= now * plan.rate:
            run.push_report(i)
            i += 1
        if kill_at and now >= kill_at[0]:
            kill_at.pop(0)
            await run.kill_bot()
            run.kills.append(now)
            await asyncio.sleep(pauses.pop(0))
            await run.start_bot()
        run.resolve_acknowledged()
        await asyncio.sleep(0.01)
    return time.monotonic() - t0


async def settle(run: Run, db: Database, deadline: float) -> bool:
    """Until nothing is pending anywhere for a few looks in a row (or the deadline)."""
    quiet = 0
    while time.monotonic() < deadline:
        run.resolve_acknowledged()
        before = len(run.api.sent)
        inbox, outbox = await run.busy(db)
        idle = not run.api.pending_updates and not inbox and not outbox
        await asyncio.sleep(1.0)
        quiet = quiet + 1 if idle and len(run.api.sent) == before else 0
        if quiet >= 3:
            return True
    return False


async def count(run: Run, db: Database) -> dict[str, int]:
    plan = run.plan
    where = {spot(i): i for i in range(plan.reports)}
    async with db.read() as s:
        tickets = (await s.execute(select(Ticket.id, Ticket.lat, Ticket.lon))).all()
        photos = (await s.execute(select(Photo.ticket_id, Photo.platform_file_id))).all()
        points = (
            await s.execute(
                select(PointEntry.ticket_id, PointEntry.member_pk, PointEntry.reason).where(
                    PointEntry.reason == "award"
                )
            )
        ).all()
        resolved = await s.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.resolved_at.is_not(None))
        )
    photo_reports: dict[int, set[int]] = {}
    for ticket_id, file_id in photos:
        if ticket_id is not None and file_id and file_id.startswith("u-r"):
            photo_reports.setdefault(ticket_id, set()).add(int(file_id[3:]))
    per_report = Counter()
    mispaired = no_photo = 0
    for ticket_id, lat, lon in tickets:
        located = where.get((round(lat, 6), round(lon, 6)))
        pictured = photo_reports.get(ticket_id, set())
        if not pictured:
            no_photo += 1
        if located is None or pictured - {located}:
            mispaired += 1
        per_report[located] += 1
    acks = [
        e
        for e in run.api.sent
        if e["method"] == "sendMessage" and (e.get("text") or "").startswith(ACK)
    ]
    acked = Counter(run.half_of.get(e["reply_to_message_id"]) for e in acks)
    messages = Counter(
        (e["method"], str(e["chat_id"]), e.get("text"), e.get("reply_to_message_id"))
        for e in run.api.sent
        if e["method"] in ("sendMessage", "editMessageText")
    )
    awards = Counter(points)
    reported = {i for i in per_report if i is not None}
    return {
        "reports sent": plan.reports,
        "tickets": len(tickets),
        "reports lost (no ticket)": plan.reports - len(reported),
        "tickets whose photo and location came from different reports": mispaired,
        "tickets with no photo": no_photo,
        "duplicate tickets": sum(n - 1 for n in per_report.values() if n > 1),
        "acknowledgements": len(acks),
        "duplicate acknowledgements": sum(n - 1 for n in acked.values() if n > 1),
        "lost acknowledgements": len(reported - set(acked)),
        "tickets resolved": resolved,
        "points entries": len(points),
        "duplicate points entries": sum(n - 1 for n in awards.values() if n > 1),
        "messages and edits sent": sum(messages.values()),
        "of which repeats (any message or edit sent twice)": sum(
            n - 1 for n in messages.values() if n > 1
        ),
    }


def _resumed(workdir: Path) -> list[str]:
    """What each restarted bot said about the previous one's unfinished work."""
    notes = []
    for path in sorted(workdir.glob("bot-*.log"), key=lambda p: int(p.stem.split("-")[1])):
        for line in path.read_text(errors="replace").splitlines():
            if "resuming" in line or "held by a stopped process" in line:
                notes.append(f"{path.stem}: {line.split(': ', 1)[-1]}")
    return notes


async def database(kind: str, workdir: Path, stack: contextlib.ExitStack) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'chaos.db'}"
    if kind.startswith(("postgresql://", "postgresql+asyncpg://", "sqlite")):
        return kind
    from tests.pg import PostgresServer, _free_port, _unprivileged_user, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        sys.exit("PostgreSQL binaries not found (apt-get install -y postgresql)")
    run_as = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="chaos-pg-", dir="/tmp" if run_as else None))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(bin_dir, root, _free_port(), run_as)
    server.start()
    stack.callback(shutil.rmtree, root, True)
    stack.callback(server.stop)
    return server.url(server.create_database())


async def main(args: argparse.Namespace) -> int:
    plan = Plan(args.reports, args.riders, args.groups, args.rate, args.seed, args.kills)
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    with contextlib.ExitStack() as stack:
        if not args.keep:
            stack.callback(shutil.rmtree, workdir, True)
        url = await database(args.db, workdir, stack)
        api = FakeTelegramAPI(token=TOKEN, bot_username="woodpecker_bot")
        api.delay = args.delay
        pictures = await asyncio.to_thread(
            lambda: [scene(args.seed * 100_000 + i, (320, 240)) for i in range(plan.reports)]
        )
        for i, data in enumerate(pictures):
            api.add_file(f"r{i}", data, file_unique_id=f"u-r{i}")
        await api.start()
        run = Run(plan, api, url, workdir)
        deadline = time.monotonic() + DEADLINE
        sending = await drive(run)
        from storage.migrate import upgrade

        await upgrade(url)  # already done by the bot; here so the counting below can read
        db = Database(url)
        settled = await settle(run, db, deadline)
        await run.stop_bot()
        figures = await count(run, db)
        await db.dispose()
        await api.stop()
        print(
            f"chaos: {args.db} seed {args.seed}, {plan.reports} reports from {plan.riders} riders "
            f"in {plan.groups} groups at {plan.rate:g}/s, API delay {args.delay:g} s"
        )
        print(
            f"  sent in {sending:.1f} s; SIGKILL at "
            + ", ".join(f"{k:.1f} s" for k in run.kills)
            + f"; settled: {'yes' if settled else 'NO (deadline)'}"
        )
        for note in _resumed(workdir):
            print(f"  {note}")
        for name, value in figures.items():
            print(f"  {name:<66} {value:>6}")
        if args.keep:
            print(f"  work directory kept: {workdir}")
    return 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench.chaos", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--db", default="sqlite", help="sqlite, postgresql (a throwaway server), or a URL"
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--delay", type=float, default=0.0, help="seconds per Bot API call")
    p.add_argument("--reports", type=int, default=1000)
    p.add_argument("--riders", type=int, default=200)
    p.add_argument("--groups", type=int, default=100)
    p.add_argument("--rate", type=float, default=25.0, help="reports per second")
    p.add_argument("--kills", type=int, default=2)
    p.add_argument("--keep", action="store_true", help="keep the work directory (bot logs)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
