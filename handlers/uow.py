"""The unit of work: one action, whatever door it came through, is one transaction.

A use case is `async def fn(w: Work) -> T`, run by `perform(deps, fn, source=…, actor=…)`.
`perform` records the source as processed (a redelivery stops there and nothing runs), knows
who acts and where, lets the use case queue what people are owed (`w.say`, `w.reply`) and
record ticket changes (`w.changed`, turned into cards, notices and points before the commit),
commits once, wakes the outbox sender, and picks the transaction path itself (`Database.run`:
one trip to the database thread on a SQLite file, the caller's loop on PostgreSQL).

`fn` only talks to its session (`w.s`): no tasks, events or other I/O of the loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from handlers.deps import Deps
from handlers.outbox import queue
from handlers.types import PLAIN, Capabilities, Incoming, Outgoing, Sender
from storage import repository as repo
from storage.models import Chat, Member

T = TypeVar("T")

CHAT, BUTTON, SCHEDULER, WEB, CLI, OPEN311 = "chat", "button", "scheduler", "web", "cli", "open311"


@dataclass(frozen=True)
class Actor:
    """Who acts: a person on a platform, or the bot itself (`Actor.system()`)."""

    platform: str | None
    user_id: str | None
    name: str
    language: str | None = None
    is_chat_admin: bool = False  # the platform says so, for the chat the action came from

    @classmethod
    def system(cls) -> Actor:
        return cls(None, None, "")

    @classmethod
    def of(cls, platform: str, sender: Sender) -> Actor:
        return cls(platform, sender.user_id, sender.name, sender.language, sender.is_chat_admin)

    @property
    def is_system(self) -> bool:
        return self.user_id is None


@dataclass(frozen=True)
class Source:
    """Where an action came from. A chat message or button carries the platform's message id,
    which makes a redelivery a no-op; other doors (web, scheduler) dedupe by their own rows."""

    door: str
    platform: str | None = None
    chat_id: str | None = None
    message_id: str | None = None
    chat_title: str | None = None
    is_group: bool = True
    can: Capabilities = PLAIN

    @classmethod
    def message(cls, msg: Incoming, door: str = CHAT) -> Source:
        return cls(
            door, msg.platform, msg.chat_id, msg.message_id, msg.chat_title, msg.is_group, msg.can
        )

    @property
    def in_chat(self) -> bool:
        return self.chat_id is not None


@dataclass(frozen=True)
class TicketChanged:
    """A domain event: a ticket moved. `perform` turns it into the card edit, the notices and
    the points, in the same transaction (handlers/consequences.py)."""

    ticket_id: int
    action: str
    actor_pk: int | None
    target: int | None = None
    push: bool = False  # the bot moved it by itself: quiet hours hold what it says
    picture: bytes | None = None  # before | after side by side (a resolution's 整改后照片)


@dataclass
class Work:
    """An open unit of work, as a use case sees it."""

    s: object  # the AsyncSession this transaction owns
    deps: Deps
    now: datetime
    source: Source
    actor: Actor
    chat: Chat | None = None  # the chat the action came from (a chat door)
    member: Member | None = None  # the acting person's row (None for the bot and the web)
    feedback: list[str] = field(default_factory=list)  # for doors that show text, not chat
    events: list[TicketChanged] = field(default_factory=list)
    queued: bool = False

    @property
    def config(self):
        return self.deps.config

    @property
    def locale(self) -> str:
        return self.deps.config.locale

    def say(self, out: Outgoing, *, card_of: int | None = None, push: bool = False) -> None:
        """Queue a message in this transaction (sent after the commit, through the outbox)."""
        queue(self.s, out, self.now, card_of_ticket=card_of, push=push)
        self.queued = True

    def reply(self, text: str, *, mention: bool = False) -> str:
        """Answer the one who acted where they acted: threaded in the chat for a message; shown
        to them alone for a button, a web form or the command line. Returns `text`."""
        src = self.source
        if src.door == CHAT and src.in_chat:
            named = mention and src.is_group and self.actor.user_id
            mentions = [self.actor.user_id] if named else []
            self.say(Outgoing(src.platform, src.chat_id, text, src.message_id, mentions))
        else:
            self.feedback.append(text)
        return text

    def changed(self, event: TicketChanged) -> None:
        self.events.append(event)


class Redelivered:
    """`perform`'s answer when the source was handled before: nothing ran."""

    def __bool__(self) -> bool:
        return False


REDELIVERED = Redelivered()


async def perform(
    deps: Deps,
    fn: Callable[[Work], Awaitable[T]],
    *,
    source: Source,
    actor: Actor | None = None,
    sender: Sender | None = None,
    write: bool = True,
    now: datetime | None = None,
    rows: bool = True,
) -> T | Redelivered:
    """Run `fn` as one unit of work. For a chat door, give the message's `sender`: its chat and
    member rows are noted and handed to `fn` as `w.chat` / `w.member` (unless `rows` is False,
    for an answer that needs neither)."""
    from handlers.consequences import settle  # the events' handlers use this module's types

    now = now or deps.clock()
    if actor is None:
        actor = Actor.of(source.platform, sender) if sender else Actor.system()

    async def transaction(s) -> tuple[T | Redelivered, Work | None]:
        if source.message_id is not None and write:
            claimed = await repo.mark_processed(
                s, source.platform, source.chat_id, source.message_id, now
            )
            if not claimed:
                return REDELIVERED, None
        w = Work(s, deps, now, source, actor)
        if source.in_chat and write and rows:
            w.chat = await repo.upsert_chat(
                s, source.platform, source.chat_id, source.chat_title, source.is_group, now
            )
        if actor.user_id is not None and actor.platform is not None and write and rows:
            w.member = await repo.upsert_member(
                s, actor.platform, actor.user_id, actor.name, actor.language, now
            )
        result = await fn(w)
        await settle(w)
        return result, w

    result, w = await deps.db.run(transaction, write=write)
    if w is not None and w.queued:
        deps.wake_outbox()
    return result
