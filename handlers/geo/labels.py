"""How a ticket's place and its count of riders read on its card and in `/ticket N`."""

from __future__ import annotations

from handlers.i18n import t
from storage.geo import HOT_REPORTERS
from storage.models import Ticket


def is_hot(ticket: Ticket) -> bool:
    """高频: reported by enough riders that its SLA thresholds are halved."""
    return (ticket.reporters or 1) >= HOT_REPORTERS


def place_line(ticket: Ticket, locale: str) -> str | None:
    """`🗺 友谊路一网格 · 3 位骑手反映 · 高频`; None when there is nothing to say."""
    parts = []
    if ticket.grid or ticket.street or ticket.district:
        parts.append(" · ".join(x for x in (ticket.grid, ticket.street) if x) or ticket.district)
    elif ticket.outside:
        parts.append(t("place.outside", locale))
    if (ticket.reporters or 1) > 1:
        parts.append(t("place.reporters", locale, count=ticket.reporters))
    if is_hot(ticket):
        parts.append(t("place.hot", locale))
    return "🗺 " + " · ".join(parts) if parts else None
