"""The one rule for who may act: in which capacities a person stands in a chat.

Every door asks here (a chat command, a button, the web desk, the command line); nothing else
decides "may this person do this". `grant` is the pure rule; `capacities` reads the roles.
"""

from __future__ import annotations

from handlers.config import CoreConfig
from storage import repository as repo

# Capacities. A secretary runs a group's tickets, points and rewards; an official receives
# digests and acts on escalated tickets; a merchant confirms redemption codes; an admin is
# all of these everywhere (settings ADMIN_IDS, or the `admin` role).
ADMIN, SECRETARY, OFFICIAL, MERCHANT = "admin", "secretary", "official", "merchant"


def grant(roles: set[str], *, configured_admin: bool, chat_admin_here: bool) -> set[str]:
    """Capacities from the roles held in a chat (and everywhere), whether the settings name the
    person an admin, and whether the platform says they administer the chat the action came from
    *and* the action concerns that chat (a group's own admin runs that group, nothing else)."""
    caps = set(roles) & {ADMIN, SECRETARY, OFFICIAL, MERCHANT}
    if configured_admin:
        caps.add(ADMIN)
    if ADMIN in caps:
        caps |= {SECRETARY, OFFICIAL, MERCHANT}
    if chat_admin_here:
        caps.add(SECRETARY)
    return caps


async def capacities(w, chat_pk: int | None) -> set[str]:
    """What the actor of unit of work `w` may do in chat `chat_pk` (None: everywhere-roles)."""
    actor = w.actor
    if actor.is_system:
        return set()
    configured = w.config.is_admin(actor.platform, actor.user_id)
    here = w.chat is not None and chat_pk == w.chat.id
    roles = await repo.roles_of(w.s, w.member.id, chat_pk) if w.member is not None else set()
    return grant(roles, configured_admin=configured, chat_admin_here=actor.is_chat_admin and here)


def is_configured_admin(config: CoreConfig, platform: str | None, user_id: str | None) -> bool:
    return bool(platform and user_id) and config.is_admin(platform, user_id)
