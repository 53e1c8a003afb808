"""One problem, one ticket (共性问题): a report near an open ticket of the same category joins it.

A new report within `merge_radius_m` of an open ticket of its category from the last
`merge_window` becomes a 重复 of it (the existing duplicate mechanism: its photos and reporter
stay on its own row, `duplicate_of` points at the problem), so points follow the existing
duplicate rule. The problem counts its riders; three or more make it 高频 (SLA halved). The
lookup reads a few geohash cells through an index (storage/geo.py), never every open ticket.
A secretary undoes a wrong merge with `/split 23` (拆分 23).
"""

from __future__ import annotations

from datetime import datetime

from handlers import authority, cards, categories, workflow
from handlers.commands import spoken
from handlers.deps import Deps
from handlers.geo.coords import haversine_m
from handlers.i18n import normalise, t
from handlers.outbox import CARD
from handlers.types import Incoming, Outgoing
from handlers.uow import Source, Work, perform
from storage import geo as store
from storage import ledger
from storage import repository as repo
from storage.models import Chat, Member, Ticket

# An Outgoing and the ticket whose card it is (None: not a card), as the outbox queues them.
Queued = tuple[Outgoing, int | None]


async def find_match(s, deps: Deps, ticket: Ticket, now: datetime) -> Ticket | None:
    """The open ticket this new report repeats: same category, within the radius and the
    window, nearest first (then oldest). A report of unknown category (其他) merges nowhere."""
    cfg = deps.config
    if cfg.merge_radius_m <= 0 or ticket.category == categories.OTHER or ticket.geocell is None:
        return None  # merging off, or a problem nobody can tell is the same
    cells = store.cells_around(ticket.lat, ticket.lon, cfg.merge_radius_m)
    found = await store.merge_candidates(
        s, cells, ticket.category, now - cfg.merge_window, exclude_id=ticket.id
    )
    near = []
    for other in found:
        metres = haversine_m(ticket.lat, ticket.lon, other.lat, other.lon)
        if metres <= cfg.merge_radius_m:
            near.append((metres, other.created_at, other.id, other))
    return min(near)[3] if near else None


async def merge_into(s, deps: Deps, ticket: Ticket, original: Ticket, now: datetime) -> int:
    """Record the new report as a 重复 of `original`; returns which report of it this is."""
    original = await repo.ticket_for_update(s, original.id)
    note = t("merge.auto_note", deps.config.locale, number=original.id)
    _, event = workflow.apply(
        ticket, "dup", {workflow.SYSTEM}, now=now, actor_pk=None, note=note, target=original.id
    )  # the one transition, as the bot; its messages are the merge's own (announce_merge)
    s.add(event)
    await s.flush()
    reports, riders = await store.report_counts(s, original.id)
    original.reporters = riders
    return reports


async def announce_merge(
    s, deps: Deps, msg: Incoming, original: Ticket, reports: int
) -> list[Queued]:
    """The rider hears which ticket it joined; the problem's card shows the new count."""
    locale = deps.config.locale
    text = t("merge.joined", locale, number=original.id, count=reports)
    heard = Outgoing(
        msg.platform,
        msg.chat_id,
        text,
        reply_to=msg.message_id,
        mention_user_ids=[msg.sender.user_id] if msg.is_group else [],
    )
    return [(heard, None), *await card_edit(s, deps, original)]


async def card_edit(s, deps: Deps, ticket: Ticket) -> list[Queued]:
    chat = await s.get(Chat, ticket.chat_pk)
    locale = deps.config.locale
    card = Outgoing(
        chat.platform,
        chat.chat_id,
        cards.card_text(ticket, locale),
        buttons=cards.card_buttons(ticket, locale),
        edit_message_id=CARD,
    )
    return [(card, ticket.id)]


async def after_change(s, deps: Deps, ticket: Ticket, action: str) -> list[Queued]:
    """What the merging owes after a secretary's change: a manual 重复 recounts the problem's
    riders (its card shows it); a resolution tells every merged reporter too."""
    if action == "dup" and ticket.duplicate_of is not None:
        original = await s.get(Ticket, ticket.duplicate_of)
        if original is None:
            return []
        _, original.reporters = await store.report_counts(s, original.id)
        return await card_edit(s, deps, original)
    if action == "resolve":
        return await _tell_merged_reporters(s, deps, ticket)
    return []


async def _tell_merged_reporters(s, deps: Deps, ticket: Ticket) -> list[Queued]:
    """Privately where the rider started the bot; otherwise one line in the chat they reported
    in, naming all of them there (the first reporter already hears it from the card's group)."""
    locale = deps.config.locale
    told = {ticket.reporter_pk}
    by_chat: dict[int, list[tuple[Member, Ticket]]] = {}
    out: list[Queued] = []
    for dup in await ledger.duplicates_of(s, ticket.id):
        if dup.reporter_pk in told:
            continue
        told.add(dup.reporter_pk)
        member = await s.get(Member, dup.reporter_pk)
        if member.private_chat_id:
            their = normalise(member.language, locale)
            text = t(
                "merge.resolved_private",
                their,
                number=ticket.id,
                category=categories.label(ticket.category, their),
                mine=dup.id,
            )
            out.append((Outgoing(member.platform, member.private_chat_id, text), None))
        else:
            by_chat.setdefault(dup.chat_pk, []).append((member, dup))
    for chat_pk, people in by_chat.items():
        chat = await s.get(Chat, chat_pk)
        text = t(
            "merge.resolved_group",
            locale,
            names="、".join(m.name for m, _ in people),
            number=ticket.id,
            category=categories.label(ticket.category, locale),
        )
        mentions = [m.user_id for m, _ in people]
        out.append((Outgoing(chat.platform, chat.chat_id, text, mention_user_ids=mentions), None))
    return out


async def on_split(msg: Incoming, deps: Deps) -> None:
    """/split 23 (拆分 23): a merged report becomes a ticket of its own again, audited."""
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]

    async def run(w: Work) -> None:
        if not head.isdigit():
            example = f"{spoken('split', msg.can)} 23"
            w.reply(t("workflow.usage", w.locale, example=example))
        else:
            await _split(w, int(head))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def _split(w: Work, number: int) -> None:
    s, locale, now = w.s, w.locale, w.now
    ticket = await repo.ticket_for_update(s, number)
    if ticket is None:
        w.reply(t("workflow.no_ticket", locale, number=number))
        return
    original = await s.get(Ticket, ticket.duplicate_of) if ticket.duplicate_of else None
    if ticket.status != workflow.DUPLICATE or original is None:
        w.reply(t("merge.not_merged", locale, number=number))
        return
    caps: set[str] = set()
    for side in (ticket, original):  # the secretary of either group may undo it
        if not w.source.is_group or side.chat_pk == w.chat.id:
            caps |= await authority.capacities(w, side.chat_pk)
    if authority.SECRETARY not in caps:
        w.reply(t("merge.split_not_allowed", locale, name=w.actor.name))
        return
    _, event = workflow.apply(
        ticket,
        "split",
        {workflow.SECRETARY},
        now=now,
        actor_pk=w.member.id,
        note=f"#{original.id}",
        message_id=w.source.message_id,
    )
    s.add(event)
    await s.flush()
    _, original.reporters = await store.report_counts(s, original.id)
    original.updated_at = now
    own = await s.get(Chat, ticket.chat_pk)
    card = Outgoing(
        own.platform,
        own.chat_id,
        cards.card_text(ticket, locale),
        reply_to=ticket.source_message_id,
        buttons=cards.card_buttons(ticket, locale),
        edit_message_id=CARD if ticket.card_message_id else None,
    )
    w.say(card, card_of=ticket.id)
    for out, card_of in await card_edit(s, w.deps, original):
        w.say(out, card_of=card_of)
    w.reply(t("merge.split_done", locale, number=ticket.id, original=original.id))
