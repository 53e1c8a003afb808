"""Helpers for the desk's tests: the real Telegram bot and the desk on one core, a browser
(Debian's chromium through Playwright) that never leaves 127.0.0.1."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from datetime import timedelta

from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from bot.web.server import WebServer
from storage import access
from storage import repository as repo
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.test_secretary import ADMIN, settle

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 860}
LINK = re.compile(r"http://127\.0\.0\.1:\d+/login/\S+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port_tiles() -> str:
    """A tile server that is not there: every tile fails at once, as on a cut-off network."""
    return f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"


@dataclass
class Desk:
    bot: TelegramBot
    web: WebServer

    @property
    def url(self) -> str:
        return self.bot.settings.web_url

    @property
    def core(self):
        return self.bot.core


async def start_desk(api: FakeTelegramAPI, tmp_path, clock, database_url: str | None = None):
    port = free_port()
    settings = Settings(
        _env_file=None,
        database_url=database_url or f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_base_url=api.base_url,
        admin_user_ids=[str(ADMIN["id"])],
        telegram_rate_limit=False,
        web_port=port,
        web_tiles=closed_port_tiles(),
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    web = WebServer(bot.core.deps, settings)
    await web.start()
    return Desk(bot, web)


async def stop_desk(desk: Desk) -> None:
    await desk.web.stop()
    await desk.bot.stop()


async def sign_in_link(api: FakeTelegramAPI, person: dict) -> str:
    """The person sends /web to the bot privately; the link from the bot's answer."""
    private = tu.private_chat(person)
    api.push_update(tu.command(person, "/web", chat=private))
    said = await settle(api, private, sender=person)
    [link] = [m for s in said for m in LINK.findall(s["text"] or "")]
    return link


async def only_local(page) -> None:
    """Nothing but 127.0.0.1: a request elsewhere is refused before it leaves the browser."""

    async def guard(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            await route.continue_()
        else:
            await route.abort()

    await page.route("**/*", guard)


async def until_sent(api: FakeTelegramAPI, predicate, timeout: float = 10.0) -> list[dict]:
    """Wait for what the bot sends until `predicate(api.sent)` holds."""
    while not predicate(api.sent):
        await api.wait_for_sent(len(api.sent) + 1, timeout=timeout)
    return api.sent


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def signed_in(client, deps, platform: str, user_id: str, name: str) -> str:
    """Sign `client` (an httpx client on the desk) in as this person, through a link as `/web`
    would make it; returns the session's CSRF token, read off a page."""
    secret = f"link-{platform}-{user_id}"
    async with deps.db.write() as s:
        member = await repo.upsert_member(s, platform, user_id, name, None, deps.clock())
        await access.add_link(
            s, secret, member.id, deps.clock(), deps.clock() + timedelta(minutes=5)
        )
    signed = await client.post(f"/login/{secret}")
    assert signed.status_code == 303, signed.text
    page = await client.get("/tickets")
    return CSRF.search(page.text).group(1)
