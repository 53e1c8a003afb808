"""What a use case may touch: the database, the media store, the config, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from handlers.config import Clock, CoreConfig, utc_now
from storage.db import Database
from storage.media import MediaStore


@dataclass
class Deps:
    db: Database
    media: MediaStore
    config: CoreConfig = field(default_factory=CoreConfig)
    clock: Clock = utc_now
    # Called after a commit that queued messages, so the sender does not wait for its next poll.
    wake_outbox: Callable[[], None] = lambda: None
    # Chats seen enabled (`enabled` is never taken back, so remembering it is never wrong).
    served_chats: set[tuple[str, str]] = field(default_factory=set)
    # This process's spatial index of the grids (handlers/geo/grids.current), rebuilt on import.
    grid_index: Any = None
