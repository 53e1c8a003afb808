"""When a scheduled job is due, whether it is late, and whether the bot was running to miss it."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.deps import Deps
from handlers.uow import SCHEDULER, Source, Work, perform
from storage import scheduling

# A run this long after its time was missed (the bot was down): its messages say 补发 / late.
LATE_AFTER = timedelta(minutes=30)
STARTED = ("scheduler", "start")


async def mark_started(deps: Deps, now: datetime) -> None:
    """Note the scheduler's first start ever; runs due before it were never missed."""

    async def run(w: Work) -> None:
        await scheduling.claim_run(w.s, *STARTED, scheduling.RUN, w.now)

    await perform(deps, run, source=Source(SCHEDULER), now=now)


async def first_started(deps: Deps) -> datetime | None:
    async with deps.db.read() as s:
        return await scheduling.run_at(s, *STARTED)


async def should_run(deps: Deps, job: str, period: str, fire: datetime) -> bool:
    """The run for `period` (due at `fire`) has not happened, and the bot existed by then."""
    started = await first_started(deps)
    if started is None or fire < started:
        return False
    async with deps.db.read() as s:
        return not await scheduling.run_done(s, job, period)


def is_late(now: datetime, fire: datetime) -> bool:
    return now - fire > LATE_AFTER
