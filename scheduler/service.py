"""APScheduler in the bot's event loop. It only triggers: each job is a use case that reads the
database, acts, and records what it did in the same transaction, so a restart repeats nothing,
a missed run is caught up at start (marked late), and two instances do not both act."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers import runs
from handlers.daily_status import run_daily_status
from handlers.deps import Deps
from handlers.digest import run_weekly_digest
from handlers.sla import run_sla_sweep

log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Job = Callable[[Deps, datetime], Awaitable[int]]


class SchedulerService:
    """Owns one AsyncIOScheduler; `start()` catches up, then lets the triggers fire."""

    def __init__(self, deps: Deps, sweep_minutes: int = 10, robots: Iterable[str] = ()) -> None:
        self.deps = deps
        robots = list(robots)

        async def digest(d: Deps, now: datetime) -> int:
            return await run_weekly_digest(d, now, robots)

        self.jobs: dict[str, Job] = {
            "sla": run_sla_sweep,
            "daily": run_daily_status,
            "digest": digest,
        }
        self.scheduler = self.build(sweep_minutes)

    def build(self, sweep_minutes: int) -> AsyncIOScheduler:
        cfg = self.deps.config
        tz = ZoneInfo(cfg.timezone)
        scheduler = AsyncIOScheduler(timezone=tz)
        triggers = {
            "sla": IntervalTrigger(minutes=sweep_minutes, timezone=tz),
            "daily": CronTrigger(
                hour=cfg.daily_status_at.hour, minute=cfg.daily_status_at.minute, timezone=tz
            ),
            "digest": CronTrigger(
                day_of_week=WEEKDAYS[cfg.digest_weekday],
                hour=cfg.digest_at.hour,
                minute=cfg.digest_at.minute,
                timezone=tz,
            ),
        }
        for name, trigger in triggers.items():
            # A run the process slept through is not fired late by APScheduler: the job itself
            # knows from the database what is still owed (coalesce, never two at once).
            scheduler.add_job(
                self.run,
                trigger,
                args=[name],
                id=name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=300,
            )
        return scheduler

    async def run(self, name: str) -> int:
        """Run one job now; a failure is logged and the next trigger tries again."""
        try:
            done = await self.jobs[name](self.deps, self.deps.clock())
        except Exception:
            log.exception("scheduled job %s failed", name)
            return 0
        if done:
            log.info("scheduled job %s acted on %d", name, done)
        return done

    async def catch_up(self) -> dict[str, int]:
        """At start: whatever came due while the bot was down goes out now, once."""
        return {name: await self.run(name) for name in self.jobs}

    async def start(self) -> None:
        await runs.mark_started(self.deps, self.deps.clock())
        await self.catch_up()
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
