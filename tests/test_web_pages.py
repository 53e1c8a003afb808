"""The desk's pages over HTTP (the browser tests cover the clicking): what each role sees, the
list's filters, sorting, pages and exports as SQL does them, the ticket's whole history, the
digest archive, /healthz and /metrics."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import eviltransform
import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.web.app import create_app
from handlers import roles, runs, subscriptions
from handlers.digest import run_weekly_digest
from handlers.types import Sender
from storage import access
from storage import repository as repo
from storage.models import Chat, Member, Ticket, TicketEvent, WebLink, WebSession
from tests.conftest import both_backends, send
from tests.images import jpeg
from tests.web import signed_in

NUMBER = re.compile(r'data-number="(\d+)"')


@pytest.fixture
def app(bot, settings):
    return create_app(bot.deps, settings)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk.test")


async def two_groups(bot, clock) -> dict[str, int]:
    """Two groups' tickets of every kind, written straight into the tables."""
    now = clock()
    async with bot.db.write() as s:
        a = Chat(
            platform="local", chat_id="g-a", title="友谊路骑手群", enabled=True, created_at=now
        )
        b = Chat(
            platform="local", chat_id="g-b", title="长江南路骑手群", enabled=True, created_at=now
        )
        rider = Member(platform="local", user_id="u-1", name="老王", created_at=now)
        s.add_all([a, b, rider])
        await s.flush()
        rows = [  # (group, status, category, tier, days old)
            (a, "new", "井盖损坏", 0, 0),
            (a, "accepted", "道路积水", 0, 2),
            (a, "dispatched", "井盖损坏", 2, 5),
            (a, "resolved", "飞线充电", 1, 9),
            (a, "rejected", "其他", 0, 40),
            (b, "new", "井盖损坏", 0, 1),
            (b, "dispatched", "乱堆乱放", 3, 8),
        ]
        for chat, status, category, tier, days in rows:
            at = now - timedelta(days=days)
            s.add(
                Ticket(
                    chat_pk=chat.id, reporter_pk=rider.id, status=status, category=category,
                    tier=tier, lat=31.4, lon=121.48, source_message_id=f"m{days}",
                    created_at=at, updated_at=at,
                )
            )  # fmt: skip
    return {"a": a.id, "b": b.id}


async def numbers(c: httpx.AsyncClient, query: str = "") -> list[int]:
    page = await c.get(f"/tickets?{query}")
    assert page.status_code == 200, page.text
    return [int(n) for n in NUMBER.findall(page.text)]


@both_backends
async def test_the_list_filters_sorts_and_pages_in_the_database(app, bot, clock):
    await two_groups(bot, clock)
    await roles.grant_role(bot.deps, "local", "u-peng", "secretary", "g-a", "彭文兴")
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-peng", "彭文兴")
        assert await numbers(c) == [3, 2, 1]  # open ones of group A, newest first
        assert await numbers(c, "state=all") == [5, 4, 3, 2, 1]
        assert await numbers(c, "state=closed") == [5, 4]
        assert await numbers(c, "state=new") == [1]
        assert await numbers(c, "state=all&category=井盖损坏") == [3, 1]
        assert await numbers(c, "state=all&tier=2") == [3]
        assert await numbers(c, "state=all&tier=0") == [5, 2, 1]
        assert await numbers(c, "state=all&age=7") == [5, 4]
        assert await numbers(c, "overdue=1") == [3]  # open past SLA_RESOLVE_DAYS (3)
        assert await numbers(c, "state=all&q=%234") == [4]
        assert await numbers(c, "state=all&q=6") == []  # group B's: not this secretary's
        assert await numbers(c, "state=all&group=2") == []
        assert await numbers(c, "state=all&sort=old") == [1, 2, 3, 4, 5]
        assert await numbers(c, "state=all&sort=category") == [3, 1, 5, 2, 4]  # code points
        page = await c.get("/tickets?state=all")
        assert "共 5 张" in page.text and "老王" in page.text


async def test_pages_of_fifty_and_exports_of_the_whole_filter(app, bot, clock):
    now = clock()
    async with bot.db.write() as s:
        chat = Chat(platform="local", chat_id="g-a", title="友谊路骑手群", created_at=now)
        rider = Member(platform="local", user_id="u-1", name="老王", created_at=now)
        s.add_all([chat, rider])
        await s.flush()
        for i in range(120):
            category = "井盖损坏" if i % 2 else "道路积水"
            s.add(
                Ticket(
                    chat_pk=chat.id, reporter_pk=rider.id, category=category, lat=31.4,
                    lon=121.48, source_message_id=str(i), created_at=now, updated_at=now,
                )
            )  # fmt: skip
    await roles.grant_role(bot.deps, "local", "u-admin", "admin", None, "运营")
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-admin", "运营")
        first = await numbers(c, "category=井盖损坏")
        second = await numbers(c, "category=井盖损坏&page=2")
        assert len(first) == 50 and len(second) == 10 and set(first).isdisjoint(second)
        page = await c.get("/tickets?category=井盖损坏")
        assert "第 1 / 2 页" in page.text and "page=2" in page.text
        sheet = await c.get("/tickets.xlsx?category=井盖损坏")
        assert sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
        rows = list(load_workbook(io.BytesIO(sheet.content)).active.values)
        assert rows[0][:3] == ("编号", "类别", "状态") and len(rows) == 61
        assert {r[1] for r in rows[1:]} == {"井盖损坏"}
        text = (await c.get("/tickets.csv?category=井盖损坏&lang=x")).content.decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(text)))
        assert len(lines) == 61 and sorted(int(r[0]) for r in lines[1:]) == sorted(first + second)


async def test_who_sees_what(app, bot, clock):
    ids = await two_groups(bot, clock)
    await roles.grant_role(bot.deps, "local", "u-off", "official", "g-b", "街道王科长")
    await roles.grant_role(bot.deps, "local", "u-shop", "merchant", "g-a", "张记面馆")
    await roles.grant_role(bot.deps, "local", "u-city", "official", None, "区社工部")
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-off", "街道王科长")
        assert await numbers(c, "state=all") == [7, 6]  # the official's area: group B
        assert (await c.get("/tickets/1")).status_code == 404
        assert (await c.get("/tickets/6")).status_code == 200
        assert "do-accept" not in (await c.get("/tickets/6")).text  # sees, does not run
        assert (await c.get("/digests")).status_code == 200
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-shop", "张记面馆")
        assert await numbers(c, "state=all") == []
        assert (await c.get("/digests")).status_code == 403
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-city", "区社工部")
        assert await numbers(c, "state=all") == [7, 6, 5, 4, 3, 2, 1]
        points = (await c.get(f"/map/points.json?state=all&group={ids['b']}")).json()["points"]
        assert [p[0] for p in points] == [7, 6]
    async with client(app) as c:
        assert (await c.get("/tickets")).status_code == 401
        assert (await c.get("/map/points.json")).status_code == 401


async def test_the_ticket_page_shows_every_audit_row_and_merged_reports(
    app, bot, chat, laowang, xiaoli
):
    await roles.grant_role(bot.deps, chat.platform, "u-peng", "secretary", chat.chat_id, "彭文兴")
    await send(bot, chat, laowang, photos=[jpeg(1)], text="井盖坏了")
    await send(bot, chat, laowang, location=(31.4, 121.48))
    await send(bot, chat, xiaoli, photos=[jpeg(2)], text="这里井盖也坏了")
    await send(bot, chat, xiaoli, location=(31.4, 121.48))
    async with client(app) as c:
        csrf = await signed_in(c, bot.deps, chat.platform, "u-peng", "彭文兴")
        for form in (
            {"action": "accept"},
            {"action": "dispatch", "department": "城管", "tier": "2"},
            {"action": "escalate"},
        ):
            done = await c.post("/tickets/1/act", data={**form, "csrf": csrf})
            assert done.status_code == 303
        await bot.handle(chat.message(bot_user(), text="重复 2 1"))
        page = (await c.get("/tickets/1")).text
        assert "已派单 · 城管 · 三级（区）" in page
        for line in ("上报", "受理", "派单", "升级"):
            assert f"<td>{line}" in page
        assert "合并进来的重复上报" in page and 'href="/tickets/2"' in page and "小李" in page
        assert (await c.get("/tickets/2")).text.count("是 #1 的重复上报") == 1
    async with bot.db.read() as s:
        tiers = await s.execute(select(TicketEvent.tier).where(TicketEvent.ticket_id == 1))
        assert [t for t in tiers.scalars()] == [None, None, 2, 3]


def bot_user() -> Sender:
    return Sender("u-peng", "彭文兴")


async def test_the_digest_archive_keeps_what_was_sent_and_the_week_so_far(app, bot, chat, clock):
    await runs.mark_started(bot.deps, clock() - timedelta(days=30))
    await subscriptions.subscribe_chat(bot.deps, chat.platform, chat.chat_id)
    assert await run_weekly_digest(bot.deps, clock()) == 1
    await roles.grant_role(bot.deps, chat.platform, "u-off", "official", None, "区社工部")
    async with client(app) as c:
        await signed_in(c, bot.deps, chat.platform, "u-off", "区社工部")
        archive = (await c.get("/digests")).text
        assert "2026-W46" in archive and "本周（截至现在）" in archive and "2026-W47" in archive
        week = (await c.get("/digests/2026-W46")).text
        assert "2026-W46 周报" in week and "/digests/2026-W46/digest.png" in week
        png = await c.get("/digests/2026-W46/digest.png")
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
        xlsx = await c.get("/digests/2026-W46/digest.xlsx")
        assert xlsx.content.startswith(b"PK")
        assert (await c.get("/digests/2026-W47/digest.png")).status_code == 200
        assert (await c.get("/digests/2025-W01")).status_code == 404  # never sent


async def test_healthz_and_metrics(app, bot, chat, laowang):
    await send(bot, chat, laowang, photos=[jpeg(1)], text="井盖坏了")
    await send(bot, chat, laowang, location=(31.4, 121.48))
    async with client(app) as c:
        health = (await c.get("/healthz")).json()
        assert health["ok"] and health["database"] == "ok"
        assert health["outbox"] == {"depth": 0, "oldest_seconds": 0, "dead": 0}
        assert health["last_update"]["local"].startswith("2026-11-20T02:00")
        await c.get("/tickets")
        text = (await c.get("/metrics")).text
    assert 'woodpecker_tickets{state="new"} 1.0' in text
    assert 'woodpecker_updates_total{platform="local"} 2.0' in text
    assert "woodpecker_outbox_depth 0.0" in text
    assert "woodpecker_send_failures_total 0.0" in text
    assert 'woodpecker_web_requests_total{endpoint="list_page",method="GET",status="401"}' in text


async def test_the_session_cookie_is_httponly_lax_and_secure_over_https(bot, settings):
    https = settings.model_copy(update={"web_base_url": "https://desk.example.cn"})
    await roles.grant_role(bot.deps, "local", "u-admin", "admin", None, "运营")
    async with client(create_app(bot.deps, https)) as c:
        async with bot.db.write() as s:
            member = await repo.find_member(s, "local", "u-admin")
            now = bot.deps.clock()
            await access.add_link(s, "secret-link", member.id, now, now + timedelta(minutes=5))
        signed = await c.post("/login/secret-link")
    cookie = signed.headers["set-cookie"]
    assert signed.status_code == 303 and cookie.startswith("wp_session=")
    assert all(flag in cookie for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"))
    async with bot.db.read() as s:
        stored = [*(await s.execute(select(WebSession.token_hash))).scalars()]
        stored += [*(await s.execute(select(WebLink.token_hash))).scalars()]
    secret = cookie.split(";")[0].split("=", 1)[1]
    assert secret not in stored and "secret-link" not in stored  # only hashes are kept


@pytest.mark.parametrize("tiles", ["amap", "osm"])
async def test_map_points_sit_on_the_tiles_datum(bot, settings, clock, tiles):
    """Amap draws GCJ-02: our WGS-84 points are shifted onto it (~500 m here); OSM is WGS-84."""
    await two_groups(bot, clock)
    await roles.grant_role(bot.deps, "local", "u-admin", "admin", None, "运营")
    app = create_app(bot.deps, settings.model_copy(update={"web_tiles": tiles}))
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-admin", "运营")
        [first, *_] = (await c.get("/map/points.json")).json()["points"]
        page = (await c.get("/map")).text
    expected = eviltransform.wgs2gcj(31.4, 121.48) if tiles == "amap" else (31.4, 121.48)
    assert first[1:3] == [round(expected[0], 6), round(expected[1], 6)]
    host = "autonavi.com" if tiles == "amap" else "tile.openstreetmap.org"
    assert host in page


async def test_a_session_ends_after_web_session_hours(app, bot, clock):
    await roles.grant_role(bot.deps, "local", "u-admin", "admin", None, "运营")
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-admin", "运营")
        clock.advance(hours=11)
        assert (await c.get("/tickets")).status_code == 200
        clock.advance(hours=2)  # WEB_SESSION_HOURS is 12
        gone = await c.get("/tickets")
    assert gone.status_code == 401 and "/web" in gone.text


async def test_a_role_taken_away_stops_showing_at_once(app, bot, clock):
    await two_groups(bot, clock)
    await roles.grant_role(bot.deps, "local", "u-peng", "secretary", "g-a", "彭文兴")
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-peng", "彭文兴")
        assert await numbers(c) == [3, 2, 1]
        await roles.revoke_role(bot.deps, "local", "u-peng", "secretary", "g-a")
        assert await numbers(c) == []
        assert (await c.get("/tickets/1")).status_code == 404


async def test_the_map_draws_the_grids_outlines_on_the_tiles_datum(bot, settings, clock):
    from importlib.resources import files

    from bot.web.server import grid_outlines
    from handlers.geo.grids import import_grids

    sample = files("handlers").joinpath("data/sample_grids.geojson").read_bytes()
    await import_grids(bot.deps, sample)
    await roles.grant_role(bot.deps, "local", "u-admin", "admin", None, "运营")
    amap = settings.model_copy(update={"web_tiles": "amap"})
    app = create_app(bot.deps, amap, grid_outlines(bot.deps, amap))
    async with client(app) as c:
        await signed_in(c, bot.deps, "local", "u-admin", "运营")
        page = (await c.get("/map")).text
        outlines = (await c.get("/map/grids.geojson")).json()
    assert 'data-grids="/map/grids.geojson"' in page
    by_name = {f["properties"]["name"]: f for f in outlines["features"]}
    assert len(by_name) == 8 and by_name["友谊一网格"]["properties"]["level"] == "网格"
    [ring] = by_name["友谊一网格"]["geometry"]["coordinates"]
    mine = json.loads(sample)["features"]
    [raw] = [f for f in mine if f["properties"]["name"] == "友谊一网格"]
    lon, lat = raw["geometry"]["coordinates"][0][0]
    shifted = eviltransform.wgs2gcj(lat, lon)  # the file is WGS-84; Amap draws GCJ-02
    assert abs(ring[0][0] - shifted[1]) < 1e-6 and abs(ring[0][1] - shifted[0]) < 1e-6


async def test_a_streets_official_sees_and_runs_the_tickets_in_the_street_at_the_desk(
    app, bot, clock
):
    from handlers.geo.grids import import_grids
    from tests.scenarios import grids_geojson

    await two_groups(bot, clock)
    async with bot.db.write() as s:  # tickets 1-3 lie in the street, the rest elsewhere
        for ticket in (await s.execute(select(Ticket))).scalars():
            ticket.street = "友谊路街道" if ticket.id <= 3 else "吴淞街道"
            ticket.grid = "友谊一网格" if ticket.id <= 3 else "吴淞一网格"
        (await s.get(Ticket, 3)).tier = 2  # whistled up to the street
    await import_grids(bot.deps, grids_geojson("local:g-a", "local:street-1", (31.4, 121.48)))
    await roles.grant_role(bot.deps, "local", "u-wang", "official", "street-1", "王主任")
    async with client(app) as c:
        csrf = await signed_in(c, bot.deps, "local", "u-wang", "王主任")
        assert await numbers(c, "state=all") == [3, 2, 1]  # the street's, not group B's
        assert (await c.get("/tickets/6")).status_code == 404
        assert "do-resolve" in (await c.get("/tickets/3")).text
        done = await c.post(
            "/tickets/3/act", data={"csrf": csrf, "action": "resolve", "note": "已清理"}
        )
        assert done.status_code in (200, 303), done.text
    async with bot.db.read() as s:
        ticket = await s.get(Ticket, 3)
        actor = (
            await s.execute(
                select(Member.name)
                .join(TicketEvent, TicketEvent.actor_pk == Member.id)
                .where(TicketEvent.ticket_id == 3)
            )
        ).scalar()
    assert (ticket.status, ticket.note, actor) == ("resolved", "已清理", "王主任")
