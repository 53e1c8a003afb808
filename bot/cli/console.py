"""`woodpecker console`: type into the local chat as a named courier; the bot answers below.

It plays on its own database (`--db`, default the demo's data/demo.db), never DATABASE_URL
unless that is given as `--db`: fake reports do not belong in the bot's real database.
Messages are numbered on from what the database already holds, so a second session is not
taken for redeliveries of the first. Lines are read from stdin on the event loop (no thread
blocked in `readline`), so Ctrl-C ends the console at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from bot.app import Woodpecker
from bot.cli import common
from bot.cli.demo_images import street_photo
from bot.cli.transcript import Transcript
from bot.local import LocalChat
from bot.settings import Settings
from handlers.types import Photo, Sender

DEFAULT_DB = "data/demo.db"
CONSOLE_HELP = (
    "/photo 路径 [说明]、/file 路径（原图）、/loc 纬度 经度、/demo-photo [说明]、"
    "/as 名字、/report、/help、/quit（或 Ctrl-C）；其他文字照常发送。"
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "console",
        help="type into a local chat as a named courier",
        parents=[common.database_options(DEFAULT_DB, ", to play in")],
    )
    p.add_argument("--name", default="骑手", help="who you are in the chat")
    p.set_defaults(run=console)


async def console(settings: Settings, args: argparse.Namespace) -> int:
    return await run_console(common.on_database(settings, args), args.name)


class _Lines:
    """Lines typed on stdin, as the event loop sees them arrive; None at the end."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._fd = sys.stdin.fileno()
        self._loop = asyncio.get_running_loop()
        try:
            self._loop.add_reader(self._fd, self._readable)
            self._reader = True
        except (PermissionError, ValueError):  # a regular file: read it whole, it cannot wait
            self._reader = False
            self._loop.create_task(self._read_file())

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except OSError:  # the terminal went away
            data = b""
        if not data:
            self.close()
            if self._buffer:
                self.queue.put_nowait(self._buffer.decode("utf-8", "replace"))
            self.queue.put_nowait(None)
            return
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        for line in lines:
            self.queue.put_nowait(line.decode("utf-8", "replace"))

    async def _read_file(self) -> None:
        text = await asyncio.to_thread(sys.stdin.read)
        for line in text.splitlines():
            self.queue.put_nowait(line)
        self.queue.put_nowait(None)

    def close(self) -> None:
        if self._reader:
            self._loop.remove_reader(self._fd)
            self._reader = False


async def _next(lines: _Lines, stop: asyncio.Event) -> str | None:
    """The next line, or None at the end of input or on Ctrl-C."""
    line = asyncio.ensure_future(lines.queue.get())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({line, stopped}, return_when=asyncio.FIRST_COMPLETED)
    for task in (line, stopped):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return None if stop.is_set() or line.cancelled() else line.result()


async def run_console(settings: Settings, name: str) -> int:
    """Type as a named courier (see CONSOLE_HELP) on `settings.database_url`."""
    transcript = Transcript()
    chat = LocalChat(on_say=transcript)
    bot = Woodpecker(settings, [chat])
    await bot.migrate()
    await chat.resume_numbering(bot.db)
    user = Sender(f"console-{name}", name)
    transcript.names[user.user_id] = name
    print(f"以 {name} 的身份发言 / speaking as {name}. {CONSOLE_HELP}", flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    lines = _Lines()
    prompt = sys.stdin.isatty()
    try:
        while True:
            if prompt:
                print(f"{name}> ", end="", flush=True)
            line = await _next(lines, stop)
            if line is None or line.strip() in ("/quit", "/exit"):
                break
            line = line.strip()
            if line.startswith("/as "):
                name = line[4:].strip() or name
                user = Sender(f"console-{name}", name)
                transcript.names[user.user_id] = name
                continue
            try:
                if line.startswith("/demo-photo"):
                    caption = line[len("/demo-photo") :].strip() or None
                    msg = chat.message(user, text=caption)
                    # Drawn from the message's number: a new scene each time, in every session.
                    msg.photos = [Photo(data=street_photo(int(msg.message_id)))]
                else:
                    msg = await asyncio.to_thread(chat.parse_console_line, user, line)
            except (OSError, ValueError) as e:
                print(f"      ✗ {e}", flush=True)
                continue
            if msg is None:
                continue
            await bot.handle(msg)
            await bot.flush()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        lines.close()
        await bot.close()
    print("\n再见 / bye", flush=True)
    return 0
