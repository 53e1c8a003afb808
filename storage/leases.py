"""Who holds an outbox row's lease, and taking leases back from a process that is gone.

A sender marks each row it claims with this process's id (`host:pid:nonce`). A row whose
lease is still running normally waits for the lease to end; but at start a sender looks at the
holders of live leases, and a holder on this host whose process no longer exists (or whose pid
is now ours: a container restarted) is gone for sure, so its rows are freed at once.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Outbox

HOST = socket.gethostname()[:40]
PROCESS_ID = f"{HOST}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_gone(holder: str, me: str = PROCESS_ID) -> bool:
    """True only when certain: the holder ran on this host and its process has ended."""
    host, _, rest = holder.partition(":")
    pid_text, _, _nonce = rest.partition(":")
    if host != HOST or holder == me or not pid_text.isascii() or not pid_text.isdigit():
        return False  # another machine (its lease decides), ourselves, or not our format
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # our pid with another nonce: an earlier process that had this pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False  # alive, or a reused pid: the lease decides


async def free_rows_of_gone_holders(
    session: AsyncSession, platforms: set[str], now: datetime
) -> int:
    """Free the running leases of holders that are gone; return how many rows."""
    stmt = (
        select(Outbox.claimed_by)
        .where(
            Outbox.sent_at.is_(None),
            Outbox.platform.in_(platforms),
            Outbox.claimed_until >= now,
            Outbox.claimed_by.is_not(None),
        )
        .distinct()
    )
    gone = [h for h in (await session.execute(stmt)).scalars() if holder_is_gone(h)]
    if not gone:
        return 0
    result = await session.execute(
        update(Outbox)
        .where(Outbox.sent_at.is_(None), Outbox.claimed_by.in_(gone), Outbox.claimed_until >= now)
        .values(claimed_until=None)
    )
    return result.rowcount or 0


async def renew(session: AsyncSession, ids: list[int], holder: str, until: datetime) -> None:
    """Extend the lease on rows this process is still sending."""
    for i in range(0, len(ids), 500):
        await session.execute(
            update(Outbox)
            .where(
                Outbox.id.in_(ids[i : i + 500]),
                Outbox.sent_at.is_(None),
                Outbox.claimed_by == holder,
            )
            .values(claimed_until=until)
        )
