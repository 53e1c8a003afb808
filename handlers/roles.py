"""Who runs a group: appointing secretaries (by reply, invite code, command line) and /enable."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import timedelta

from handlers import authority
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming, Outgoing
from handlers.uow import CLI, Source, Work, perform
from storage import repository as repo
from storage.models import Invite

ROLES = ("secretary", "official", "admin", "merchant")  # a merchant confirms redemption codes
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


async def on_secretary(msg: Incoming, deps: Deps) -> None:
    """/secretary in reply to someone: that person becomes this group's secretary."""

    async def run(w: Work) -> None:
        target = msg.reply_to_sender
        if authority.SECRETARY not in await authority.capacities(w, w.chat.id):
            w.reply(t("roles.not_allowed", w.locale, name=w.actor.name))
        elif target is None or not msg.is_group:
            w.reply(t("roles.reply_needed", w.locale))
        else:
            member = await repo.upsert_member(
                w.s, msg.platform, target.user_id, target.name, target.language, w.now
            )
            new = await repo.grant(w.s, member.id, w.chat.id, "secretary", w.member.id, w.now)
            w.reply(t("roles.granted" if new else "roles.already", w.locale, name=target.name))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def on_claim(msg: Incoming, deps: Deps) -> None:
    """/claim CODE: a one-time invite makes the sender this group's secretary."""
    code = (msg.args or "").strip().upper()

    async def run(w: Work) -> None:
        invite = await repo.invite_for_update(w.s, code) if code else None
        if (
            invite is None
            or invite.used_at is not None
            or invite.expires_at <= w.now
            or invite.chat_pk != w.chat.id
        ):
            w.reply(t("claim.bad", w.locale, name=w.actor.name))
        else:
            invite.used_by_pk, invite.used_at = w.member.id, w.now
            await repo.grant(w.s, w.member.id, w.chat.id, invite.role, None, w.now)
            w.reply(t("claim.ok", w.locale, name=w.actor.name))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def on_enable(msg: Incoming, deps: Deps) -> None:
    """/enable by an admin: the bot starts serving this group."""

    async def run(w: Work) -> None:
        if authority.ADMIN not in await authority.capacities(w, w.chat.id):
            w.reply(t("enable.not_allowed", w.locale, name=w.actor.name))
        elif w.chat.enabled:
            w.reply(t("enable.already", w.locale))
        else:
            w.chat.enabled = True
            w.reply(t("enable.ok", w.locale))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


def surely_serves(msg: Incoming, deps: Deps) -> bool:
    """Served, known without the database: ALLOWED_CHATS says so, or the chat was seen enabled
    (`enabled` is never taken back, so this process remembering it is right after a restart and
    beside a second instance)."""
    allowed = deps.config.allowed_chats
    if not msg.is_group or not allowed or msg.chat_id in allowed:
        return True
    return (msg.platform, msg.chat_id) in deps.served_chats


async def serves(msg: Incoming, deps: Deps) -> bool:
    """Whether the bot works in this chat; an unserved group hears how to enable it, once."""
    if surely_serves(msg, deps):
        return True
    async with deps.db.read() as s:
        chat = await repo.find_chat(s, msg.platform, msg.chat_id)
    if chat is not None and chat.enabled:
        deps.served_chats.add((msg.platform, msg.chat_id))
    if chat is not None and (chat.enabled or chat.told_how_to_enable):
        return chat.enabled

    async def run(w: Work) -> bool:
        if w.chat.enabled or w.chat.told_how_to_enable:
            return w.chat.enabled
        w.chat.told_how_to_enable = True
        w.say(Outgoing(msg.platform, msg.chat_id, t("enable.howto", w.locale)))
        return False

    # Not the message's own unit of work (that comes after, if served): no message id here.
    chat_only = replace(Source.message(msg), message_id=None)
    return await perform(deps, run, source=chat_only)


# The command line's side: `woodpecker roles …` and `woodpecker invite …`.


async def grant_role(
    deps: Deps, platform: str, user_id: str, role: str, chat_id: str | None, name: str | None = None
) -> bool:

    async def run(w: Work) -> bool:
        member = await repo.find_member(w.s, platform, user_id)
        if member is None or name:  # never replace a known name with the bare id
            member = await repo.upsert_member(w.s, platform, user_id, name or user_id, None, w.now)
        chat_pk = None
        if chat_id is not None:
            chat = await repo.upsert_chat(w.s, platform, chat_id, None, True, w.now)
            chat_pk = chat.id
        return await repo.grant(w.s, member.id, chat_pk, role, None, w.now)

    return await perform(deps, run, source=Source(CLI))


async def revoke_role(
    deps: Deps, platform: str, user_id: str, role: str, chat_id: str | None
) -> bool:

    async def run(w: Work) -> bool:
        member = await repo.find_member(w.s, platform, user_id)
        chat = await repo.find_chat(w.s, platform, chat_id) if chat_id else None
        if member is None or (chat_id and chat is None):
            return False
        return await repo.revoke(w.s, member.id, chat.id if chat else None, role)

    return await perform(deps, run, source=Source(CLI))


async def list_roles(deps: Deps) -> list[str]:
    async with deps.db.read() as s:
        rows = await repo.list_roles(s)
    return [
        f"{role.role}\t{member.platform}:{member.user_id}\t{member.name}\t"
        f"{chat.chat_id + ' ' + (chat.title or '') if chat else '*'}"
        for role, member, chat in rows
    ]


async def make_invite(
    deps: Deps,
    platform: str,
    chat_id: str,
    role: str = "secretary",
    valid: timedelta = timedelta(days=3),
) -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))

    async def run(w: Work) -> None:
        chat = await repo.upsert_chat(w.s, platform, chat_id, None, True, w.now)
        w.s.add(
            Invite(
                code=code, role=role, chat_pk=chat.id, created_at=w.now, expires_at=w.now + valid
            )
        )

    await perform(deps, run, source=Source(CLI))
    return code
