"""The desk's rules: who may sign in, which groups' tickets a person sees, and the desk's
actions, each the same use case as in the chat (`tickets.act`), re-checked by
`handlers.authority` whatever the browser sent."""

from __future__ import annotations

from dataclasses import dataclass

from handlers import authority, escalation, tickets, workflow
from handlers.deps import Deps
from handlers.geo import grids
from handlers.uow import WEB, Actor, Source, Work, perform
from storage import desk, repository
from storage.models import Member, Ticket

SIGN_IN_ROLES = {authority.ADMIN, authority.SECRETARY, authority.OFFICIAL, authority.MERCHANT}
# A group's tickets are seen by its secretaries and officials; the officials of an area's chat
# (a street's, a district's, from the grids file) see the tickets lying in that area.
SEEING_ROLES = {authority.SECRETARY, authority.OFFICIAL}
DESK_ACTIONS = ("accept", "dispatch", "escalate", "resolve", "reject")


def may_sign_in(roles: list[tuple[str, int | None]], configured_admin: bool) -> bool:
    return configured_admin or any(role in SIGN_IN_ROLES for role, _ in roles)


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what they may see. `groups` None: every group (an admin, or a
    secretary or official everywhere)."""

    member_pk: int
    platform: str
    user_id: str
    name: str
    language: str | None
    configured_admin: bool
    groups: frozenset[int] | None
    reads_digest: bool  # officials and admins read the weekly digest
    csrf: str
    areas: tuple[tuple[str, str], ...] = ()  # (level, name) of the area chats they serve

    @classmethod
    def of(
        cls,
        member: Member,
        roles: list[tuple[str, int | None]],
        configured: bool,
        csrf: str,
        areas: tuple[tuple[str, str], ...] = (),
    ) -> Viewer:
        seeing = SEEING_ROLES | {authority.ADMIN}  # an admin role in one group: that group
        everywhere = configured or any(r in seeing and chat is None for r, chat in roles)
        groups = (
            None
            if everywhere
            else frozenset(chat for r, chat in roles if chat is not None and r in seeing)
        )
        digest = configured or any(r in (authority.ADMIN, authority.OFFICIAL) for r, _ in roles)
        return cls(
            member.id,
            member.platform,
            member.user_id,
            member.name,
            member.language,
            configured,
            groups,
            digest,
            csrf,
            areas,
        )

    def sees(self, chat_pk: int) -> bool:
        """A group's tickets (or a photo's): by the groups alone."""
        return self.groups is None or chat_pk in self.groups

    def sees_ticket(self, ticket: Ticket) -> bool:
        if self.sees(ticket.chat_pk):
            return True
        return any(grids.ticket_in_area(ticket, level, name) for level, name in self.areas)

    @property
    def scope(self) -> desk.Scope:
        """For the desk's queries: None (everything), or the groups and areas seen."""
        if self.groups is None:
            return None
        return desk.Seen(self.groups, self.areas)

    @property
    def actor(self) -> Actor:
        return Actor(self.platform, self.user_id, self.name, self.language)


async def runs_group(s, viewer: Viewer, chat_pk: int) -> bool:
    """Whether the authority makes this person a secretary of the group (or an admin)."""
    roles = await repository.roles_of(s, viewer.member_pk, chat_pk)
    caps = authority.grant(roles, configured_admin=viewer.configured_admin, chat_admin_here=False)
    return authority.SECRETARY in caps


async def desk_actions(s, viewer: Viewer, ticket: Ticket) -> list[str]:
    """The buttons to show: what the authority lets this person do to the ticket now. Showing
    is a courtesy; `act` decides again."""
    in_area = any(
        grids.ticket_in_area(ticket, level, name)
        and ticket.tier <= escalation.TIER_OF_LEVEL.get(level, 0)
        for level, name in viewer.areas
    )
    if not in_area and not await runs_group(s, viewer, ticket.chat_pk):
        return []
    allowed = workflow.allowed_actions(ticket.status, workflow.SECRETARY)
    return [a for a in DESK_ACTIONS if a in allowed]


async def visible_ticket(deps: Deps, viewer: Viewer, number: int) -> Ticket | None:
    async def read(s) -> Ticket | None:
        ticket = await s.get(Ticket, number)
        return ticket if ticket is not None and viewer.sees_ticket(ticket) else None

    return await deps.db.run(read, write=False)


async def act(deps: Deps, viewer: Viewer, cmd: tickets.TicketCommand) -> tickets.Outcome | None:
    """A desk action on a ticket the person can see (None: they cannot, so it is not there for
    them), through the one use case behind every door."""
    if cmd.number is None or await visible_ticket(deps, viewer, cmd.number) is None:
        return None
    return await tickets.act(deps, cmd, source=Source(WEB), actor=viewer.actor)


async def set_public(deps: Deps, viewer: Viewer, photo_id: int, public: bool) -> bool | None:
    """Clear a photo for the public (Open311 media links) or take it back: the group's
    secretary (or an admin). None: no such photo for this person; False: not allowed."""

    async def run(w: Work) -> bool | None:
        found = await desk.photo_with_chat(w.s, photo_id)
        if found is None or not viewer.sees(found[1]):
            return None
        if authority.SECRETARY not in await authority.capacities(w, found[1]):
            return False
        found[0].public = public
        return True

    return await perform(deps, run, source=Source(WEB), actor=viewer.actor)
