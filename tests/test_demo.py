"""`woodpecker demo` on a fresh directory prints the scene and leaves one ticket per report."""

from __future__ import annotations

import sqlite3
import subprocess
import sys


def test_demo_prints_the_transcript_and_leaves_the_tickets(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--db", str(tmp_path / "demo.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "MEDIA_DIR": str(tmp_path / "media"), "PYTHONPATH": _root()},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "已登记 #1 共享单车乱停" in out and "已登记 #2 井盖损坏" in out
    assert "图片打不开" in out
    # Two acknowledgements and the broken file's answer: the chatter got no answer, and the
    # location sent right after the photo left nothing to ask.
    assert "中午吃啥" in out and out.count("🐦") == 3
    with sqlite3.connect(tmp_path / "demo.db") as db:
        assert db.execute("select count(*) from ticket").fetchone() == (2,)
        # Two riders' different photos: neither is taken for a recycled copy of the other.
        assert db.execute(
            "select count(*) from ticket where recycled_of is not null"
        ).fetchone() == (0,)


def _root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parent.parent)
