"""One chat's messages in order (a photo before the words about it); chats in parallel.

Every platform adapter hands what arrives to one of these: one worker task per busy chat, not a
task per message (with thousands of chat lines a second, a task, a semaphore and a lock per line
cost more than the line itself: bench/intake.py). At most `max_chats` chats run at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class ChatQueues(Generic[T]):
    def __init__(
        self,
        handle: Callable[[T], Awaitable[object]],
        max_chats: int = 256,
        discard: Callable[[T], None] | None = None,
    ) -> None:
        self._handle = handle
        self._discard = discard  # for items never handled (cancelled at shutdown)
        self._queues: dict[Hashable, deque[T]] = {}
        self._workers: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(max_chats)

    def put(self, chat: Hashable, item: T) -> None:
        queue = self._queues.get(chat)
        if queue is not None:
            queue.append(item)
            return
        queue = self._queues[chat] = deque([item])
        task = asyncio.create_task(self._work(chat, queue))
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _work(self, chat: Hashable, queue: deque[T]) -> None:
        try:
            async with self._slots:
                while queue:
                    item = queue.popleft()
                    try:
                        await self._handle(item)
                    except Exception:
                        log.exception("a message in chat %s failed", chat)
        finally:
            self._queues.pop(chat, None)
            if self._discard is not None:
                for item in queue:
                    self._discard(item)

    async def idle(self) -> None:
        """Until every item handed over so far has been handled."""
        while self._workers:
            await asyncio.gather(*list(self._workers), return_exceptions=True)

    async def cancel(self) -> None:
        for task in list(self._workers):
            task.cancel()
        await self.idle()
