"""The schema comes from Alembic and matches the models on SQLite (in WAL mode) and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import alembic_config, upgrade
from tests.conftest import both_backends


@both_backends
async def test_migrations_build_exactly_the_models_and_rerun_harmlessly(settings, backend):
    await upgrade(settings.database_url)
    await upgrade(settings.database_url)  # the bot upgrades at every start
    db = Database(settings.database_url)
    async with db.engine.connect() as conn:
        assert conn.dialect.name == backend
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), SQLModel.metadata)
        )
        if backend == "sqlite":
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        else:
            head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            assert head == ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    await db.dispose()
    assert diff == []


async def test_plain_sqlite_url_gets_the_async_driver(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/x.db")
    assert db.url.startswith("sqlite+aiosqlite:///")
    await db.dispose()
