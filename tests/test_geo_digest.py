"""The digest's hotspot map: the week's tickets over the grids, grids shaded by open tickets."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.cli import main
from bot.cli.seed import Plan, seed
from bot.cli.seed_geo import add_sample_grids
from handlers import digest
from handlers.deps import Deps
from handlers.periods import week_span
from storage import geo as store
from storage.db import Database
from storage.media import MediaStore
from storage.stats import open_at

END = datetime(2026, 11, 23, 4, 0)
WEEK = "2026-W46"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("geo-digest") / "seed.db"
    seed(path, Plan(tickets=3000, groups=5, riders=120, days=35, end=END))
    add_sample_grids(path)
    return path


@pytest.fixture
async def deps(seeded):
    db = Database(f"sqlite:///{seeded}")
    yield Deps(db=db, media=MediaStore("unused"), clock=lambda: END)
    await db.dispose()


def _open_by_grid_by_hand(path: Path, end: datetime) -> Counter:
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT grid, status, created_at, resolved_at, closed_at FROM ticket WHERE grid IS NOT NULL"
    ).fetchall()
    con.close()
    stamp = end.isoformat(sep=" ")
    counts: Counter = Counter()
    for grid, status, created, resolved, closed in rows:
        if created >= stamp:
            continue
        still_open = status in ("new", "accepted", "dispatched")
        solved_later = resolved is not None and resolved >= stamp
        closed_later = status in ("rejected", "duplicate") and closed and closed >= stamp
        if still_open or solved_later or closed_later:
            counts[grid] += 1
    return counts


async def test_the_map_shades_grids_by_the_tickets_open_at_the_weeks_end(deps, seeded):
    span = week_span(WEEK, "Asia/Shanghai")
    async with deps.db.read() as s:
        counted = await store.open_by_grid(s, open_at(span.end))
        points = await store.week_points(s, span.start, span.end)
    assert counted == _open_by_grid_by_hand(seeded, span.end) and sum(counted.values()) > 0
    assert len(points) > 100 and any(outside for *_, outside in points)
    result = await digest.build(deps, WEEK, END)
    image = Image.open(io.BytesIO(result.map_png))
    assert image.format == "PNG" and image.size == (1000, 900)
    messages = digest.messages(result, "telegram", "-100", "zh_CN")
    kinds = [(m.attachment.filename if m.attachment else "text") for m in messages]
    assert kinds == [
        "text",
        f"woodpecker-{WEEK}.png",
        f"woodpecker-{WEEK}-map.png",
        f"woodpecker-{WEEK}.xlsx",
    ]
    wecom = digest.messages(result, "wecom", "robot", "zh_CN")
    assert [m.attachment.kind for m in wecom[1:]] == ["photo", "photo"]  # chart, map


def test_woodpecker_seed_loads_the_sample_grids_and_the_digest_draws_the_map(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    db = tmp_path / "seed.db"
    assert main(["seed", "--db", str(db), "--tickets", "400", "--weeks", "2"]) == 0
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{db}")
    capsys.readouterr()
    assert main(["grids", "list"]) == 0
    assert len(capsys.readouterr().out.strip().split("\n")) == 8
    assert main(["stations", "list"]) == 0
    assert len(capsys.readouterr().out.strip().split("\n")) == 6
    out = tmp_path / "out"
    assert main(["digest", "--db", str(db), "--out", str(out)]) == 0
    assert any(p.name.endswith("-map.png") for p in out.iterdir())


def _by_hand(path: Path, column: str, start: datetime, end: datetime) -> tuple[Counter, Counter]:
    con = sqlite3.connect(path)
    a, b = start.isoformat(sep=" "), end.isoformat(sep=" ")
    rows = con.execute(
        f"SELECT street, district FROM ticket WHERE {column} >= ? AND {column} < ?", (a, b)
    ).fetchall()
    con.close()
    return Counter(street for street, _ in rows), Counter(district for _, district in rows)


async def test_a_streets_digest_counts_its_street_and_a_districts_sets_its_streets_side_by_side(
    deps, seeded
):
    span = week_span(WEEK, "Asia/Shanghai")
    new_by_street, new_by_district = _by_hand(seeded, "created_at", span.start, span.end)
    solved_by_street, _ = _by_hand(seeded, "resolved_at", span.start, span.end)
    street = await digest.build(deps, WEEK, END, area=("街道", "友谊路街道"))
    assert street.numbers.new == new_by_street["友谊路街道"] > 0
    assert street.numbers.resolved == solved_by_street["友谊路街道"]
    assert street.text.startswith("【友谊路街道】📊 啄木鸟周报")
    everything = await digest.build(deps, WEEK, END)
    assert street.numbers.new < everything.numbers.new  # not the whole programme's
    district = await digest.build(deps, WEEK, END, area=("区", "宝山区"))
    assert district.numbers.new == new_by_district["宝山区"]
    sides = {row.title: row.new for row in district.numbers.by_area}
    assert sides == {k: v for k, v in new_by_street.items() if k} and len(sides) == 2
    assert "各街道：" in district.text and "吴淞街道：新 " in district.text


async def test_subscribed_area_chats_are_told_their_own_area(deps):
    async with deps.db.write() as s:
        from storage import repository as repo
        from storage import scheduling

        for chat_id in ("-1001000000101", "-1001000000201", "-100999"):
            chat = await repo.upsert_chat(s, "telegram", chat_id, None, True, END)
            await scheduling.subscribe(s, chat.id, None, END)
    areas = await digest.subscribed_areas(deps)
    assert sorted(areas.values()) == [("区", "宝山区"), ("街道", "友谊路街道")]  # not -100999
