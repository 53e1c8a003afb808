"""What the use cases need to know about the deployment, built from settings by the wiring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Naive UTC, the form every stored time takes."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class CoreConfig:
    locale: str = "zh_CN"
    pair_window: timedelta = timedelta(minutes=10)

    @property
    def window_minutes(self) -> int:
        return int(self.pair_window.total_seconds() // 60)
