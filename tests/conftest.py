from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import Woodpecker
from bot.local import LocalChat
from bot.settings import Settings
from handlers.types import Sender
from storage.models import Photo, Ticket
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.pg import pg_database, pg_server  # noqa: F401  (fixtures)


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 2, 0, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


BACKENDS = ["sqlite", "postgresql"]
# Runs a test (or, as `pytestmark`, a module) once on a SQLite file and once on PostgreSQL.
both_backends = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """The database a test runs on: its `both_backends` parameter, else SQLite (or, to try every
    such test on PostgreSQL, `WOODPECKER_TEST_BACKEND=postgresql ./test.sh`)."""
    return getattr(request, "param", os.environ.get("WOODPECKER_TEST_BACKEND", "sqlite"))


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database of the test's backend (PostgreSQL: on the session's server)."""
    if backend == "postgresql":
        return request.getfixturevalue("pg_database")
    return f"sqlite+aiosqlite:///{tmp_path / 'woodpecker.db'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        media_dir=str(tmp_path / "media"),
    )


@pytest.fixture
def chat() -> LocalChat:
    return LocalChat()


@pytest.fixture
async def bot(settings: Settings, chat: LocalChat, clock: FakeClock):
    app = Woodpecker(settings, [chat], clock=clock)
    await app.migrate()
    yield app
    await app.close()


@pytest.fixture
def laowang() -> Sender:
    return Sender("u-1", "老王")


@pytest.fixture
def xiaoli() -> Sender:
    return Sender("u-2", "小李")


async def send(bot: Woodpecker, chat: LocalChat, user: Sender, **kw) -> list:
    """Deliver one rider message, send what the bot owes, return what it said."""
    await bot.handle(chat.message(user, **kw))
    await bot.flush()
    return chat.pop()


async def after_grace(bot: Woodpecker, chat: LocalChat, clock: FakeClock) -> list:
    """Let the wait for a report's other half run out (PROMPT_GRACE_SECONDS, 30 by default),
    send what is due by then, return what the bot said."""
    clock.advance(seconds=bot.deps.config.prompt_grace.total_seconds())
    await bot.flush()
    return chat.pop()


async def tickets(bot: Woodpecker) -> list[Ticket]:
    async with bot.db.read() as s:
        return list((await s.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def photo_count(bot: Woodpecker, ticket_id: int) -> int:
    async with bot.db.read() as s:
        stmt = select(func.count()).select_from(Photo).where(Photo.ticket_id == ticket_id)
        return (await s.execute(stmt)).scalar_one()


TELEGRAM_TOKEN = "123456:TEST-token"


@pytest.fixture
async def api():
    """The fake Telegram Bot API on 127.0.0.1 that a test's bot talks to."""
    fake = FakeTelegramAPI(token=TELEGRAM_TOKEN, bot_username="woodpecker_bot")
    await fake.start()
    yield fake
    await fake.stop()
