"""uvicorn inside the bot's own event loop: the desk starts after the core is migrated and
stops with the rest. `woodpecker web` runs it alone (a read-mostly replica: its actions queue
outbox rows that the bot process sends)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bot.settings import Settings
from bot.web.app import create_app
from handlers.deps import Deps

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The process's own SIGINT/SIGTERM handlers (bot/serve.py) stop everything, the desk too;
        # uvicorn's would take the signals for itself and re-raise them after.
        yield


class WebServer:
    def __init__(self, deps: Deps, settings: Settings, grids=None) -> None:
        self.app = create_app(deps, settings, grids)
        config = uvicorn.Config(
            self.app,
            host=settings.web_host,
            port=settings.web_port if settings.web_port is not None else 8080,
            lifespan="off",
            access_log=False,
            log_level="warning",
            server_header=False,
        )
        self.server = _Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:  # uvicorn says nothing else when it is listening
            if self._task.done():
                self._task.result()  # the error (the port is taken…)
                raise RuntimeError("the web desk stopped before it started")
            await asyncio.sleep(0.01)
        log.info("web desk on %s", self.url)

    @property
    def port(self) -> int:
        return self.server.servers[0].sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://{self.server.config.host}:{self.port}"

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


async def start_web(settings: Settings, deps: Deps) -> WebServer | None:
    """The desk, when WEB_PORT is set."""
    if settings.web_port is None:
        return None
    web = WebServer(deps, settings, grid_outlines(deps, settings))
    await web.start()
    return web


def grid_outlines(deps: Deps, settings: Settings):
    """The map's grid outlines, on the tiles' datum (the points are shifted the same way)."""
    from bot.web.tiles import tiles_for
    from handlers.geo import grids

    shift = tiles_for(settings.web_tiles).shift

    async def provide(_request) -> dict:
        return await grids.outlines(deps, shift)

    return provide


async def run_alone(settings: Settings) -> int:
    """`woodpecker web`: the desk without the chat adapters, until SIGINT/SIGTERM."""
    from bot.app import Woodpecker

    core = Woodpecker(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    web = WebServer(core.deps, settings, grid_outlines(core.deps, settings))
    try:
        await core.migrate()
        await web.start()
        print(f"网页后台 / web desk: {settings.web_url or web.url}", flush=True)
        await stop.wait()
    finally:
        await web.stop()
        await core.close()
    return 0
