"""Signing in to the desk without a password: `/web` (后台) in a private chat sends a one-time
link; opening it makes a browser session. Who may sign in and what they see: `handlers.desk`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from handlers.deps import Deps
from handlers.desk import SEEING_ROLES, Viewer, may_sign_in
from handlers.geo import grids
from handlers.i18n import normalise, t
from handlers.types import Incoming
from handlers.uow import WEB, Actor, Source, Work, perform
from storage import access
from storage.models import Chat, Member


async def on_web(msg: Incoming, deps: Deps) -> None:
    """/web: a sign-in link, privately, to a person who holds a role (or is a configured admin).
    In a group the bot says where to ask instead: a link said there is anyone's."""
    locale = normalise(msg.sender.language, deps.config.locale)

    async def run(w: Work) -> None:
        cfg = w.config
        if msg.is_group:
            w.reply(t("web.private_only", locale, name=msg.sender.name))
        elif not cfg.web_url:
            w.reply(t("web.off", locale))
        elif not may_sign_in(await access.roles_held(w.s, w.member.id), _configured(w)):
            w.reply(t("web.no_role", locale))
        else:
            secret = secrets.token_urlsafe(32)
            await access.add_link(w.s, secret, w.member.id, w.now, w.now + cfg.web_link_valid)
            minutes = int(cfg.web_link_valid.total_seconds() // 60)
            w.reply(t("web.link", locale, url=f"{cfg.web_url}/login/{secret}", minutes=minutes))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender, rows=not msg.is_group)


def _configured(w: Work) -> bool:
    return w.config.is_admin(w.actor.platform, w.actor.user_id)


async def link_is_live(deps: Deps, secret: str) -> bool:
    now = deps.clock()
    return await deps.db.run(lambda s: access.link_is_live(s, secret, now), write=False)


@dataclass(frozen=True)
class SignedIn:
    session: str  # the cookie's value (only its hash is stored)
    csrf: str


async def redeem(deps: Deps, secret: str, valid: timedelta) -> SignedIn | None:
    """Spend a sign-in link (once, unexpired) for a session; None when it cannot be."""

    async def run(w: Work) -> SignedIn | None:
        member_pk = await access.use_link(w.s, secret, w.now)
        if member_pk is None:
            return None
        member = await w.s.get(Member, member_pk)
        configured = w.config.is_admin(member.platform, member.user_id)
        if not may_sign_in(await access.roles_held(w.s, member_pk), configured):
            return None  # the role was taken away since the link was sent
        signed = SignedIn(secrets.token_urlsafe(32), secrets.token_urlsafe(24))
        await access.add_session(w.s, signed.session, member_pk, signed.csrf, w.now, w.now + valid)
        return signed

    return await perform(deps, run, source=Source(WEB), actor=Actor.system())


async def viewer(deps: Deps, session: str) -> Viewer | None:
    """The signed-in person behind a session cookie, with what they may see now (roles are
    read on every request: a role taken away stops showing at once)."""
    now = deps.clock()

    async def read(s) -> Viewer | None:
        found = await access.live_session(s, session, now)
        if found is None:
            return None
        ws, member = found
        roles = await access.roles_held(s, member.id)
        configured = deps.config.is_admin(member.platform, member.user_id)
        areas = await _areas(s, deps, roles)
        return Viewer.of(member, roles, configured, ws.csrf, areas)

    return await deps.db.run(read, write=False)


async def sign_out(deps: Deps, session: str) -> None:
    async def run(w: Work) -> None:
        await access.end_session(w.s, session, w.now)

    await perform(deps, run, source=Source(WEB), actor=Actor.system())


async def _areas(s, deps: Deps, roles: list[tuple[str, int | None]]) -> tuple[tuple[str, str], ...]:
    """The areas (street, district…) whose chats this person serves as official or secretary."""
    found = []
    for role, chat_pk in roles:
        if chat_pk is None or role not in SEEING_ROLES:
            continue
        chat = await s.get(Chat, chat_pk)
        area = await grids.area_of_chat(s, deps, f"{chat.platform}:{chat.chat_id}")
        if area is not None and area not in found:
            found.append(area)
    return tuple(found)
