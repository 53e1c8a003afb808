"""How a ticket reads in a chat: its card (the acknowledgement, edited as it moves) and lines."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from handlers import categories, workflow
from handlers.geo import labels
from handlers.i18n import t
from handlers.maps import amap_url
from handlers.types import Button
from storage.models import Ticket

TIER_KEYS = {1: "tier.1", 2: "tier.2", 3: "tier.3"}
BUTTON_ACTIONS = ("accept", "dispatch", "escalate", "resolve", "reject")


def status_label(status: str, locale: str) -> str:
    return t(f"status.{status}", locale)


def state_line(ticket: Ticket, locale: str) -> str:
    """`已派单 · 城管 · 二级（街道）` — the status and, once dispatched, where it went."""
    parts = [status_label(ticket.status, locale)]
    if ticket.department:
        parts.append(ticket.department)
    if ticket.tier in TIER_KEYS:
        parts.append(t(TIER_KEYS[ticket.tier], locale))
    if ticket.status == workflow.DUPLICATE and ticket.duplicate_of:
        parts.append(f"#{ticket.duplicate_of}")
    if ticket.note and ticket.status in (workflow.RESOLVED, workflow.REJECTED, workflow.CLOSED):
        parts.append(ticket.note)
    return " · ".join(parts)


def card_text(ticket: Ticket, locale: str) -> str:
    label = categories.label(ticket.category, locale)
    head = t("intake.registered", locale, number=ticket.id, category=label)
    link = amap_url(ticket.lat, ticket.lon, t("intake.map_link_name", locale, number=ticket.id))
    text = f"{head}\n{t('card.state', locale, state=state_line(ticket, locale))}\n📍 {link}"
    return text + (f"\n{place}" if (place := labels.place_line(ticket, locale)) else "")


def card_buttons(ticket: Ticket, locale: str) -> list[Button]:
    """The secretary's buttons for what can be done now; a closed matter has none."""
    allowed = workflow.allowed_actions(ticket.status, workflow.SECRETARY)
    return [
        Button(t(f"button.{a}", locale), f"wp:{a}:{ticket.id}")
        for a in BUTTON_ACTIONS
        if a in allowed
    ]


def ticket_line(ticket: Ticket, now: datetime, locale: str) -> str:
    label = categories.label(ticket.category, locale)
    since = age(ticket.created_at, now, locale)
    return f"#{ticket.id} {label} · {state_line(ticket, locale)} · {since}"


def age(since: datetime, now: datetime, locale: str) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 60:
        return t("age.minutes", locale, n=minutes)
    if minutes < 48 * 60:
        return t("age.hours", locale, n=minutes // 60)
    return t("age.days", locale, n=minutes // (24 * 60))


def local_time(at: datetime, timezone: str) -> str:
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")
