"""Open311 GeoReport v2 on the desk's port, checked against the specification's field lists, on
SQLite and PostgreSQL: services, requests (filters), one request, tokens, POST with and without a
key. The reporter's name never leaves; a photo's URL only once it is cleared for the public."""

from __future__ import annotations

import asyncio
from xml.etree import ElementTree

import httpx
import pytest
from sqlalchemy import select

from bot.cli import main
from bot.web.app import create_app
from handlers import open311, roles
from storage.models import Photo
from tests.conftest import both_backends, send
from tests.images import jpeg
from tests.web import signed_in

pytestmark = both_backends

SERVICE = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
}  # fmt: skip
POSTED = {"service_request_id", "token", "service_notice", "account_id"}
ERROR = {"code", "description"}
SPOT = (31.40512, 121.48931)


@pytest.fixture
def app(bot, settings):
    return create_app(bot.deps, settings)


def client(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk.test")


@pytest.fixture
async def desk(app):
    async with client(app) as c:
        yield c


@pytest.fixture
async def key(bot, chat) -> str:
    return await open311.create_key(bot.deps, "12345热线", chat.platform, chat.chat_id)


def report(key: str, **extra) -> dict:
    return {
        "api_key": key,
        "service_code": "井盖损坏",
        "lat": str(SPOT[0]),
        "long": str(SPOT[1]),
        "description": "人行道井盖松动",
        "address_string": "友谊路 1 号",
        "first_name": "李",
        "last_name": "市民",
        "email": "li@example.cn",
        **extra,
    }


async def test_services_list_every_category_with_the_georeport_fields(desk):
    answer = await desk.get("/open311/v2/services.json")
    assert answer.status_code == 200
    services = answer.json()
    assert all(set(s) == SERVICE for s in services)
    codes = [s["service_code"] for s in services]
    assert "井盖损坏" in codes and "其他" in codes
    assert all(s["metadata"] is False and s["type"] == "realtime" for s in services)
    xml = ElementTree.fromstring((await desk.get("/open311/v2/services.xml")).content)
    assert xml.tag == "services" and {c.tag for c in xml[0]} == SERVICE


async def test_a_post_with_a_key_makes_a_ticket_in_the_keys_group(desk, bot, chat, key):
    posted = await desk.post("/open311/v2/requests.json", data=report(key))
    assert posted.status_code == 201
    [item] = posted.json()
    assert set(item) == POSTED and item["service_request_id"] == "1"
    await bot.flush()
    [card] = chat.pop()
    assert card.text.startswith("已登记 #1 井盖损坏") and card.chat_id == chat.chat_id

    [one] = (await desk.get("/open311/v2/requests/1.json")).json()
    assert set(one) == REQUEST
    assert (one["status"], one["status_notes"], one["service_code"]) == (
        "open",
        "待受理",
        "井盖损坏",
    )
    assert (one["lat"], one["long"]) == SPOT and one["media_url"] == ""
    assert one["requested_datetime"].endswith("+08:00")
    [token] = (await desk.get(f"/open311/v2/tokens/{item['token']}.json")).json()
    assert token == {"service_request_id": "1", "token": item["token"]}
    everything = (await desk.get("/open311/v2/requests.json")).text
    assert "李 市民" not in everything and "li@example.cn" not in everything

    async def ids(query: str) -> list[str]:
        answer = await desk.get(f"/open311/v2/requests.json?{query}")
        assert answer.status_code == 200
        assert all(set(r) == REQUEST for r in answer.json())
        return [r["service_request_id"] for r in answer.json()]

    assert await ids("status=open") == ["1"]
    assert await ids("status=closed") == []
    assert await ids("service_code=道路积水") == []
    assert await ids("service_code=道路积水,井盖损坏") == ["1"]
    assert await ids("start_date=2026-11-20T09:00:00%2B08:00") == ["1"]
    assert await ids("start_date=2026-11-20T11:00:00%2B08:00") == []
    assert await ids("service_request_id=1,2") == ["1"]
    xml = ElementTree.fromstring((await desk.get("/open311/v2/requests/1.xml")).content)
    assert xml.tag == "service_requests" and {c.tag for c in xml[0]} == REQUEST


async def test_a_post_without_a_good_key_is_refused_and_makes_nothing(desk, bot, chat, key):
    for form in (
        report(""),
        report("not-a-key"),
        {k: v for k, v in report(key).items() if k != "api_key"},
    ):
        refused = await desk.post("/open311/v2/requests.json", data=form)
        assert refused.status_code == 403
        [error] = refused.json()
        assert set(error) == ERROR and error["code"] == 403
    unknown = await desk.post("/open311/v2/requests.json", data=report(key, service_code="火星"))
    assert unknown.status_code == 404 and set(unknown.json()[0]) == ERROR
    nowhere = await desk.post("/open311/v2/requests.json", data=report(key, lat="", long=""))
    assert nowhere.status_code == 400
    assert (await desk.get("/open311/v2/requests.json")).json() == []
    missing = await desk.get("/open311/v2/requests/99.json")
    assert missing.status_code == 404 and set(missing.json()[0]) == ERROR
    await bot.flush()
    assert chat.pop() == []


async def test_a_photo_url_only_once_the_secretary_clears_it_for_the_public(
    app, desk, bot, chat, laowang
):
    await send(bot, chat, laowang, photos=[jpeg(5)], text="井盖坏了")
    await send(bot, chat, laowang, location=SPOT)
    [one] = (await desk.get("/open311/v2/requests/1.json")).json()
    assert one["media_url"] == ""
    async with bot.db.read() as s:
        photo = (await s.execute(select(Photo))).scalar_one()
    hidden = await desk.get(f"/open311/v2/media/{photo.id}.jpg")
    assert hidden.status_code == 404

    await roles.grant_role(bot.deps, chat.platform, "u-peng", "secretary", chat.chat_id, "彭文兴")
    csrf = await signed_in(desk, bot.deps, chat.platform, "u-peng", "彭文兴")
    cleared = await desk.post(
        f"/photos/{photo.id}/public", data={"csrf": csrf, "public": "1", "ticket": "1"}
    )
    assert cleared.status_code == 303
    [one] = (await desk.get("/open311/v2/requests/1.json")).json()
    assert one["media_url"].endswith(f"/open311/v2/media/{photo.id}.jpg")
    async with client(app) as stranger:  # no cookie, no key
        picture = await stranger.get(one["media_url"])
    assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8")
    everything = (await desk.get("/open311/v2/requests.json")).text
    assert laowang.name not in everything


def test_woodpecker_open311_key_create_gives_a_key_that_posts(settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEDIA_DIR", settings.media_dir)
    args = ["open311", "key", "create", "--name", "12345热线", "--chat", "g-1", "--create"]
    assert main(args) == 0
    key = capsys.readouterr().out.split()[0]
    assert main(["open311", "key", "list"]) == 0
    assert "12345热线\ttelegram:g-1\tlive" in capsys.readouterr().out

    async def post() -> int:
        from bot.app import Woodpecker

        core = Woodpecker(settings)
        try:
            app = create_app(core.deps, settings)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://d") as client:
                answer = await client.post("/open311/v2/requests.json", data=report(key))
                return answer.status_code
        finally:
            await core.close()

    assert asyncio.run(post()) == 201
    assert main(["open311", "key", "revoke", "--id", "1"]) == 0
    assert asyncio.run(post()) == 403


async def test_resolving_a_posted_report_tells_the_group_without_a_mention(desk, bot, chat, key):
    await desk.post("/open311/v2/requests.json", data=report(key))
    await roles.grant_role(bot.deps, chat.platform, "u-peng", "secretary", chat.chat_id, "彭文兴")
    csrf = await signed_in(desk, bot.deps, chat.platform, "u-peng", "彭文兴")
    form = {"csrf": csrf, "action": "resolve", "note": "已修复"}
    assert (await desk.post("/tickets/1/act", data=form)).status_code == 303
    await bot.flush()
    line = next(s for s in chat.pop() if not s.edited and "#1" in s.text and "已修复" in s.text)
    assert line.mentions == []
    [one] = (await desk.get("/open311/v2/requests/1.json")).json()
    assert (one["status"], one["status_notes"]) == ("closed", "已解决 · 已修复")
