"""A photo sent again: its ticket is flagged (earns nothing) and the secretary told privately.

The reporter is not named in the group: a re-sent photo may be an honest second report of a
problem still not fixed, and the secretary can merge it instead.
"""

from __future__ import annotations

from datetime import datetime

from handlers import phash
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.outbox import queue
from handlers.types import Outgoing
from storage import ledger
from storage.models import Member, Ticket


async def check(
    s, deps: Deps, ticket: Ticket, now: datetime, hashes: list[str] | None = None
) -> None:
    """Flag the ticket when one of its photos is a near-copy of a photo on an earlier ticket.
    `hashes`: its photos' hashes, when the caller already read them."""
    if ticket.recycled_of is not None:
        return
    mine = hashes if hashes is not None else await ledger.photo_hashes(s, ticket.id)
    if not mine:
        return
    earlier = next(
        (
            other
            for other, h in await ledger.earlier_photo_hashes(s, ticket.id, mine)
            if any(phash.is_near(h, m) for m in mine)
        ),
        None,
    )
    if earlier is None:
        return
    ticket.recycled_of = earlier
    reporter = await s.get(Member, ticket.reporter_pk)
    for secretary in await ledger.reachable_secretaries(s, ticket.chat_pk):
        locale = normalise(secretary.language, deps.config.locale)
        text = t(
            "recycled.to_secretary", locale, number=ticket.id, name=reporter.name, earlier=earlier
        )
        queue(s, Outgoing(secretary.platform, secretary.private_chat_id, text), now)
