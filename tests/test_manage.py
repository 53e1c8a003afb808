"""The operator's command line: roles, invite codes, and a ticket's history."""

from __future__ import annotations

import pytest

from bot.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/wp.db")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    assert main(["db", "upgrade", "--create"]) == 0  # the tools refuse a missing file


def test_roles_are_granted_listed_and_revoked(env, capsys):
    assert main(["roles", "grant", "--user", "42", "--chat", "-100", "--name", "彭文兴"]) == 0
    assert main(["roles", "grant", "--user", "42", "--chat", "-100"]) == 0
    assert main(["roles", "list"]) == 0
    out = capsys.readouterr().out
    assert "granted / 已授予" in out and "already held / 已有该角色" in out
    assert "secretary\ttelegram:42\t彭文兴\t-100" in out
    assert main(["roles", "revoke", "--user", "42", "--chat", "-100"]) == 0
    assert main(["roles", "revoke", "--user", "42", "--chat", "-100"]) == 1
    assert main(["roles", "grant", "--user", "42"]) == 2  # a secretary needs a group


def test_invite_prints_a_code_to_claim(env, capsys):
    assert main(["invite", "secretary", "--chat", "-100"]) == 0
    code = capsys.readouterr().out.split("\n")[0]
    assert len(code) == 8 and code.isalnum() and code.isupper()


def test_tickets_show_prints_the_history(env, capsys, tmp_path):
    assert main(["demo", "--db", str(tmp_path / "wp.db")]) == 0
    capsys.readouterr()
    assert main(["tickets", "show", "2"]) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    assert lines[0].startswith("#2 井盖损坏 · 待受理")
    assert lines[2] == "经过：" and "小李 上报 → 待受理" in lines[3]
    assert main(["tickets", "show", "99"]) == 1
