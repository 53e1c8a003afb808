"""Numbers typed by people or carried on buttons, read strictly.

`str.isdigit` says yes to `²` and `١٧`, which `int` then refuses or reads as 17, and a number of
twenty digits overflows every database integer. A ticket, reward or amount is ASCII digits only,
within a 32-bit signed integer (what PostgreSQL's INTEGER holds); anything else is "not a number"
and gets the command's usage, never an exception.
"""

from __future__ import annotations

import re

MAX_ID = 2**31 - 1
_ASCII_DIGITS = re.compile(r"[0-9]{1,10}")


def positive_int(word: str | None, maximum: int = MAX_ID) -> int | None:
    """`17` → 17; `0`, `-3`, `²`, `１７`, `99999999999999999999`, `` → None."""
    if word is None or not _ASCII_DIGITS.fullmatch(word):
        return None
    value = int(word)
    return value if 1 <= value <= maximum else None


def ticket_number(word: str | None) -> int | None:
    """A ticket number as typed (`17`, `#17`) or carried on a button; None when it is not one."""
    if word is None:
        return None
    return positive_int(word.strip().removeprefix("#"))


def first_word(args: str | None) -> str:
    """The word a numbered command starts with: `#17 已清理` → `#17`."""
    words = (args or "").split()
    return words[0] if words else ""
