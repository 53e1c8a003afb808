"""Settings from the environment and `.env` (see `.env.example` for every one, explained)."""

from __future__ import annotations

import logging
from datetime import time, timedelta
from typing import Annotated

from pydantic import ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.config import CoreConfig

log = logging.getLogger(__name__)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hhmm(value: str) -> time:
    """`08:30` → 08:30; anything else names the expected form."""
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError as e:
        raise ValueError(f"{value!r} is not a time of day like 08:30") from e


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/woodpecker.db"
    media_dir: str = "./data/media"
    timezone: str = "Asia/Shanghai"
    locale: str = "zh_CN"
    report_pair_window_minutes: int = 10
    reports_per_hour: int = 20
    prompt_grace_seconds: float = 30
    allowed_chats: Annotated[list[str], NoDecode] = []
    log_level: str = "INFO"
    admin_user_ids: Annotated[list[str], NoDecode] = []
    reopen_days: int = 7
    redeem_code_hours: int = 24

    scheduler_enabled: bool = True
    sla_accept_hours: float = 4
    sla_resolve_days: float = 3
    sla_sweep_minutes: int = 10
    daily_status_time: str = "08:30"
    digest_weekday: str = "mon"
    digest_time: str = "09:00"
    quiet_hours: str = "22:00-07:00"

    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str | None = None
    telegram_rate_limit: bool = True

    grids_file: str | None = None
    outside_chat: str | None = None
    merge_radius_m: float = 50
    merge_window_hours: float = 72

    wechaty_puppet_service_token: str | None = None
    wechaty_puppet_service_endpoint: str | None = None
    wecom_webhook_keys: Annotated[list[str], NoDecode] = []
    wecom_webhook_url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

    # The desk (bot/web/): off unless WEB_PORT is set.
    web_port: int | None = None
    web_host: str = "127.0.0.1"
    web_base_url: str | None = None  # what people open; http://WEB_HOST:WEB_PORT when unset
    web_tiles: str = "amap"  # amap (GCJ-02), osm, or a tile URL template in WGS-84
    web_link_minutes: int = 10
    web_session_hours: int = 12

    @property
    def wechat_enabled(self) -> bool:
        """A puppet service is configured, so `woodpecker run` serves WeChat."""
        return bool(self.wechaty_puppet_service_token or self.wechaty_puppet_service_endpoint)

    @property
    def telegram_file_url(self) -> str:
        """`…/file/bot` beside the API's `…/bot`, unless given."""
        if self.telegram_base_file_url:
            return self.telegram_base_file_url
        base = self.telegram_base_url.rstrip("/")
        return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"

    @property
    def web_url(self) -> str:
        """The desk's address as people open it, without a trailing slash ("" when off)."""
        if self.web_base_url:
            return self.web_base_url.rstrip("/")
        if self.web_port is None:
            return ""
        return f"http://{self.web_host}:{self.web_port}"

    @field_validator("web_port", mode="before")
    @classmethod
    def _empty_port(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("allowed_chats", "admin_user_ids", "wecom_webhook_keys", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in ("zh_CN", "en"):
            raise ValueError("LOCALE must be zh_CN or en")
        return value

    @field_validator("report_pair_window_minutes")
    @classmethod
    def _window(cls, value: int) -> int:
        if not 1 <= value <= 24 * 60:
            raise ValueError("REPORT_PAIR_WINDOW_MINUTES must be between 1 and 1440")
        return value

    @field_validator("reports_per_hour")
    @classmethod
    def _per_hour(cls, value: int) -> int:
        if value < 0:
            raise ValueError("REPORTS_PER_HOUR must be 0 (no limit) or more")
        return value

    @field_validator("prompt_grace_seconds")
    @classmethod
    def _grace(cls, value: float, info: ValidationInfo) -> float:
        # The question must go out while the half it asks about can still be completed.
        window = info.data.get("report_pair_window_minutes", 10) * 60
        if not 0 <= value < window:
            raise ValueError("PROMPT_GRACE_SECONDS must be at least 0 and under the pair window")
        return value

    @field_validator("daily_status_time", "digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        _hhmm(value)
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str) -> str:
        if value.strip():
            start, sep, end = value.partition("-")
            if not sep:
                raise ValueError("QUIET_HOURS must look like 22:00-07:00 (or be empty)")
            _hhmm(start), _hhmm(end)
        return value

    @field_validator("digest_weekday")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.strip().lower()[:3] not in WEEKDAYS:
            raise ValueError("DIGEST_WEEKDAY must be mon, tue, wed, thu, fri, sat or sun")
        return value.strip().lower()[:3]

    @field_validator("outside_chat")
    @classmethod
    def _chat_ref(cls, value: str | None) -> str | None:
        from handlers.geo.coords import parse_chat_ref

        value = (value or "").strip()
        if value and parse_chat_ref(value) is None:
            raise ValueError("OUTSIDE_CHAT must look like telegram:-1001234 or wechat:123@chatroom")
        return value or None

    @field_validator("merge_radius_m", "merge_window_hours")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if not value >= 0:
            raise ValueError("MERGE_RADIUS_M and MERGE_WINDOW_HOURS must be 0 or more")
        return value

    @property
    def quiet(self) -> tuple[time, time] | None:
        if not self.quiet_hours.strip():
            return None
        start, _, end = self.quiet_hours.partition("-")
        return _hhmm(start), _hhmm(end)

    def core(self) -> CoreConfig:
        return CoreConfig(
            locale=self.locale,
            pair_window=timedelta(minutes=self.report_pair_window_minutes),
            reports_per_hour=self.reports_per_hour,
            prompt_grace=timedelta(seconds=self.prompt_grace_seconds),
            timezone=self.timezone,
            admin_ids=frozenset(self.admin_user_ids),
            allowed_chats=frozenset(self.allowed_chats),
            reopen_window=timedelta(days=self.reopen_days),
            redeem_valid=timedelta(hours=self.redeem_code_hours),
            sla_accept=timedelta(hours=self.sla_accept_hours),
            sla_resolve=timedelta(days=self.sla_resolve_days),
            daily_status_at=_hhmm(self.daily_status_time),
            digest_weekday=WEEKDAYS.index(self.digest_weekday),
            digest_at=_hhmm(self.digest_time),
            quiet_hours=self.quiet,
            outside_chat=self.outside_chat,
            merge_radius_m=self.merge_radius_m,
            merge_window=timedelta(hours=self.merge_window_hours),
            web_url=self.web_url,
            web_link_valid=timedelta(minutes=self.web_link_minutes),
        )

    def warn_if_open(self) -> None:
        if not self.allowed_chats:
            log.warning("ALLOWED_CHATS is empty: the bot serves every chat it is added to")
