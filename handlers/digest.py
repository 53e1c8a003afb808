"""The weekly digest for officials: counted in SQL, rendered once, queued once per target."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from handlers import runs
from handlers.deps import Deps
from handlers.digest_render import render_png, render_text, render_xlsx
from handlers.geo import grids, hotmap
from handlers.i18n import t
from handlers.periods import last_weekly_fire, previous_weeks, to_local, week_key, week_span
from handlers.types import Attachment, Outgoing
from handlers.uow import SCHEDULER, Source, Work, perform
from storage import scheduling
from storage.stats import WeekNumbers, week_numbers

JOB = "digest"
Area = tuple[str, str]  # (level, name): ("街道", "友谊路街道")
HISTORY_WEEKS = 4
WECOM = "wecom"  # WeCom robots take the text (markdown) and the chart, not files


@dataclass
class Digest:
    week: str
    numbers: WeekNumbers
    text: str
    png: bytes
    xlsx: bytes
    map_png: bytes | None = None  # the hotspot map, when grids are loaded (handlers/geo/hotmap)


async def numbers(deps: Deps, week: str, area: Area | None = None) -> WeekNumbers:
    """The week's numbers (and the four weeks before it), counted by the database; `area`
    (level, name) keeps them to one street or district."""
    tz = deps.config.timezone
    span = week_span(week, tz)
    history = [(h.key, h.start, h.end) for h in previous_weeks(span, HISTORY_WEEKS, tz)]
    async with deps.db.read() as s:
        return await week_numbers(
            s, span.key, span.start, span.end, history, deps.config.sla_resolve, area
        )


async def build(
    deps: Deps,
    week: str,
    now: datetime,
    late: bool = False,
    progress: Callable[[int], None] = lambda step: None,
    area: Area | None = None,
) -> Digest:
    """Numbers, text, chart and spreadsheet for one ISO week (`2026-W47`). `progress` hears
    each of the three steps done (the command line shows them)."""
    cfg = deps.config
    w = await numbers(deps, week, area)
    progress(1)
    days = cfg.sla_resolve.total_seconds() / 86400
    text = render_text(w, cfg.locale, cfg.timezone, days, late)
    png = await asyncio.to_thread(render_png, w, cfg.locale, cfg.timezone, late)
    progress(2)
    xlsx = await asyncio.to_thread(render_xlsx, w, cfg.locale, cfg.timezone, days)
    progress(3)
    return Digest(w.week, w, text, png, xlsx, await hotmap.week_map(deps, w.week, w.start, w.end))


def due(deps: Deps, now: datetime) -> tuple[datetime, str]:
    """When the latest digest was due, and the week it covers (the one before that day)."""
    cfg = deps.config
    fire = last_weekly_fire(now, cfg.timezone, cfg.digest_weekday, cfg.digest_at)
    return fire, week_key(to_local(fire, cfg.timezone).date() - timedelta(days=7))


def messages(digest: Digest, platform: str, chat_id: str, locale: str) -> list[Outgoing]:
    """What one target receives: the text, the chart, and (chats only) the spreadsheet."""
    out = [
        Outgoing(platform, chat_id, digest.text),
        Outgoing(
            platform,
            chat_id,
            t("digest.chart_caption", locale, week=digest.week),
            attachment=Attachment("photo", f"woodpecker-{digest.week}.png", digest.png),
        ),
    ]
    if digest.map_png is not None:
        caption = t("digest.map_caption", locale, week=digest.week)
        name = f"woodpecker-{digest.week}-map.png"
        out.append(
            Outgoing(
                platform, chat_id, caption, attachment=Attachment("photo", name, digest.map_png)
            )
        )
    if platform != WECOM:
        out.append(
            Outgoing(
                platform,
                chat_id,
                t("digest.xlsx_caption", locale, week=digest.week),
                attachment=Attachment("document", f"woodpecker-{digest.week}.xlsx", digest.xlsx),
            )
        )
    return out


async def run_weekly_digest(deps: Deps, now: datetime, robots: Iterable[str] = ()) -> int:
    """Officials' chats (and WeCom robots, by id) get last week's digest once; one missed
    while the bot was down goes out at start, marked late. Returns how many targets."""
    fire, week = due(deps, now)
    if not await runs.should_run(deps, JOB, week, fire):
        return 0
    late = runs.is_late(now, fire)
    # A subscribed chat that answers for an area (a street's, a district's, from the grids
    # file) gets that area's numbers; every other target the whole programme's.
    areas = await subscribed_areas(deps)
    digests = {
        area: await build(deps, week, now, late, area=area) for area in {None, *areas.values()}
    }

    async def run(w: Work) -> int:
        s, sent = w.s, 0
        if not await scheduling.claim_run(s, JOB, week, scheduling.RUN, now, late):
            return 0  # another instance sent it meanwhile
        targets = [
            (c.platform, c.chat_id, f"chat:{c.id}", areas.get(c.id))
            for c in await scheduling.subscribed_chats(s)
        ]
        targets += [(WECOM, robot, f"{WECOM}:{robot}", None) for robot in robots]
        for platform, chat_id, target, area in targets:
            if not await scheduling.claim_run(s, JOB, week, target, now, late):
                continue
            digest = digests.get(area) or digests[None]  # (an area that came meanwhile)
            for message in messages(digest, platform, chat_id, w.locale):
                w.say(message, push=True)
            sent += 1
        return sent

    return await perform(deps, run, source=Source(SCHEDULER), now=now)


async def subscribed_areas(deps: Deps) -> dict[int, Area]:
    """The subscribed chats that answer for a street or district: chat pk → (level, name)."""
    async with deps.db.read() as s:
        found = {}
        for chat in await scheduling.subscribed_chats(s):
            area = await grids.area_of_chat(s, deps, f"{chat.platform}:{chat.chat_id}")
            if area is not None and area[0] in (grids.LEVELS[1], grids.LEVELS[2]):
                found[chat.id] = area
        return found
