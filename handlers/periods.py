"""Local days, ISO weeks and quiet hours, turned into the naive-UTC instants the rows store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def to_local(at: datetime, tz: str) -> datetime:
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def to_utc(local: datetime, tz: str) -> datetime:
    """A wall-clock time in `tz` as naive UTC."""
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Span:
    """[start, end) in naive UTC, with the key and local first day it is known by."""

    key: str
    start: datetime
    end: datetime
    first_day: date
    last_day: date


def day_span(day: date, tz: str) -> Span:
    start = to_utc(datetime.combine(day, time()), tz)
    end = to_utc(datetime.combine(day + timedelta(days=1), time()), tz)
    return Span(day.isoformat(), start, end, day, day)


def week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_span(key: str, tz: str) -> Span:
    """`2026-W47` → Monday 00:00 to the next Monday 00:00, local time."""
    year, _, week = key.upper().partition("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    start = to_utc(datetime.combine(monday, time()), tz)
    end = to_utc(datetime.combine(monday + timedelta(days=7), time()), tz)
    return Span(week_key(monday), start, end, monday, monday + timedelta(days=6))


def previous_weeks(span: Span, n: int, tz: str) -> list[Span]:
    """The n weeks before `span`, oldest first."""
    mondays = [span.first_day - timedelta(weeks=k) for k in range(n, 0, -1)]
    return [week_span(week_key(m), tz) for m in mondays]


def last_daily_fire(now: datetime, tz: str, at: time) -> datetime:
    """The latest local `at` not after `now`, as naive UTC."""
    local = to_local(now, tz)
    fire = datetime.combine(local.date(), at)
    if fire > local.replace(tzinfo=None):
        fire -= timedelta(days=1)
    return to_utc(fire, tz)


def last_weekly_fire(now: datetime, tz: str, weekday: int, at: time) -> datetime:
    """The latest local `weekday` `at` (Monday is 0) not after `now`, as naive UTC."""
    local = to_local(now, tz)
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    fire = datetime.combine(day, at)
    if fire > local.replace(tzinfo=None):
        fire -= timedelta(days=7)
    return to_utc(fire, tz)


def quiet_until(now: datetime, tz: str, hours: tuple[time, time] | None) -> datetime | None:
    """When the quiet hours around `now` end (naive UTC), or None when it is not quiet now."""
    if not hours or hours[0] == hours[1]:
        return None
    start, end = hours
    local = to_local(now, tz).replace(tzinfo=None)
    clock = local.time()
    if start < end:
        quiet = start <= clock < end
    else:  # over midnight, 22:00–07:00
        quiet = clock >= start or clock < end
    if not quiet:
        return None
    until = datetime.combine(local.date(), end)
    if until <= local:
        until += timedelta(days=1)
    return to_utc(until, tz)
