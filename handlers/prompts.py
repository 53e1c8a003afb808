"""Asking a rider for the missing half of a report, only when it is really missing.

Most riders send the location a few seconds after the photo (or the other way round): asking at
once would cost a message nobody needed, half the bot's send budget and noise in the group. So
the question is queued in the outbox with `not_before = now + grace`, and the transaction that
completes the report deletes it unsent. It is a row, not a timer: a restart still sends it once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from handlers.outbox import queue
from handlers.types import Outgoing
from storage.models import Draft, Outbox


async def ask_later(s, draft: Draft, question: Outgoing, now: datetime, grace: timedelta) -> None:
    """Queue `question` to go out after `grace`, unless the draft is completed first."""
    row = queue(s, question, now, not_before=now + grace)
    await s.flush()  # its id, for the draft to find it again
    draft.prompt_outbox_id = row.id


async def drop(s, draft: Draft) -> None:
    """The report is complete (or the half is gone): its question is not needed any more.

    Deleted only while unsent; one already out stays on record."""
    if draft.prompt_outbox_id is None:
        return
    await s.execute(
        delete(Outbox).where(Outbox.id == draft.prompt_outbox_id, Outbox.sent_at.is_(None))
    )
    draft.prompt_outbox_id = None
