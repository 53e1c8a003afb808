"""What the bot says in the local chat, printed as a chat transcript (the demo and the console).

A card the bot edits (a ticket that moved) is shown as its change, one line marked ✎, not
printed again in full: reprinted, it read like a second registration.
"""

from __future__ import annotations

import re

from bot.local import Said

BOT_NAME = "🐦 啄木鸟"
INDENT = "      "


class Transcript:
    def __init__(self, names: dict[str, str] | None = None) -> None:
        self.names = names if names is not None else {}
        self._texts: dict[str, str] = {}  # what each of the bot's messages says now

    def __call__(self, said: Said) -> None:
        before = self._texts.get(said.message_id)
        self._texts[said.message_id] = said.text
        if said.edited:
            self._print_edit(said.text, before)
            return
        who = "、".join(self.names.get(m, m) for m in said.mentions)
        target = f" → {who}" if who else ""
        body = said.text.replace("\n", "\n" + INDENT)
        print(f"{INDENT}{BOT_NAME}{target}: {body}", flush=True)

    def _print_edit(self, text: str, before: str | None) -> None:
        number = re.search(r"#\d+", before or text)
        ref = f" {number.group()}" if number else ""
        if before is None:  # sent in an earlier session: show the card as it is now
            changed = text.split("\n")
        else:
            old = set(before.split("\n"))
            changed = [line for line in text.split("\n") if line not in old]
        if changed:  # else only its buttons changed, which the console does not show
            print(f"{INDENT}{BOT_NAME} ✎{ref}: {' / '.join(changed)}", flush=True)
