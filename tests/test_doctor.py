"""`woodpecker doctor` on a healthy and on a broken setup; Telegram is the fake Bot API."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from alembic.script import ScriptDirectory

from bot.cli import main as cli
from storage.migrate import alembic_config
from tests.conftest import TELEGRAM_TOKEN

HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


async def doctor(capsys, *args: str) -> tuple[int, list[str]]:
    """The command line, in a thread (it runs its own loop; the fake API runs on this one)."""
    code = await asyncio.to_thread(cli, ["doctor", *args])
    return code, capsys.readouterr().out.strip().split("\n")


@pytest.fixture
def setup(tmp_path, monkeypatch, api):
    """A machine set up as the README says: a migrated database, a media folder, a token."""
    for name, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path}/wp.db",
        "MEDIA_DIR": str(tmp_path / "media"),
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_BASE_URL": api.base_url,
        "ALLOWED_CHATS": "-1001",
        "ADMIN_USER_IDS": "9001",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert cli(["db", "upgrade", "--create"]) == 0
    (tmp_path / "media").mkdir()
    return tmp_path


async def test_a_healthy_setup_passes_every_check(setup, capsys):
    code, lines = await doctor(capsys)
    assert code == 0, lines
    assert all(line.startswith("✓ ") for line in lines), lines
    text = "\n".join(lines)
    assert f"migrations up to date ({HEAD})" in text
    assert "media" in text and "writable" in text and "GB free" in text
    assert "Telegram 令牌 token: valid: @woodpecker_bot" in text
    assert "long polling (no webhook set)" in text
    assert "NotoSansCJK" in text or ".ttc" in text
    assert TELEGRAM_TOKEN not in text


async def test_a_broken_setup_says_what_to_do_for_each_failure(setup, capsys, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{setup}/typo.db")
    (setup / "not-a-folder").write_text("x")
    monkeypatch.setenv("MEDIA_DIR", str(setup / "not-a-folder"))
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "654321:revoked")
    code, lines = await doctor(capsys)
    assert code == 1
    failed = {line.split(":")[0]: line for line in lines if line.startswith("✗ ")}
    assert set(failed) == {"✗ 数据库 database", "✗ 照片目录 media", "✗ Telegram 令牌 token"}, lines
    assert all(" → " in line for line in failed.values())
    assert "typo.db" in failed["✗ 数据库 database"] and "--create" in failed["✗ 数据库 database"]
    assert "rejected TELEGRAM_BOT_TOKEN" in failed["✗ Telegram 令牌 token"]
    assert not (setup / "typo.db").exists()  # the doctor changes nothing


async def test_a_database_behind_on_migrations_is_a_failure(setup, capsys):
    sqlite3.connect(setup / "empty.db").close()
    code, lines = await doctor(capsys, "--db", str(setup / "empty.db"))
    assert code == 1
    [line] = [x for x in lines if x.startswith("✗ ")]
    assert f"empty (no tables); this version needs {HEAD} → woodpecker db upgrade" in line


async def test_the_webhook_state_is_checked_against_the_settings(setup, capsys, monkeypatch, api):
    api.webhook_url = "https://old.example.org/hook"  # another deployment's, say
    code, lines = await doctor(capsys)
    assert code == 0
    [line] = [x for x in lines if x.startswith("! Telegram 接收 updates")]
    assert "a webhook is set (https://old.example.org/hook)" in line and "deletes it" in line

    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://old.example.org/hook")
    code, lines = await doctor(capsys)
    assert code == 0
    assert "✓ Telegram 接收 updates: webhook https://old.example.org/hook, 0 waiting" in lines

    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook")
    code, lines = await doctor(capsys)
    assert code == 1
    assert any(x.startswith("✗ Telegram 接收 updates") and "not https" in x for x in lines)
