"""Intake: a rider's photo and location, in either order, become one ticket."""

from __future__ import annotations

import logging
from datetime import datetime

from handlers import categories, limits, pairing, prompts, recycled
from handlers.deps import Deps
from handlers.geo import place
from handlers.i18n import t
from handlers.imagework import process_photo
from handlers.photos import MAX_BYTES, PhotoRejected, ProcessedPhoto
from handlers.types import Incoming, Outgoing
from handlers.uow import Source, Work, perform
from storage import guards
from storage import repository as repo
from storage.drafthints import draft_hints
from storage.models import Draft, Photo, Ticket, TicketEvent, phash_bands

log = logging.getLogger(__name__)


async def on_message(msg: Incoming, deps: Deps) -> None:
    """A photo, a location, /report, or words that may describe a half-finished report."""
    key = (msg.platform, msg.chat_id, msg.sender.user_id)
    hints = draft_hints(deps.db)
    chatter = not (msg.photos or msg.location or msg.too_big or msg.command == "report")
    if chatter and (not msg.text or await hints.absent(key, deps.clock, msg.arrived)):
        return  # chatter from someone with no live draft here: no query of its own
    now = deps.clock()
    if chatter:

        async def awaiting_text(s) -> int | None:
            return await repo.draft_awaiting_text(s, *key, now)

        if await deps.db.run(awaiting_text, write=False) is None:
            return  # chatter: one lookup, no reply
    # A redelivered message changes nothing: `_apply`'s transaction finds it processed. A photo
    # redelivered (after a crash) is downloaded and processed once more for nothing; asking the
    # database first would cost every photo a trip to it instead.
    good, rejection = await _prepare_photos(msg, deps)
    hints.note(key, now + deps.config.pair_window)  # before: the draft may live until then
    await _apply(msg, deps, now, good, rejection)


async def _prepare_photos(
    msg: Incoming, deps: Deps
) -> tuple[list[tuple[ProcessedPhoto, str, str, str | None]], str | None]:
    """Download, check and store each photo; return the good ones and the first rejection."""
    good: list[tuple[ProcessedPhoto, str, str, str | None]] = []
    rejection = "photo.too_big" if msg.too_big else None
    for photo in msg.photos:
        try:
            if photo.size is not None and photo.size > MAX_BYTES:
                raise PhotoRejected("photo.too_big")
            try:
                data = await photo.read()
            except PhotoRejected:
                raise
            except Exception:
                log.exception("could not download photo %s", photo.unique_id)
                raise PhotoRejected("photo.fetch_failed") from None
            processed = await process_photo(data, photo.as_file)
        except PhotoRejected as e:
            rejection = rejection or e.key
            continue
        path, thumb = await deps.media.put(
            processed.sha256, processed.display_jpeg, processed.thumb_jpeg
        )
        good.append((processed, path, thumb, photo.unique_id))
    return good, rejection


async def _apply(
    msg: Incoming,
    deps: Deps,
    now: datetime,
    photos: list[tuple[ProcessedPhoto, str, str, str | None]],
    rejection: str | None,
) -> bool:
    """One transaction: record the message, update the draft, maybe open a ticket, queue replies."""
    cfg, locale = deps.config, deps.config.locale
    name = msg.sender.name

    async def transaction(w: Work) -> bool:
        s, chat, member = w.s, w.chat, w.member
        draft = await repo.draft_for_update(s, chat.id, member.id)
        if draft is None:
            draft = Draft(chat_pk=chat.id, member_pk=member.id, started_at=now, expires_at=now)
            s.add(draft)
        live = draft.expires_at > now
        has_content = bool(photos or msg.location)

        def reply(text: str, mention: bool = False, card_of: int | None = None) -> None:
            out = Outgoing(
                platform=msg.platform,
                chat_id=msg.chat_id,
                text=text,
                reply_to=msg.message_id,
                mention_user_ids=[msg.sender.user_id] if mention else [],
            )
            w.say(out, card_of=card_of)

        # The rest of an album, or words right after: they belong to the ticket just made.
        if live and draft.ticket_id is not None:
            same_album = msg.album_id is not None and msg.album_id == draft.album_id
            if not msg.location and msg.command != "report" and (same_album or not photos):
                ticket = await s.get(Ticket, draft.ticket_id)
                await _add_photos(s, draft, photos, now, ticket_id=ticket.id)
                if photos:
                    await recycled.check(s, deps, ticket, now)
                if msg.text and not ticket.description and describes(msg, ticket):
                    ticket.description = msg.text
                    if ticket.category == categories.OTHER:
                        ticket.category = categories.guess(msg.text)
                    ticket.updated_at = now
                if rejection:
                    reply(t(rejection, locale, name=name), mention=True)
                return rejection is not None

        if live and draft.ticket_id is None and photos:
            # handlers/pairing.py: a half of another report is dropped, never glued on.
            if await _another_report(s, draft, msg, photos, now):
                live = False
                await prompts.drop(s, draft)  # its question asked about the dropped half

        fresh = not live or draft.ticket_id is not None  # nothing on it belongs to this report
        if fresh:
            if not has_content and not rejection and msg.command != "report":
                return False  # words with nothing to attach to
            if draft.id is not None and draft.ticket_id is None:
                await repo.forget_draft_photos(s, draft.id)  # a half that expired unanswered
            _reset(draft, now, cfg.pair_window)

        if photos and msg.album_id:
            draft.album_id = msg.album_id
        if msg.location:
            draft.lat, draft.lon, draft.address = (
                msg.location.lat,
                msg.location.lon,
                msg.location.address,
            )
        elif draft.lat is None:
            gps = next((p.gps for p, *_ in photos if p.gps), None)
            if gps:
                draft.lat, draft.lon = gps.lat, gps.lon
        if msg.text and not draft.description and describes(msg):
            draft.description = msg.text
        if msg.command == "report" or msg.mentions_bot or categories.looks_like_report(msg.text):
            draft.wants_report = True
        await _add_photos(s, draft, photos, now, fresh=fresh)

        # Photos just added (or already on this draft, when skipped as repeats) need no lookup;
        # a fresh draft has none. Otherwise one query: whether there are any, and their hashes.
        hashes = None
        if not photos and not fresh:
            with s.no_autoflush:  # the draft's new fields go out once, with the ticket
                hashes = await repo.draft_photo_hashes(s, draft.id)
        has_photo = bool(photos) or bool(hashes)
        if has_photo and draft.lat is not None:
            await prompts.drop(s, draft)  # the half came within the grace: no question needed
            if await limits.reports_exhausted(s, member.id, now, cfg.reports_per_hour):
                return await _over_limit(s, draft, member.id, now, reply, locale, name, cfg)
            ticket = await _open_ticket(s, msg, draft, chat.id, member.id, now, cfg.pair_window)
            # Its grid, its group, a merge into an open ticket of the same problem (geo/place.py).
            queued = await place.on_new_ticket(s, deps, msg, ticket, now)
            await recycled.check(s, deps, ticket, now, [h for h in hashes or () if h] or None)
            for out, card_of in queued:
                w.say(out, card_of=card_of)
            return True
        if rejection:
            reply(t(rejection, locale, name=name), mention=True)
            return True
        if draft.wants_report and not draft.asked and (has_photo or draft.lat is not None):
            draft.asked = True
            key = "intake.ask_location" if has_photo else "intake.ask_photo"
            question = Outgoing(
                platform=msg.platform,
                chat_id=msg.chat_id,
                text=t(key, locale, name=name, minutes=cfg.window_minutes),
                reply_to=msg.message_id,
                mention_user_ids=[msg.sender.user_id],
            )
            await prompts.ask_later(s, draft, question, now, cfg.prompt_grace)
            return False  # nothing said yet
        if msg.command == "report" and not has_photo and draft.lat is None:
            reply(t("intake.howto", locale, name=name, minutes=cfg.window_minutes), mention=True)
            return True
        return False

    return bool(
        await perform(deps, transaction, source=Source.message(msg), sender=msg.sender, now=now)
    )


def describes(msg: Incoming, ticket: Ticket | None = None) -> bool:
    """Whether words sent while a report is open are its description. Only words about it are:
    the photo's caption, words to the bot (an @-mention, a reply to its message, /report),
    words naming a problem (a category keyword, 井盖松了), or a reply to the ticket's card or
    to the message that completed it. Anything else said meanwhile (今天好热啊) is chatter."""
    if msg.photos or msg.mentions_bot or msg.command == "report":
        return True
    if categories.looks_like_report(msg.text):
        return True
    replied = msg.reply_to
    return (
        ticket is not None
        and replied is not None
        and (replied in (ticket.card_message_id, ticket.source_message_id))
    )


async def _another_report(s, draft: Draft, msg: Incoming, photos, now: datetime) -> bool:
    held = pairing.Held(
        lat=draft.lat,
        lon=draft.lon,
        last_photo_at=await guards.last_held_photo_at(s, draft.id),
        album_id=draft.album_id,
    )
    gps = next((p.gps for p, *_ in photos if p.gps), None)
    return pairing.starts_new_report(
        held, now, has_photos=True, album_id=msg.album_id, photo_gps=gps
    )


async def _over_limit(s, draft: Draft, member_pk: int, now, reply, locale, name, cfg) -> bool:
    """Past REPORTS_PER_HOUR: no ticket, the halves dropped, the rider told once an hour."""
    await repo.forget_draft_photos(s, draft.id)
    _reset(draft, now, cfg.pair_window)
    draft.expires_at = now
    if await limits.first_slow_down_notice(s, member_pk, now):
        reply(t("intake.slow_down", locale, name=name, count=cfg.reports_per_hour), mention=True)
        return True
    return False


def _reset(draft: Draft, now: datetime, window) -> None:
    draft.started_at, draft.expires_at = now, now + window
    draft.lat = draft.lon = draft.address = draft.description = draft.album_id = None
    draft.wants_report = draft.asked = False
    draft.ticket_id = draft.prompt_outbox_id = None


async def _add_photos(
    s, draft: Draft, photos, now: datetime, ticket_id: int | None = None, fresh: bool = False
) -> None:
    """`fresh`: the draft was just (re)started, so it holds no photos to look up."""
    if not photos:
        return
    if draft.id is None:
        await s.flush()
    seen = set() if fresh else await repo.known_photo_ids(s, draft)
    for processed, path, thumb, unique_id in photos:
        if processed.sha256 in seen or (unique_id and unique_id in seen):
            continue  # the same picture twice in one report
        seen.update({processed.sha256, unique_id} - {None})
        s.add(
            Photo(
                sha256=processed.sha256,
                path=path,
                thumb_path=thumb,
                size_bytes=processed.size_bytes,
                width=processed.width,
                height=processed.height,
                platform_file_id=unique_id,
                phash=processed.phash,
                **phash_bands(processed.phash),
                draft_id=draft.id,
                ticket_id=ticket_id,
                created_at=now,
            )
        )
    await s.flush()


async def _open_ticket(
    s, msg: Incoming, draft: Draft, chat_pk: int, member_pk: int, now, window
) -> Ticket:
    ticket = Ticket(
        chat_pk=chat_pk,
        reporter_pk=member_pk,
        category=categories.guess(draft.description),
        description=draft.description,
        lat=draft.lat,
        lon=draft.lon,
        address=draft.address,
        source_message_id=msg.message_id,
        created_at=now,
        updated_at=now,
    )
    s.add(ticket)
    await s.flush()
    s.add(
        TicketEvent(
            ticket_id=ticket.id,
            action="report",
            from_status="",
            to_status=ticket.status,
            actor_pk=member_pk,
            note=draft.description,
            platform_message_id=msg.message_id,
            at=now,
        )
    )
    await repo.move_photos_to_ticket(s, draft.id, ticket.id)
    draft.ticket_id = ticket.id
    draft.expires_at = now + window  # the rest of an album and a caption sent after still land here
    return ticket
