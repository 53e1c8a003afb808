"""Queries the use cases need, each on a session the caller's transaction owns."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Chat,
    Draft,
    Invite,
    Member,
    Outbox,
    Photo,
    ProcessedMessage,
    Role,
    Ticket,
    TicketEvent,
)


def _insert(session: AsyncSession, model):
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def insert_new(session: AsyncSession, model, **values) -> bool:
    """Insert one row unless a unique constraint says it is already there; True when inserted.
    The constraint, not a prior read, decides: two writers racing insert it once."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing().returning(model.id)
    return (await session.execute(stmt)).scalar() is not None


async def mark_processed(
    session: AsyncSession, platform: str, chat_id: str, message_id: str, now: datetime
) -> bool:
    """Record the message as handled; False when it already was (a redelivery)."""
    return await insert_new(
        session,
        ProcessedMessage,
        platform=platform,
        chat_id=chat_id,
        message_id=message_id,
        processed_at=now,
    )


async def was_processed(
    session: AsyncSession, platform: str, chat_id: str, message_id: str
) -> bool:
    """Whether this platform message was handled (a look before costly work, not a claim)."""
    stmt = select(ProcessedMessage.id).where(
        ProcessedMessage.platform == platform,
        ProcessedMessage.chat_id == chat_id,
        ProcessedMessage.message_id == message_id,
    )
    return (await session.execute(stmt)).first() is not None


async def upsert_chat(
    session: AsyncSession,
    platform: str,
    chat_id: str,
    title: str | None,
    is_group: bool,
    now: datetime,
) -> Chat:
    # Look first: the chat is nearly always there, and each statement is a trip to the driver.
    find = select(Chat).where(Chat.platform == platform, Chat.chat_id == chat_id)
    chat = (await session.execute(find)).scalar_one_or_none()
    if chat is None:
        await session.execute(
            _insert(session, Chat)
            .values(
                platform=platform, chat_id=chat_id, title=title, is_group=is_group, created_at=now
            )
            .on_conflict_do_nothing()
        )
        chat = (await session.execute(find)).scalar_one()
    if title and chat.title != title:
        chat.title = title
    return chat


async def upsert_member(
    session: AsyncSession,
    platform: str,
    user_id: str,
    name: str,
    language: str | None,
    now: datetime,
) -> Member:
    find = select(Member).where(Member.platform == platform, Member.user_id == user_id)
    member = (await session.execute(find)).scalar_one_or_none()
    if member is None:
        await session.execute(
            _insert(session, Member)
            .values(
                platform=platform,
                user_id=user_id,
                name=name,
                language=language,
                created_at=now,
            )
            .on_conflict_do_nothing()
        )
        member = (await session.execute(find)).scalar_one()
    if member.name != name or (language and member.language != language):
        member.name, member.language = name, language or member.language
    return member


async def draft_for_update(session: AsyncSession, chat_pk: int, member_pk: int) -> Draft | None:
    stmt = (
        select(Draft)
        .where(Draft.chat_pk == chat_pk, Draft.member_pk == member_pk)
        .with_for_update()
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def draft_awaiting_text(
    session: AsyncSession, platform: str, chat_id: str, user_id: str, now: datetime
) -> int | None:
    """The one lookup a chat line costs: is this person's live draft still without words?"""
    stmt = (
        select(Draft.id)
        .join(Chat, Chat.id == Draft.chat_pk)
        .join(Member, Member.id == Draft.member_pk)
        .outerjoin(Ticket, Ticket.id == Draft.ticket_id)
        .where(
            Chat.platform == platform,
            Chat.chat_id == chat_id,
            Member.platform == platform,
            Member.user_id == user_id,
            Draft.expires_at > now,
            ((Draft.ticket_id.is_(None)) & Draft.description.is_(None))
            | ((Draft.ticket_id.is_not(None)) & Ticket.description.is_(None)),
        )
    )
    return (await session.execute(stmt)).scalar()


async def draft_photo_hashes(session: AsyncSession, draft_id: int) -> list[str | None]:
    """The perceptual hash of each photo waiting on this draft (one entry per photo)."""
    stmt = select(Photo.phash).where(Photo.draft_id == draft_id, Photo.ticket_id.is_(None))
    return list((await session.execute(stmt)).scalars())


async def known_photo_ids(session: AsyncSession, draft: Draft) -> set[str]:
    """Platform file ids and hashes already held for this draft or its ticket."""
    cond = Photo.draft_id == draft.id
    if draft.ticket_id is not None:
        cond = cond | (Photo.ticket_id == draft.ticket_id)
    rows = (await session.execute(select(Photo.platform_file_id, Photo.sha256).where(cond))).all()
    return {v for row in rows for v in row if v}


async def forget_draft_photos(session: AsyncSession, draft_id: int) -> None:
    """An expired half: its photos belong to nothing any more."""
    await session.execute(
        update(Photo)
        .where(Photo.draft_id == draft_id, Photo.ticket_id.is_(None))
        .values(draft_id=None)
    )


async def move_photos_to_ticket(session: AsyncSession, draft_id: int, ticket_id: int) -> None:
    await session.execute(
        update(Photo)
        .where(Photo.draft_id == draft_id, Photo.ticket_id.is_(None))
        .values(ticket_id=ticket_id, draft_id=None)
    )


async def claim_outbox(
    session: AsyncSession,
    platforms: set[str],
    now: datetime,
    lease_until: datetime,
    limit: int = 200,
) -> list[Outbox]:
    """Take due, unclaimed rows for these platforms; a lease that runs out frees them again."""
    stmt = (
        select(Outbox)
        .where(
            Outbox.sent_at.is_(None),
            Outbox.dead.is_(False),
            Outbox.not_before <= now,
            Outbox.platform.in_(platforms),
            (Outbox.claimed_until.is_(None)) | (Outbox.claimed_until < now),
        )
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.execute(stmt)).scalars())
    for row in rows:
        row.claimed_until = lease_until
    return rows


async def mark_sent(
    session: AsyncSession,
    outbox_id: int,
    message_id: str,
    now: datetime,
    card_of_ticket: int | None,
) -> None:
    await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(sent_at=now, sent_message_id=message_id, claimed_until=None)
    )
    if card_of_ticket is not None:
        await session.execute(
            update(Ticket).where(Ticket.id == card_of_ticket).values(card_message_id=message_id)
        )


async def mark_failed(
    session: AsyncSession, outbox_id: int, error: str, retry_at: datetime | None
) -> None:
    """Schedule a retry at `retry_at`, or give up for good when it is None."""
    await session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id)
        .values(
            attempts=Outbox.attempts + 1,
            last_error=error[:500],
            claimed_until=None,
            dead=retry_at is None,
            not_before=retry_at if retry_at is not None else Outbox.not_before,
        )
    )


async def find_chat(session: AsyncSession, platform: str, chat_id: str) -> Chat | None:
    stmt = select(Chat).where(Chat.platform == platform, Chat.chat_id == chat_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_member(session: AsyncSession, platform: str, user_id: str) -> Member | None:
    stmt = select(Member).where(Member.platform == platform, Member.user_id == user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def ticket_for_update(session: AsyncSession, ticket_id: int) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.id == ticket_id).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def roles_of(session: AsyncSession, member_pk: int, chat_pk: int | None) -> set[str]:
    """Roles held in this chat, plus those held everywhere (chat_pk NULL)."""
    cond = (
        Role.chat_pk.is_(None)
        if chat_pk is None
        else (Role.chat_pk.is_(None) | (Role.chat_pk == chat_pk))
    )
    stmt = select(Role.role).where(Role.member_pk == member_pk, cond)
    return set((await session.execute(stmt)).scalars())


async def grant(
    session: AsyncSession,
    member_pk: int,
    chat_pk: int | None,
    role: str,
    by: int | None,
    now: datetime,
) -> bool:
    """Give the role; False when the person already had it."""
    if role in await roles_of(session, member_pk, chat_pk) and chat_pk is not None:
        held = select(Role.id).where(
            Role.member_pk == member_pk, Role.chat_pk == chat_pk, Role.role == role
        )
        if (await session.execute(held)).first():
            return False
    return await insert_new(
        session,
        Role,
        member_pk=member_pk,
        chat_pk=chat_pk,
        role=role,
        granted_by_pk=by,
        granted_at=now,
    )


async def revoke(session: AsyncSession, member_pk: int, chat_pk: int | None, role: str) -> bool:
    cond = Role.chat_pk.is_(None) if chat_pk is None else Role.chat_pk == chat_pk
    rows = (
        (
            await session.execute(
                select(Role).where(Role.member_pk == member_pk, Role.role == role, cond)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        await session.delete(row)
    return bool(rows)


async def list_roles(session: AsyncSession) -> list[tuple[Role, Member, Chat | None]]:
    stmt = (
        select(Role, Member, Chat)
        .join(Member, Member.id == Role.member_pk)
        .outerjoin(Chat, Chat.id == Role.chat_pk)
        .order_by(Role.chat_pk, Role.role, Member.name)
    )
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def open_tickets(
    session: AsyncSession, chat_pk: int, statuses: tuple[str, ...]
) -> list[Ticket]:
    stmt = (
        select(Ticket)
        .where(Ticket.chat_pk == chat_pk, Ticket.status.in_(statuses))
        .order_by(Ticket.id)
    )
    return list((await session.execute(stmt)).scalars())


async def ticket_history(
    session: AsyncSession, ticket_id: int
) -> list[tuple[TicketEvent, Member | None]]:
    stmt = (
        select(TicketEvent, Member)
        .outerjoin(Member, Member.id == TicketEvent.actor_pk)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id)
    )
    return [tuple(row) for row in (await session.execute(stmt)).all()]


async def invite_for_update(session: AsyncSession, code: str) -> Invite | None:
    stmt = select(Invite).where(Invite.code == code.upper()).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def card_message_id(session: AsyncSession, ticket_id: int) -> str | None:
    return (
        await session.execute(select(Ticket.card_message_id).where(Ticket.id == ticket_id))
    ).scalar()
