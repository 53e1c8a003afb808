"""Who runs a group: appointing secretaries (by reply, invite code, command line) and /enable."""

from __future__ import annotations

import secrets
from datetime import timedelta

from handlers.arrival import arrival, reply
from handlers.deps import Deps
from handlers.i18n import t
from handlers.types import Incoming, Outgoing, Sender
from storage import repository as repo
from storage.models import Invite

ROLES = ("secretary", "official", "admin", "merchant")  # a merchant confirms redemption codes
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


async def may_appoint(s, deps: Deps, msg: Incoming, member_pk: int, chat_pk: int) -> bool:
    if deps.config.is_admin(msg.platform, msg.sender.user_id) or msg.sender.is_chat_admin:
        return True
    return bool(await repo.roles_of(s, member_pk, chat_pk) & {"secretary", "admin"})


async def on_secretary(msg: Incoming, deps: Deps) -> None:
    """/secretary in reply to someone: that person becomes this group's secretary."""
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, actor = arrived
        target = msg.reply_to_sender
        if not await may_appoint(s, deps, msg, actor.id, chat.id):
            reply(s, msg, t("roles.not_allowed", locale, name=msg.sender.name), now)
        elif target is None or not msg.is_group:
            reply(s, msg, t("roles.reply_needed", locale), now)
        else:
            member = await repo.upsert_member(s, msg.platform, target, now)
            new = await repo.grant(s, member.id, chat.id, "secretary", actor.id, now)
            reply(
                s,
                msg,
                t("roles.granted" if new else "roles.already", locale, name=target.name),
                now,
            )
    deps.wake_outbox()


async def on_claim(msg: Incoming, deps: Deps) -> None:
    """/claim CODE: a one-time invite makes the sender this group's secretary."""
    locale, now = deps.config.locale, deps.clock()
    code = (msg.args or "").strip().upper()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, member = arrived
        invite = await repo.invite_for_update(s, code) if code else None
        if (
            invite is None
            or invite.used_at is not None
            or invite.expires_at <= now
            or invite.chat_pk != chat.id
        ):
            reply(s, msg, t("claim.bad", locale, name=msg.sender.name), now)
        else:
            invite.used_by_pk, invite.used_at = member.id, now
            await repo.grant(s, member.id, chat.id, invite.role, None, now)
            reply(s, msg, t("claim.ok", locale, name=msg.sender.name), now)
    deps.wake_outbox()


async def on_enable(msg: Incoming, deps: Deps) -> None:
    """/enable by an admin: the bot starts serving this group."""
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, _ = arrived
        if not deps.config.is_admin(msg.platform, msg.sender.user_id):
            reply(s, msg, t("enable.not_allowed", locale, name=msg.sender.name), now)
        elif chat.enabled:
            reply(s, msg, t("enable.already", locale), now)
        else:
            chat.enabled = True
            reply(s, msg, t("enable.ok", locale), now)
    deps.wake_outbox()


def surely_serves(msg: Incoming, deps: Deps) -> bool:
    """Served, known without the database: ALLOWED_CHATS says so, or the chat was seen enabled
    (`enabled` is never taken back, so this process remembering it is right after a restart and
    beside a second instance)."""
    allowed = deps.config.allowed_chats
    if not msg.is_group or not allowed or msg.chat_id in allowed:
        return True
    return (msg.platform, msg.chat_id) in deps.db.caches.get("enabled_chats", ())


async def serves(msg: Incoming, deps: Deps) -> bool:
    """Whether the bot works in this chat; an unserved group hears how to enable it, once."""
    if surely_serves(msg, deps):
        return True
    async with deps.db.read() as s:
        chat = await repo.find_chat(s, msg.platform, msg.chat_id)
    if chat is not None and chat.enabled:
        deps.db.caches.setdefault("enabled_chats", set()).add((msg.platform, msg.chat_id))
    if chat is not None and (chat.enabled or chat.told_how_to_enable):
        return chat.enabled
    now = deps.clock()
    async with deps.db.write() as s:
        chat = await repo.upsert_chat(
            s, msg.platform, msg.chat_id, msg.chat_title, msg.is_group, now
        )
        if chat.enabled or chat.told_how_to_enable:
            return chat.enabled
        chat.told_how_to_enable = True
        repo.enqueue(
            s, Outgoing(msg.platform, msg.chat_id, t("enable.howto", deps.config.locale)), now
        )
    deps.wake_outbox()
    return False


# The command line's side: `woodpecker roles …` and `woodpecker invite …`.


async def grant_role(
    deps: Deps, platform: str, user_id: str, role: str, chat_id: str | None, name: str | None = None
) -> bool:
    now = deps.clock()
    async with deps.db.write() as s:
        member = await repo.find_member(s, platform, user_id)
        if member is None or name:  # never replace a known name with the bare id
            member = await repo.upsert_member(s, platform, Sender(user_id, name or user_id), now)
        chat_pk = None
        if chat_id is not None:
            chat = await repo.upsert_chat(s, platform, chat_id, None, True, now)
            chat_pk = chat.id
        return await repo.grant(s, member.id, chat_pk, role, None, now)


async def revoke_role(
    deps: Deps, platform: str, user_id: str, role: str, chat_id: str | None
) -> bool:
    async with deps.db.write() as s:
        member = await repo.find_member(s, platform, user_id)
        chat = await repo.find_chat(s, platform, chat_id) if chat_id else None
        if member is None or (chat_id and chat is None):
            return False
        return await repo.revoke(s, member.id, chat.id if chat else None, role)


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
    now = deps.clock()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    async with deps.db.write() as s:
        chat = await repo.upsert_chat(s, platform, chat_id, None, True, now)
        s.add(Invite(code=code, role=role, chat_pk=chat.id, created_at=now, expires_at=now + valid))
    return code
