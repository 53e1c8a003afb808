"""How much one person may ask of the bot: wrong redemption codes, reports per hour.

Counted in rows (`RateEvent`, tickets), not in memory, so a limit holds across a restart and
between two instances. A limited person hears it once, politely, and nothing else changes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage import guards

# /confirm: a code is six characters of a 32-character alphabet (about 8.4 million with a letter
# first); only a few are pending at a time. A merchant mistypes now and then; five misses in a
# quarter of an hour is no longer that.
CONFIRM_WINDOW = timedelta(minutes=15)
WRONG_CODES_PER_PERSON = 5
WRONG_CODES_PER_CHAT = 20  # several people in one chat, trying by turns
REPORT_WINDOW = timedelta(hours=1)


def _person(platform: str, user_id: str) -> str:
    return f"{platform}:{user_id}"[:64]


def _chat(platform: str, chat_id: str) -> str:
    return f"{platform}:{chat_id}"[:64]


async def confirm_blocked(s, platform: str, user_id: str, chat_id: str, now: datetime) -> bool:
    """Too many wrong codes lately from this person, or in this chat."""
    since = now - CONFIRM_WINDOW
    person = await guards.count_events(s, "confirm.user", _person(platform, user_id), since)
    if person >= WRONG_CODES_PER_PERSON:
        return True
    chat = await guards.count_events(s, "confirm.chat", _chat(platform, chat_id), since)
    return chat >= WRONG_CODES_PER_CHAT


async def note_wrong_code(s, platform: str, user_id: str, chat_id: str, now: datetime) -> None:
    """A code that was not there, or not this person's to confirm (they are told the same)."""
    for kind, key in (
        ("confirm.user", _person(platform, user_id)),
        ("confirm.chat", _chat(platform, chat_id)),
    ):
        await guards.forget_events(s, kind, key, now - CONFIRM_WINDOW)
        guards.add_event(s, kind, key, now)


async def reports_exhausted(s, member_pk: int, now: datetime, per_hour: int) -> bool:
    """This rider already made `per_hour` tickets in the last hour (0: no limit)."""
    if per_hour <= 0:
        return False
    return await guards.tickets_reported_since(s, member_pk, now - REPORT_WINDOW) >= per_hour


async def first_slow_down_notice(s, member_pk: int, now: datetime) -> bool:
    """True (and noted) for the first refused report in a window: the rider hears it once."""
    key = str(member_pk)
    if await guards.count_events(s, "report.told", key, now - REPORT_WINDOW):
        return False
    await guards.forget_events(s, "report.told", key, now - REPORT_WINDOW)
    guards.add_event(s, "report.told", key, now)
    return True
