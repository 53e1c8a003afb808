"""The schema comes from Alembic, matches the models, and SQLite runs in WAL mode."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import upgrade


async def test_migrations_build_exactly_the_models_and_rerun_harmlessly(settings):
    await upgrade(settings.database_url)
    await upgrade(settings.database_url)  # the bot upgrades at every start
    db = Database(settings.database_url)
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
        mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar()
    await db.dispose()
    assert diff == []
    assert mode == "wal"


async def test_plain_sqlite_url_gets_the_async_driver(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/x.db")
    assert db.url.startswith("sqlite+aiosqlite:///")
    await db.dispose()
