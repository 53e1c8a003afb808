"""Queries of the desk's doors: sign-in links, sessions, roles held, Open311 keys.

Secrets (link tokens, session cookies, API keys) are never stored, only their SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Chat, Member, Open311Key, Open311Request, Role, WebLink, WebSession


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def add_link(
    session: AsyncSession, secret: str, member_pk: int, now: datetime, expires_at: datetime
) -> None:
    session.add(
        WebLink(
            token_hash=digest(secret), member_pk=member_pk, created_at=now, expires_at=expires_at
        )
    )


async def link_is_live(session: AsyncSession, secret: str, now: datetime) -> bool:
    stmt = select(WebLink.id).where(
        WebLink.token_hash == digest(secret), WebLink.used_at.is_(None), WebLink.expires_at > now
    )
    return (await session.execute(stmt)).first() is not None


async def use_link(session: AsyncSession, secret: str, now: datetime) -> int | None:
    """Spend a live link; its member's id, or None (unknown, expired, or already used). One
    conditional UPDATE: two browsers racing with one link sign in once."""
    stmt = (
        update(WebLink)
        .where(
            WebLink.token_hash == digest(secret),
            WebLink.used_at.is_(None),
            WebLink.expires_at > now,
        )
        .values(used_at=now)
        .returning(WebLink.member_pk)
    )
    return (await session.execute(stmt)).scalar()


async def add_session(
    session: AsyncSession, secret: str, member_pk: int, csrf: str, now: datetime, until: datetime
) -> None:
    session.add(
        WebSession(
            token_hash=digest(secret),
            member_pk=member_pk,
            csrf=csrf,
            created_at=now,
            expires_at=until,
        )
    )


async def live_session(
    session: AsyncSession, secret: str, now: datetime
) -> tuple[WebSession, Member] | None:
    stmt = (
        select(WebSession, Member)
        .join(Member, Member.id == WebSession.member_pk)
        .where(
            WebSession.token_hash == digest(secret),
            WebSession.ended_at.is_(None),
            WebSession.expires_at > now,
        )
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def end_session(session: AsyncSession, secret: str, now: datetime) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == digest(secret), WebSession.ended_at.is_(None))
        .values(ended_at=now)
    )


async def roles_held(session: AsyncSession, member_pk: int) -> list[tuple[str, int | None]]:
    """Every (role, chat_pk) the member holds; chat_pk None: everywhere."""
    stmt = select(Role.role, Role.chat_pk).where(Role.member_pk == member_pk)
    return [(role, chat_pk) for role, chat_pk in (await session.execute(stmt)).all()]


async def add_key(
    session: AsyncSession, secret: str, name: str, chat_pk: int, now: datetime
) -> Open311Key:
    key = Open311Key(key_hash=digest(secret), name=name, chat_pk=chat_pk, created_at=now)
    session.add(key)
    await session.flush()
    return key


async def live_key(session: AsyncSession, secret: str) -> tuple[Open311Key, Chat] | None:
    stmt = (
        select(Open311Key, Chat)
        .join(Chat, Chat.id == Open311Key.chat_pk)
        .where(Open311Key.key_hash == digest(secret), Open311Key.revoked_at.is_(None))
    )
    row = (await session.execute(stmt)).first()
    return (row[0], row[1]) if row else None


async def keys(session: AsyncSession) -> list[tuple[Open311Key, Chat]]:
    stmt = (
        select(Open311Key, Chat).join(Chat, Chat.id == Open311Key.chat_pk).order_by(Open311Key.id)
    )
    return [(k, c) for k, c in (await session.execute(stmt)).all()]


async def revoke_key(session: AsyncSession, key_id: int, now: datetime) -> bool:
    stmt = (
        update(Open311Key)
        .where(Open311Key.id == key_id, Open311Key.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return (await session.execute(stmt)).rowcount > 0


async def token_ticket(session: AsyncSession, token: str) -> int | None:
    stmt = select(Open311Request.ticket_id).where(Open311Request.token == token)
    return (await session.execute(stmt)).scalar()
