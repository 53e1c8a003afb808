"""The command line as a new operator meets it: one database option for every tool, a sentence
(never a traceback) for every error, and progress for what takes long."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import TELEGRAM_TOKEN
from tests.console_session import cli_env
from tests.fakes.telegram_api import FakeTelegramAPI

QUIET = {"ALLOWED_CHATS": "-100", "LOG_LEVEL": "WARNING"}  # no warning lines of their own


def woodpecker(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env=cli_env(tmp_path, **QUIET, **env),
        stdin=subprocess.DEVNULL,
    )


async def woodpecker_async(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    """The same, while this test's loop keeps serving a fake server the command talks to."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args,
        cwd=tmp_path, env=cli_env(tmp_path, **QUIET, **env),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    return proc.returncode, err.decode()


def one_sentence(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and len(lines) == 1, stderr
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("sqlite+aiosqlite//data/wp.db", "DATABASE_URL"),
        ("mysql://woodpecker:secret@localhost/woodpecker", "mysql"),
        ("postgresql://woodpecker:secret@127.0.0.1:{port}/woodpecker", "127.0.0.1:{port}"),
    ],
    ids=["malformed", "unsupported", "unreachable"],
)
def test_a_bad_database_url_is_one_sentence_not_a_traceback(tmp_path, url, named):
    port = str(closed_port())
    result = woodpecker(tmp_path, "roles", "list", DATABASE_URL=url.format(port=port))
    assert result.returncode != 0
    line = one_sentence(result.stderr)
    assert named.format(port=port) in line and "secret" not in line


def test_run_without_a_terminal_still_notices_a_bad_database_url(tmp_path):
    result = woodpecker(tmp_path, "run", DATABASE_URL="mysql://u@localhost/woodpecker")
    assert result.returncode != 0
    assert "mysql" in one_sentence(result.stderr)


@pytest.mark.parametrize("problem", ["rejected", "unreachable"])
async def test_a_bad_or_unreachable_telegram_token_is_one_sentence(tmp_path, problem):
    async with FakeTelegramAPI(token=TELEGRAM_TOKEN) as api:
        if problem == "rejected":
            token, base = "654321:not-the-token", api.base_url
        else:
            token, base = TELEGRAM_TOKEN, f"http://127.0.0.1:{closed_port()}/bot"
        code, err = await woodpecker_async(
            tmp_path, "run", "--create",
            DATABASE_URL=f"sqlite:///{tmp_path}/wp.db",
            TELEGRAM_BOT_TOKEN=token, TELEGRAM_BASE_URL=base,
        )  # fmt: skip
    assert code != 0
    line = one_sentence(err)
    assert "Telegram" in line and (token not in line)


@pytest.mark.parametrize(
    "command",
    [
        ["digest", "--week", "2026-W46", "--out", "{tmp}/out"],
        ["report", "commendation", "--year", "2026", "--out", "{tmp}/c.xlsx"],
        ["roles", "list"],
        ["tickets", "show", "1"],
        ["db", "upgrade"],
        ["console"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
@pytest.mark.parametrize("given", ["--db", "DATABASE_URL"])
def test_every_tool_refuses_a_database_file_that_does_not_exist(tmp_path, command, given):
    typo = tmp_path / "wodpecker.db"
    args = [a.format(tmp=tmp_path) for a in command]
    env = {}
    if given == "--db" or command == ["console"]:
        args += ["--db", str(typo)]
    else:
        env["DATABASE_URL"] = f"sqlite:///{typo}"
    result = woodpecker(tmp_path, *args, **env)
    assert result.returncode != 0
    line = one_sentence(result.stderr)
    assert str(typo) in line and "--create" in line
    assert not typo.exists() and not (tmp_path / "c.xlsx").exists()
    assert not (tmp_path / "out").exists()


def test_create_makes_the_database_when_asked(tmp_path):
    fresh = tmp_path / "new" / "wp.db"
    result = woodpecker(tmp_path, "roles", "list", "--db", str(fresh), "--create")
    assert result.returncode == 0, result.stderr
    assert fresh.exists()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    from bot.cli.seed import Plan, seed

    path = tmp_path_factory.mktemp("seeded") / "seed.db"
    seed(path, Plan(tickets=600, groups=3, riders=40, days=21, end=datetime(2026, 11, 23, 4)))
    return path


def test_the_commendation_reads_the_database_given_with_db(tmp_path, seeded):
    out = tmp_path / "c.xlsx"
    result = woodpecker(
        tmp_path, "report", "commendation", "--year", "2026", "--out", str(out),
        "--db", str(seeded), DATABASE_URL=f"sqlite:///{tmp_path}/elsewhere.db",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "40 人 riders" in result.stdout
    assert load_workbook(out)["个人-积分"].max_row == 1 + 20  # the top 20 of 40
    assert not (tmp_path / "elsewhere.db").exists()


def test_seed_shows_its_progress_when_asked(tmp_path):
    db = tmp_path / "seed.db"
    shown = woodpecker(tmp_path, "seed", "--db", str(db), "--tickets", "1200", "--progress")
    assert shown.returncode == 0, shown.stderr
    assert "1200/1200" in shown.stderr
    again = woodpecker(tmp_path, "seed", "--db", str(db), "--tickets", "1200")
    assert again.returncode != 0 and "--replace" in one_sentence(again.stderr)
    quiet = woodpecker(tmp_path, "seed", "--db", str(db), "--tickets", "1200", "--replace")
    assert quiet.returncode == 0 and quiet.stderr == ""  # not a terminal, not asked


def test_the_digest_shows_its_steps_when_asked(tmp_path, seeded):
    result = woodpecker(tmp_path, "digest", "--week", "2026-W46", "--out", str(tmp_path),
                        "--db", str(seeded), "--progress")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "4/4" in result.stderr


def test_a_mistyped_command_line_is_one_sentence(tmp_path):
    result = woodpecker(tmp_path, "roles", "frob")
    assert result.returncode == 2
    assert "'frob'" in one_sentence(result.stderr) and "woodpecker roles --help" in result.stderr
