"""What the use cases need to know about the deployment, built from settings by the wiring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Naive UTC, the form every stored time takes."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CoreConfig:
    locale: str = "zh_CN"
    pair_window: timedelta = timedelta(minutes=10)
    reports_per_hour: int = 20  # tickets one rider may open in an hour; 0: no limit
    # How long the question for a report's missing half waits for that half (handlers/prompts.py).
    prompt_grace: timedelta = timedelta(seconds=30)
    timezone: str = "Asia/Shanghai"
    # Operators: "123" or "telegram:123" (any platform / that platform only).
    admin_ids: frozenset[str] = frozenset()
    # Empty: every chat is served. Otherwise these, plus chats an admin enabled with /enable.
    allowed_chats: frozenset[str] = frozenset()
    reopen_window: timedelta = timedelta(days=7)
    redeem_valid: timedelta = timedelta(hours=24)  # how long a redemption code may be confirmed
    # The scheduler: SLA thresholds, when the daily status and the weekly digest go out, and
    # the quiet hours (local times) during which scheduled pushes wait for the morning.
    sla_accept: timedelta = timedelta(hours=4)
    sla_resolve: timedelta = timedelta(days=3)
    daily_status_at: time = time(8, 30)
    digest_weekday: int = 0  # Monday
    digest_at: time = time(9, 0)
    quiet_hours: tuple[time, time] | None = (time(22, 0), time(7, 0))
    # Geography (handlers/geo): where a report outside every grid also goes (a chat reference,
    # `telegram:<id>`), and how near and how recent an open ticket must be to merge a report.
    outside_chat: str | None = None
    merge_radius_m: float = 50.0
    merge_window: timedelta = timedelta(hours=72)
    # The desk's address for the sign-in links `/web` sends ("": no desk), and their lifetime.
    web_url: str = ""
    web_link_valid: timedelta = timedelta(minutes=10)

    def is_admin(self, platform: str, user_id: str) -> bool:
        return user_id in self.admin_ids or f"{platform}:{user_id}" in self.admin_ids

    @property
    def window_minutes(self) -> int:
        return int(self.pair_window.total_seconds() // 60)
