"""`woodpecker console`, typed into as a person would, in a real terminal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.console_session import Console, cli_env

BANNER = "以 {name} 的身份发言"
HELP = "随手拍两步"


@pytest.fixture
def consoles(tmp_path):
    """Start console sessions in tmp_path; every one is ended after the test."""
    started: list[Console] = []

    def start(*args: str, name: str = "老王", **env: str) -> Console:
        console = Console(["console", *args, "--name", name], cli_env(tmp_path, **env), tmp_path)
        started.append(console)
        console.expect(BANNER.format(name=name))
        return console

    yield start
    for console in started:
        console.close()


def woodpecker(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=cli_env(tmp_path, **env),
    )


def test_a_second_session_on_the_same_database_still_answers(consoles, tmp_path):
    db = str(tmp_path / "play.db")
    first = consoles("--db", db, "--create")
    first.type("/help")
    first.expect(HELP)
    first.type("/quit")
    assert first.wait() == 0
    second = consoles("--db", db)
    second.type("/help")
    second.expect(HELP)
    second.type("帮助")
    second.expect(HELP)
    second.type("待办")
    second.expect("本群没有未办结的工单")


def test_slash_commands_at_the_console_take_their_arguments(consoles, tmp_path):
    db = str(tmp_path / "play.db")
    made = woodpecker(tmp_path, "invite", "secretary", "--chat", "street-group",
                      "--platform", "local", "--db", db, "--create")  # fmt: skip
    assert made.returncode == 0, made.stderr
    code = made.stdout.split()[0]
    console = consoles("--db", db, name="彭文兴")
    console.type(f"/claim {code}")
    console.expect("彭文兴，你已成为本群书记。")
    console.type("/demo-photo 井盖松了")
    console.type("/loc 31.40512 121.48931")
    console.expect("已登记 #1 井盖损坏")
    console.type("/ticket 1")
    said = console.expect("经过：")
    assert "#1 井盖损坏 · 待受理" in said
    console.type("/accept 1")
    console.expect("#1 已受理")


def test_ctrl_c_leaves_the_console_at_once_without_a_traceback(consoles, tmp_path):
    console = consoles("--db", str(tmp_path / "play.db"), "--create")
    console.type("/help")
    console.expect(HELP)
    console.interrupt()
    assert console.wait(timeout=20) == 0
    assert "Traceback" not in console.output and "KeyboardInterrupt" not in console.output


def test_a_card_that_changes_shows_the_change_not_a_second_registration(consoles, tmp_path):
    console = consoles(
        "--db", str(tmp_path / "play.db"), "--create",
        name="彭文兴", ADMIN_USER_IDS="local:console-彭文兴",
    )  # fmt: skip
    console.type("/demo-photo 共享单车堵住路口")
    console.type("/loc 31.40512 121.48931")
    console.expect("已登记 #1 共享单车乱停")
    console.type("受理 1")
    console.expect("#1 已受理")
    console.type("派单 1 城管")
    said = console.expect("#1 已派单")
    console.type("/quit")
    assert console.wait() == 0
    assert console.output.count("已登记 #1") == 1
    assert "状态：已派单 · 城管" in said  # the change itself is shown


def test_the_console_plays_in_its_own_database_not_the_bots(consoles, tmp_path):
    production = tmp_path / "woodpecker.db"
    env = {"DATABASE_URL": f"sqlite:///{production}"}
    missing = woodpecker(tmp_path, "console", "--db", str(tmp_path / "typo.db"), **env)
    assert missing.returncode != 0
    assert "typo.db" in missing.stderr and "--create" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and not (tmp_path / "typo.db").exists()
    console = consoles("--db", str(tmp_path / "play.db"), "--create", **env)
    console.type("/demo-photo 井盖松了")
    console.type("/loc 31.40512 121.48931")
    console.expect("已登记 #1 井盖损坏")
    console.type("/quit")
    assert console.wait() == 0
    assert (tmp_path / "play.db").exists() and not production.exists()
