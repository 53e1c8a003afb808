"""Settings from the environment and `.env` (see `.env.example` for every one, explained)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from handlers.config import CoreConfig

log = logging.getLogger(__name__)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/woodpecker.db"
    media_dir: str = "./data/media"
    timezone: str = "Asia/Shanghai"
    locale: str = "zh_CN"
    report_pair_window_minutes: int = 10
    allowed_chats: Annotated[list[str], NoDecode] = []
    log_level: str = "INFO"
    admin_user_ids: Annotated[list[str], NoDecode] = []
    reopen_days: int = 7

    telegram_bot_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str | None = None
    telegram_rate_limit: bool = True

    wechaty_puppet_service_token: str | None = None
    wechaty_puppet_service_endpoint: str | None = None
    wecom_webhook_keys: Annotated[list[str], NoDecode] = []
    wecom_webhook_url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

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

    def core(self) -> CoreConfig:
        return CoreConfig(
            locale=self.locale,
            pair_window=timedelta(minutes=self.report_pair_window_minutes),
            timezone=self.timezone,
            admin_ids=frozenset(self.admin_user_ids),
            allowed_chats=frozenset(self.allowed_chats),
            reopen_window=timedelta(days=self.reopen_days),
        )

    def warn_if_open(self) -> None:
        if not self.allowed_chats:
            log.warning("ALLOWED_CHATS is empty: the bot serves every chat it is added to")
