"""Fitting a text under a platform's length limit: split into messages, or shortened.

A message the platform refuses for its length is refused on every retry, so the answer never
arrives. Telegram counts length in UTF-16 code units (an emoji outside the BMP is two), so
lengths here are measured that way, which is never less than the characters Python counts.
"""

from __future__ import annotations

ELLIPSIS = "…"


def units(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest head of `text` within `limit` units, and the rest."""
    used = 0
    for i, c in enumerate(text):
        used += 2 if ord(c) > 0xFFFF else 1
        if used > limit:
            return text[:i], text[i:]
    return text, ""


def shorten(text: str, limit: int) -> str:
    """`text` itself when it fits, else its head and an ellipsis, within `limit`."""
    if units(text) <= limit:
        return text
    head, _ = _cut(text, limit - units(ELLIPSIS))
    return head.rstrip() + ELLIPSIS


def split(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` units holding all of `text` in order, cut between lines where
    a line fits, else within the line. A piece is never blank (a platform refuses those)."""
    if units(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if units(current) + units(line) <= limit:
            current += line
            continue
        if current:
            pieces.append(current)
            current = ""
        while units(line) > limit:
            head, line = _cut(line, limit)
            pieces.append(head)
        current = line
    if current:
        pieces.append(current)
    return [p.rstrip("\n") for p in pieces if p.strip()]
