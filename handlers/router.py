"""Which use case an incoming message goes to. An explicit table: add a command here."""

from __future__ import annotations

from handlers import (
    help,
    intake,
    notices,
    points,
    resolve_reply,
    rewards,
    roles,
    signin,
    subscriptions,
    tickets,
)
from handlers.commands import TICKET_ACTIONS, recognise
from handlers.deps import Deps
from handlers.geo import merge, stations
from handlers.geo.coords import plausible
from handlers.types import Incoming

HELP_COMMANDS = {"help", "start", "帮助"}
COMMANDS = {
    "tickets": tickets.on_list,
    "ticket": tickets.on_show,
    "secretary": roles.on_secretary,
    "claim": roles.on_claim,
    "subscribe_digest": subscriptions.on_subscribe,
    "unsubscribe_digest": subscriptions.on_unsubscribe,
    "points": points.on_points,
    "rank": points.on_rank,
    "company": points.on_company,
    "adjust": points.on_adjust,
    "rewards": rewards.on_rewards,
    "redeem": rewards.on_redeem,
    "confirm": rewards.on_confirm,
    "split": merge.on_split,
    "nearby": stations.on_nearby,
    "web": signin.on_web,
}
# What works in a group before it is enabled (an officials' chat is no served courier group).
UNSERVED_OK = {"enable", "subscribe_digest", "unsubscribe_digest", *HELP_COMMANDS}


async def handle(msg: Incoming, deps: Deps, privacy_warning: bool = False) -> str | None:
    """Route one message; return a short answer for a button press, if it had one."""
    recognise(msg)
    if (
        msg.command not in UNSERVED_OK
        and not roles.surely_serves(msg, deps)
        and not await roles.serves(msg, deps)
    ):
        return None
    if msg.command in HELP_COMMANDS:
        await help.on_help(msg, deps, privacy_warning=privacy_warning)
    elif msg.command == "enable":
        await roles.on_enable(msg, deps)
    elif resolve_reply.applies(msg):
        return await resolve_reply.on_photo(msg, deps)
    elif msg.command in TICKET_ACTIONS:
        return await tickets.on_action(msg, deps)
    elif msg.command in COMMANDS:
        await COMMANDS[msg.command](msg, deps)
    elif msg.location_unreadable:
        await notices.on_unreadable_location(msg, deps)
    elif msg.location and not plausible(msg.location.lat, msg.location.lon):
        await notices.on_impossible_location(msg, deps)
    elif msg.location and await stations.on_location(msg, deps):
        return None  # it answered a /nearby
    else:
        await intake.on_message(msg, deps)
    return None


async def handle_button(msg: Incoming, deps: Deps) -> str | None:
    """A pressed inline button: `msg.command` is the action, `msg.args` the ticket number."""
    if msg.command not in TICKET_ACTIONS:
        return None
    return await tickets.on_action(msg, deps, via_button=True)
