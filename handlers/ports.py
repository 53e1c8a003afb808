"""The one interface a chat platform implements so the core can talk through it."""

from __future__ import annotations

from typing import Protocol

from handlers.types import Outgoing


class PermanentSendError(Exception):
    """The platform will never accept this message (chat gone, bot blocked): do not retry."""


class ChatPort(Protocol):
    platform: str

    async def send(self, message: Outgoing) -> str:
        """Send (or edit, when `message.edit_message_id` is set); return the platform message id."""
        ...
