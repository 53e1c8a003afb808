"""Each group's morning status: yesterday's new and resolved tickets, and what is still open."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import cards, runs, workflow
from handlers.deps import Deps
from handlers.i18n import t
from handlers.periods import day_span, last_daily_fire, to_local
from handlers.types import Outgoing
from handlers.uow import SCHEDULER, Source, Work, perform
from storage import scheduling
from storage.models import Ticket

JOB = "daily"
LIST_LIMIT = 15


async def run_daily_status(deps: Deps, now: datetime) -> int:
    """A group sees yesterday's numbers and its open tickets with their age, once a day, and
    nothing on a day with nothing to say. Returns how many groups were sent a status."""
    cfg = deps.config
    fire = last_daily_fire(now, cfg.timezone, cfg.daily_status_at)
    span = day_span(to_local(fire, cfg.timezone).date() - timedelta(days=1), cfg.timezone)
    if not await runs.should_run(deps, JOB, span.key, fire):
        return 0
    late = runs.is_late(now, fire)

    async def run(w: Work) -> int:
        s, sent = w.s, 0
        if not await scheduling.claim_run(s, JOB, span.key, scheduling.RUN, now, late):
            return 0  # another instance got here first
        new = await scheduling.counts_by_chat(s, Ticket.created_at, span.start, span.end)
        resolved = await scheduling.counts_by_chat(s, Ticket.resolved_at, span.start, span.end)
        still_open = await scheduling.open_by_chat(s, workflow.OPEN)
        chats = await scheduling.chats(s, set(new) | set(resolved) | set(still_open))
        for pk, chat in sorted(chats.items()):
            if not chat.is_group:
                continue
            if not await scheduling.claim_run(s, JOB, span.key, f"chat:{pk}", now, late):
                continue
            text = status_text(
                deps, span.first_day, new.get(pk, 0), resolved.get(pk, 0),
                still_open.get(pk, []), now, late,
            )  # fmt: skip
            w.say(Outgoing(chat.platform, chat.chat_id, text), push=True)
            sent += 1
        return sent

    return await perform(deps, run, source=Source(SCHEDULER), now=now)


def status_text(deps: Deps, day, new: int, resolved: int, open_tickets: list[Ticket], now, late):
    locale = deps.config.locale
    head = t("daily.head", locale, date=f"{day.month}/{day.day}", new=new, resolved=resolved)
    lines = [(t("late.mark", locale) + head) if late else head]
    if open_tickets:
        lines.append(t("daily.open", locale, count=len(open_tickets)))
        lines += [cards.ticket_line(x, now, locale) for x in open_tickets[:LIST_LIMIT]]
        if len(open_tickets) > LIST_LIMIT:
            lines.append(t("tickets.more", locale, count=len(open_tickets) - LIST_LIMIT))
    else:
        lines.append(t("daily.none_open", locale))
    return "\n".join(lines)
