"""Wiring: the database, media store, core deps and outbox sender for one process."""

from __future__ import annotations

from bot.settings import Settings
from handlers import imagework, router
from handlers.config import Clock, utc_now
from handlers.deps import Deps
from handlers.geo import grids
from handlers.outbox import OutboxSender
from handlers.periods import quiet_until
from handlers.ports import ChatPort
from handlers.types import Incoming
from storage.db import Database
from storage.media import MediaStore
from storage.migrate import upgrade


class Woodpecker:
    """The core, once per process: adapters call `handle`, their ports receive the outbox.
    Every platform of the process shares it (one database, one writer queue, one sender)."""

    def __init__(
        self, settings: Settings, ports: list[ChatPort] | None = None, clock: Clock = utc_now
    ) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        config = settings.core()
        media = MediaStore(settings.media_dir)
        self.sender = OutboxSender(
            self.db,
            list(ports or []),
            clock,
            quiet=lambda now: quiet_until(now, config.timezone, config.quiet_hours),
            media=media,
        )
        self.deps = Deps(
            db=self.db,
            media=media,
            config=config,
            clock=clock,
            wake_outbox=self.sender.wake,
        )
        self.privacy_warning = False  # set by an adapter that learns the bot cannot see photos

    def attach(self, port: ChatPort) -> None:
        """A platform's port: the sender delivers that platform's outbox rows through it."""
        self.sender.ports[port.platform] = port

    async def migrate(self) -> None:
        """Make the core ready to serve: the schema up to date, the image workers running."""
        await upgrade(self.settings.database_url)
        await grids.load_setting(self.deps, self.settings.grids_file)  # GRIDS_FILE, if changed
        await imagework.warm_up()

    async def handle(self, msg: Incoming) -> str | None:
        return await router.handle(msg, self.deps, privacy_warning=self.privacy_warning)

    async def handle_button(self, msg: Incoming) -> str | None:
        """A pressed button; returns the short answer shown to the presser alone."""
        return await router.handle_button(msg, self.deps)

    async def flush(self) -> None:
        """Send everything queued now (the demo and tests; the bot runs `sender.run`)."""
        while await self.sender.drain_once():
            await self.sender.idle()
        await self.sender.idle()

    async def close(self) -> None:
        await self.db.dispose()
