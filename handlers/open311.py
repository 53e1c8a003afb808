"""Reports from city systems through Open311 GeoReport v2: a POST with an API key becomes a
ticket in the key's group, its card posted there like any report, through the unit of work.

Keys are made by `woodpecker open311 key create`; only their hash is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from handlers import cards, categories
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Outgoing
from handlers.uow import CLI, OPEN311, Actor, Source, Work, perform
from storage import access
from storage import repository as repo
from storage.models import Open311Request, Ticket, TicketEvent

PLATFORM = "open311"  # the reporters' members: people known to a city system, not to a chat


@dataclass(frozen=True)
class Report:
    service_code: str
    lat: float
    lon: float
    description: str | None = None
    address: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    device_id: str | None = None


@dataclass(frozen=True)
class Accepted:
    number: int
    token: str


@dataclass(frozen=True)
class Refused:
    status: int  # the HTTP status GeoReport's error answer carries
    reason: str  # "api_key", "service_code"


async def submit(deps: Deps, api_key: str, report: Report) -> Accepted | Refused:
    """One report from a city system, in one unit of work: ticket, audit row, the card in the
    key's group (edited as the ticket moves, like any card)."""
    known = {c.name for c in categories.all_categories()} | {categories.OTHER}

    async def run(w: Work) -> Accepted | Refused:
        found = await access.live_key(w.s, api_key) if api_key else None
        if found is None:
            return Refused(403, "api_key")
        if report.service_code not in known:
            return Refused(404, "service_code")
        key, chat = found
        who = report.email or report.phone or report.device_id or f"key{key.id}"
        name = " ".join(x for x in (report.first_name, report.last_name) if x)
        name = name or t("open311.anonymous", w.locale)
        reporter = await repo.upsert_member(w.s, PLATFORM, who[:64], name[:128], None, w.now)
        token = secrets.token_urlsafe(16)
        ticket = Ticket(
            chat_pk=chat.id,
            reporter_pk=reporter.id,
            category=report.service_code,
            description=report.description,
            lat=report.lat,
            lon=report.lon,
            address=report.address,
            source_message_id=f"open311:{token}",
            created_at=w.now,
            updated_at=w.now,
        )
        w.s.add(ticket)
        await w.s.flush()
        w.s.add(
            TicketEvent(
                ticket_id=ticket.id,
                action="report",
                from_status="",
                to_status=ticket.status,
                actor_pk=reporter.id,
                note=report.description,
                at=w.now,
            )
        )
        w.s.add(Open311Request(token=token, ticket_id=ticket.id, key_id=key.id, created_at=w.now))
        card = Outgoing(
            chat.platform,
            chat.chat_id,
            cards.card_text(ticket, w.locale),
            buttons=cards.card_buttons(ticket, w.locale),
        )
        w.say(card, card_of=ticket.id)
        return Accepted(ticket.id, token)

    return await perform(deps, run, source=Source(OPEN311), actor=Actor.system())


async def create_key(deps: Deps, name: str, platform: str, chat_id: str) -> str:
    """A new API key for a city system whose reports land in this group; shown once."""
    secret = secrets.token_urlsafe(24)

    async def run(w: Work) -> None:
        chat = await repo.upsert_chat(w.s, platform, chat_id, None, True, w.now)
        await access.add_key(w.s, secret, name, chat.id, w.now)

    await perform(deps, run, source=Source(CLI), actor=Actor.system())
    return secret


async def revoke_key(deps: Deps, key_id: int) -> bool:
    async def run(w: Work) -> bool:
        return await access.revoke_key(w.s, key_id, w.now)

    return await perform(deps, run, source=Source(CLI), actor=Actor.system())


async def list_keys(deps: Deps) -> list[str]:
    async with deps.db.read() as s:
        rows = await access.keys(s)
    return [
        f"{k.id}\t{k.name}\t{c.platform}:{c.chat_id}\t{'revoked' if k.revoked_at else 'live'}"
        for k, c in rows
    ]


async def request_for_token(deps: Deps, token: str) -> int | None:
    return await deps.db.run(lambda s: access.token_ticket(s, token), write=False)
