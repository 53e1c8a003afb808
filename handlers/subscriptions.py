"""Which chats receive the weekly digest: `/subscribe_digest` there, or the command line."""

from __future__ import annotations

from handlers import authority
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming
from handlers.uow import CLI, Source, Work, perform
from storage import repository as repo
from storage import scheduling

MAY_SUBSCRIBE = {authority.ADMIN, authority.OFFICIAL}


async def on_subscribe(msg: Incoming, deps: Deps) -> None:
    """/subscribe_digest by an admin or official: this chat gets the weekly digest."""
    await _change(msg, deps, subscribe=True)


async def on_unsubscribe(msg: Incoming, deps: Deps) -> None:
    """/unsubscribe_digest by an admin or official: this chat no longer gets the digest."""
    await _change(msg, deps, subscribe=False)


async def _change(msg: Incoming, deps: Deps, subscribe: bool) -> None:
    async def run(w: Work) -> None:
        caps = await authority.capacities(w, w.chat.id)
        if not caps & MAY_SUBSCRIBE:
            key = "digest.subscribe_not_allowed"
        elif subscribe:
            new = await scheduling.subscribe(w.s, w.chat.id, w.member.id, w.now)
            key = "digest.subscribed" if new else "digest.already_subscribed"
        else:
            gone = await scheduling.unsubscribe(w.s, w.chat.id)
            key = "digest.unsubscribed" if gone else "digest.not_subscribed"
        w.reply(t(key, w.locale, name=w.actor.name, weekday=_weekday(deps), time=_time(deps)))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


def _weekday(deps: Deps) -> str:
    return t(f"weekday.{deps.config.digest_weekday}", deps.config.locale)


def _time(deps: Deps) -> str:
    return deps.config.digest_at.strftime("%H:%M")


# The command line's side: `woodpecker digest subscribe|unsubscribe|list`.


async def subscribe_chat(deps: Deps, platform: str, chat_id: str, subscribe: bool = True) -> bool:
    async def run(w: Work) -> bool:
        chat = await repo.upsert_chat(w.s, platform, chat_id, None, True, w.now)
        if subscribe:
            return await scheduling.subscribe(w.s, chat.id, None, w.now)
        return await scheduling.unsubscribe(w.s, chat.id)

    return await perform(deps, run, source=Source(CLI))


async def list_subscriptions(deps: Deps) -> list[str]:
    async with deps.db.read() as s:
        chats = await scheduling.subscribed_chats(s)
    return [f"{c.platform}\t{c.chat_id}\t{c.title or ''}" for c in chats]
