"""Screenshots of the desk for docs/: map, list and a ticket, at phone and desk widths.

    .venv/bin/python -m tests.screens [OUT_DIR]     # default docs/screens

A made-up history (bot/seed.py) plus one report made through the real core (photo, location,
accepted, dispatched, resolved with an after photo), the desk on 127.0.0.1, Debian's chromium.
No tile server is reachable from here, so the map shows its markers on a blank background and
says the tiles did not load (as it would on a network that blocks them).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bot.seed import Plan, seed
from playwright.async_api import async_playwright
from sqlalchemy import func, select

from bot.app import Woodpecker
from bot.local import LocalChat
from bot.settings import Settings
from bot.web.server import WebServer
from handlers import roles, tickets
from handlers.after_photo import prepare
from handlers.config import utc_now
from handlers.types import Sender
from handlers.uow import WEB, Actor, Source
from storage import access
from storage import repository as repo
from storage.models import Ticket
from tests.images import scene
from tests.web import CHROMIUM, DESK, PHONE, closed_port_tiles, free_port, only_local

ADMIN = Sender("u-admin", "城运中心值班")


async def _story(core: Woodpecker, chat: LocalChat) -> int:
    rider = Sender("u-rider", "老王")
    await core.handle(chat.message(rider, photos=[scene(3)], text="井盖松了，电瓶车差点摔"))
    await core.handle(chat.message(rider, location=(31.40512, 121.48931)))
    async with core.db.read() as s:
        number = (await s.execute(select(func.max(Ticket.id)))).scalar()
    actor = Actor(chat.platform, ADMIN.user_id, ADMIN.name)
    for cmd in (
        tickets.TicketCommand("accept", number),
        tickets.TicketCommand("dispatch", number, department="城管", tier=2),
    ):
        await tickets.act(core.deps, cmd, source=Source(WEB), actor=actor)
    after = await prepare(core.deps, number, scene(4))
    cmd = tickets.TicketCommand("resolve", number, note="已更换井盖", after=after)
    await tickets.act(core.deps, cmd, source=Source(WEB), actor=actor)
    await core.flush()
    return number


async def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "desk.db"
        now = utc_now()
        await asyncio.to_thread(seed, db, Plan(tickets=900, groups=4, riders=60, days=35, end=now))
        settings = Settings(
            _env_file=None,
            database_url=f"sqlite:///{db}",
            media_dir=str(Path(tmp) / "media"),
            admin_user_ids=[ADMIN.user_id],
            web_port=free_port(),
            web_tiles=closed_port_tiles(),
        )
        chat = LocalChat(chat_id="g-desk", title="友谊路骑手群")
        core = Woodpecker(settings, [chat])
        await core.migrate()
        number = await _story(core, chat)
        await roles.grant_role(core.deps, chat.platform, ADMIN.user_id, "admin", None, ADMIN.name)
        web = WebServer(core.deps, settings)
        await web.start()
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM)
                for width, viewport in (("phone", PHONE), ("desk", DESK)):
                    secret = f"screens-{width}"
                    async with core.db.write() as s:
                        member = await repo.find_member(s, chat.platform, ADMIN.user_id)
                        until = core.deps.clock() + timedelta(minutes=5)
                        await access.add_link(s, secret, member.id, core.deps.clock(), until)
                    context = await browser.new_context(viewport=viewport, device_scale_factor=1)
                    page = await context.new_page()
                    await only_local(page)
                    await page.goto(f"{web.url}/login/{secret}")
                    await page.click("#sign-in")
                    await page.wait_for_selector("#map[data-loaded]")
                    await page.wait_for_timeout(300)  # let the clusters settle for the picture
                    await page.screenshot(path=out / f"map-{width}.png")
                    await page.goto(f"{web.url}/tickets?state=all")
                    await page.screenshot(path=out / f"list-{width}.png")
                    await page.goto(f"{web.url}/tickets/{number}")
                    await page.wait_for_timeout(300)
                    await page.screenshot(path=out / f"ticket-{width}.png", full_page=True)
                    await context.close()
                await browser.close()
        finally:
            await web.stop()
            await core.close()
    print("\n".join(str(p) for p in sorted(out.glob("*.png"))))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screens")))
