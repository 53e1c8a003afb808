"""Logging for the bot: secrets never reach a log line, at any level.

The Bot API puts the token in every URL (`…/bot<TOKEN>/getUpdates`, file downloads), WeCom puts
a robot's key in its query string, and libraries log URLs and exceptions that quote them: httpx
logs every request line at INFO, PTB logs its base URLs at DEBUG. So httpx and httpcore are held
at WARNING, and every record is passed through `RedactSecrets` as it is made, which replaces
each configured secret in the message, its arguments, the traceback and the stack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TextIO

from bot.settings import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "***"
# Libraries that log each request's URL at INFO or DEBUG.
NOISY = ("httpx", "httpcore", "hpack", "tornado.access")


def secrets_of(settings: Settings) -> list[str]:
    """Every secret the settings hold, longest first (a token before its own tail)."""
    found: list[str] = []
    token = settings.telegram_bot_token
    if token:
        found.append(token)
        _, _, tail = token.partition(":")
        found.append(tail)  # the secret half, should something log it alone
    found += [
        settings.telegram_webhook_secret or "",
        settings.wechaty_puppet_service_token or "",
        *settings.wecom_webhook_keys,
    ]
    # Very short values would blank ordinary words: no real token is that short.
    return sorted({s for s in found if len(s) >= 6}, key=len, reverse=True)


class RedactSecrets(logging.Filter):
    """Replaces secrets in a record before any handler formats it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, HIDDEN)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is, still redacted
            message = f"{record.msg} {record.args}"
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(
    settings: Settings, stream: TextIO | None = None, level: str | None = None
) -> Callable[[], None]:
    """The process's log handler (stderr unless `stream`) and the redaction of `settings`'
    secrets. Redaction happens as each record is made (a record factory), not in one handler:
    wechaty's loggers have handlers of their own and do not propagate, and its puppet service
    logs the token at WARNING when an endpoint is set too. Returns a function that undoes it
    all (for tests)."""
    redact = RedactSecrets(secrets_of(settings))
    previous_factory = logging.getLogRecordFactory()

    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = previous_factory(*args, **kwargs)
        redact.filter(record)
        return record

    logging.setLogRecordFactory(make_record)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(redact)  # records made before the factory was in place
    root = logging.getLogger()
    root.addHandler(handler)
    levels = {name: logging.getLogger(name).level for name in (*NOISY, "alembic", "")}
    root.setLevel((level or settings.log_level).upper())
    for name in (*NOISY, "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)

    def undo() -> None:
        logging.setLogRecordFactory(previous_factory)
        root.removeHandler(handler)
        for name, value in levels.items():
            logging.getLogger(name).setLevel(value)

    return undo
