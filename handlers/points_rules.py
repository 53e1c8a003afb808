"""Who earns how many points for a resolved problem, and when a period starts. No I/O.

The first reporter gets the category's award, riders whose reports were merged into it a small
share, a recycled photo nothing, and nobody more than the daily cap from reports in one day.
The caller reads the facts (reports, what is already in the ledger) and writes the entries.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo

AWARD, SHARE, REVERSAL, ADJUST, REDEEM = "award", "share", "reversal", "adjust", "redeem"
EARNED = (AWARD, SHARE)  # what the daily cap counts
RANKED = (AWARD, SHARE, REVERSAL, ADJUST)  # what the group's ranking counts (spending is not)


@dataclass(frozen=True)
class Rules:
    default: int
    share: int
    daily_cap: int
    by_category: Mapping[str, int] = field(default_factory=dict)

    def award(self, category: str) -> int:
        return self.by_category.get(category, self.default)


def parse_rules(text: str) -> Rules:
    raw = tomllib.loads(text)
    return Rules(
        default=int(raw["default"]),
        share=int(raw["share"]),
        daily_cap=int(raw["daily_cap"]),
        by_category={k: int(v) for k, v in raw.get("category", {}).items()},
    )


@cache
def rules() -> Rules:
    return parse_rules(files("handlers").joinpath("data/points.toml").read_text("utf-8"))


@dataclass(frozen=True)
class Report:
    """A ticket as far as points care."""

    ticket_id: int
    reporter_pk: int
    category: str
    recycled: bool = False


@dataclass(frozen=True)
class Grant:
    """One ledger entry to write."""

    member_pk: int
    ticket_id: int
    reason: str
    delta: int
    capped: bool = False  # less than the rule gives, because of the daily cap


def grants_for_resolution(
    rules: Rules,
    original: Report,
    duplicates: Iterable[Report],
    earned_today: Mapping[int, int],
    already: Iterable[int] = (),
) -> list[Grant]:
    """The entries a resolved problem owes: award to the original's reporter, a share to each
    other rider whose report was merged into it (once per rider), none for recycled photos,
    none for riders in `already` (they hold an award or share on this problem)."""
    earned, seen, out = dict(earned_today), set(already), []

    def give(report: Report, reason: str, points: int) -> None:
        who = report.reporter_pk
        if report.recycled or who in seen:
            return
        seen.add(who)
        delta = max(0, min(points, rules.daily_cap - earned.get(who, 0)))
        earned[who] = earned.get(who, 0) + delta
        out.append(Grant(who, report.ticket_id, reason, delta, capped=delta < points))

    give(original, AWARD, rules.award(original.category))
    for dup in sorted(duplicates, key=lambda r: r.ticket_id):
        give(dup, SHARE, rules.share)
    return out


def reversals(granted: Iterable[Grant], balances: Mapping[int, int]) -> list[Grant]:
    """Take back what a problem earned once it is rejected after all; never below zero, since
    the rider may have spent the points already."""
    left, out = dict(balances), []
    for g in granted:
        back = min(g.delta, max(0, left.get(g.member_pk, 0)))
        if back > 0:
            left[g.member_pk] = left.get(g.member_pk, 0) - back
            out.append(Grant(g.member_pk, g.ticket_id, REVERSAL, -back))
    return out


def period_start(now: datetime, timezone: str, period: str) -> datetime:
    """Naive UTC start of the local day, week (Monday), month or year that holds `now`."""
    local = now.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start -= timedelta(days=start.weekday())
    elif period == "month":
        start = start.replace(day=1)
    elif period == "year":
        start = start.replace(month=1, day=1)
    elif period != "day":
        raise ValueError(period)
    return start.astimezone(UTC).replace(tzinfo=None)


def year_bounds(year: int, timezone: str) -> tuple[datetime, datetime]:
    """Naive UTC [start, end) of a local calendar year."""
    tz = ZoneInfo(timezone)
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    return start, end


def first_name(name: str) -> str:
    """What the ranking shows of a person: the first word of their display name."""
    return (name or "").split()[0] if (name or "").split() else name
