"""Which chats receive the weekly digest: `/subscribe_digest` there, or the command line."""

from __future__ import annotations

from handlers.arrival import arrival
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming, Outgoing
from storage import repository as repo
from storage import scheduling

MAY_SUBSCRIBE = {"admin", "official"}


async def on_subscribe(msg: Incoming, deps: Deps) -> None:
    """/subscribe_digest by an admin or official: this chat gets the weekly digest."""
    await _change(msg, deps, subscribe=True)


async def on_unsubscribe(msg: Incoming, deps: Deps) -> None:
    """/unsubscribe_digest by an admin or official: this chat no longer gets the digest."""
    await _change(msg, deps, subscribe=False)


async def _change(msg: Incoming, deps: Deps, subscribe: bool) -> None:
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, actor = arrived
        allowed = deps.config.is_admin(msg.platform, msg.sender.user_id) or bool(
            await repo.roles_of(s, actor.id, chat.id) & MAY_SUBSCRIBE
        )
        if not allowed:
            key = "digest.subscribe_not_allowed"
        elif subscribe:
            new = await scheduling.subscribe(s, chat.id, actor.id, now)
            key = "digest.subscribed" if new else "digest.already_subscribed"
        else:
            gone = await scheduling.unsubscribe(s, chat.id)
            key = "digest.unsubscribed" if gone else "digest.not_subscribed"
        text = t(key, locale, name=msg.sender.name, weekday=_weekday(deps), time=_time(deps))
        repo.enqueue(s, Outgoing(msg.platform, msg.chat_id, text, reply_to=msg.message_id), now)
    deps.wake_outbox()


def _weekday(deps: Deps) -> str:
    return t(f"weekday.{deps.config.digest_weekday}", deps.config.locale)


def _time(deps: Deps) -> str:
    return deps.config.digest_at.strftime("%H:%M")


# The command line's side: `woodpecker digest subscribe|unsubscribe|list`.


async def subscribe_chat(deps: Deps, platform: str, chat_id: str, subscribe: bool = True) -> bool:
    now = deps.clock()
    async with deps.db.write() as s:
        chat = await repo.upsert_chat(s, platform, chat_id, None, True, now)
        if subscribe:
            return await scheduling.subscribe(s, chat.id, None, now)
        return await scheduling.unsubscribe(s, chat.id)


async def list_subscriptions(deps: Deps) -> list[str]:
    async with deps.db.read() as s:
        chats = await scheduling.subscribed_chats(s)
    return [f"{c.platform}\t{c.chat_id}\t{c.title or ''}" for c in chats]
