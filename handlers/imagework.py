"""Photo processing in worker processes, one per core: bytes in, a `ProcessedPhoto` out.

In a thread, a photo's decoding still competes with the event loop and the database thread for
the one interpreter lock (Pillow lets go of it only inside its C loops), and a decoder that
crashes on a hostile file would take the bot with it. Worker processes use the second core
freely; a crash costs one pool, which is replaced.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from handlers.photos import PhotoRejected, ProcessedPhoto, process

WORKERS = os.cpu_count() or 1
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # Not fork: this process has threads (the database's, the loop's helpers). The
            # fork server starts clean, with only the image code loaded, and forks the workers.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["handlers.photos"])
            _pool = ProcessPoolExecutor(max_workers=WORKERS, mp_context=context)
        return _pool


def _replace(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def process_photo(data: bytes, read_gps: bool) -> ProcessedPhoto:
    """`handlers.photos.process` in a worker process. A worker that died (a decoder crash, or
    killed) costs one retry in a fresh pool; dying again, the picture counts as broken."""
    loop = asyncio.get_running_loop()
    for attempt in (1, 2):
        pool = _executor()
        try:
            return await loop.run_in_executor(pool, process, data, read_gps)
        except BrokenProcessPool:
            _replace(pool)
            if attempt == 2:
                raise PhotoRejected("photo.corrupt") from None
    raise AssertionError("unreachable")


def _ready() -> None:
    """A worker's first job: nothing, so that it exists."""


def _start_workers() -> None:
    pool = _executor()  # it starts a worker per job waiting, up to WORKERS
    wait([pool.submit(_ready) for _ in range(WORKERS)])


async def warm_up() -> None:
    """Start the fork server and every worker now, not at the first photo: under load that
    takes seconds, and the first reports after a restart would wait for it."""
    await asyncio.to_thread(_start_workers)
