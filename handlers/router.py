"""Which use case an incoming message goes to. An explicit table: add a command here."""

from __future__ import annotations

from handlers import help, intake
from handlers.deps import Deps
from handlers.types import Incoming

HELP_COMMANDS = {"help", "start", "帮助"}


async def handle(msg: Incoming, deps: Deps, privacy_warning: bool = False) -> None:
    """Route one message; everything not a known command is for intake (which ignores chatter)."""
    if msg.command in HELP_COMMANDS:
        await help.on_help(msg, deps, privacy_warning=privacy_warning)
        return
    await intake.on_message(msg, deps)
