"""Spending points: /rewards (兑换) lists the catalogue, /redeem N (兑换 N) makes a short code,
/confirm CODE (核销 CODE) by the merchant or the secretary deducts the points, exactly once."""

from __future__ import annotations

import re
import secrets

from handlers import cards, limits, tickets
from handlers import points_rules as pr
from handlers.arrival import arrival, reply
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.parsing import positive_int, ticket_number
from handlers.points import may_run_group, tell_privately
from handlers.roles import CODE_ALPHABET
from handlers.types import Incoming, Outgoing
from storage import ledger
from storage import repository as repo
from storage.models import Member, Redemption, Reward

CODE_LENGTH = 6
LETTERS = "".join(c for c in CODE_ALPHABET if c.isalpha())
_CODE = re.compile(r"^[A-Za-z0-9]{4,16}$")
ADD_WORDS, OFF_WORDS = {"add", "添加", "新增"}, {"off", "disable", "停用", "下架"}


def new_code() -> str:
    """Six characters read aloud easily; the first a letter, so a code never looks like a
    ticket number (`/confirm 17` closes ticket 17, `/confirm K7MX9Q` confirms a code)."""
    rest = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH - 1))
    return secrets.choice(LETTERS) + rest


def looks_like_code(word: str) -> bool:
    return bool(_CODE.match(word)) and not word.isdigit()


def reward_line(reward: Reward, locale: str) -> str:
    return t(
        "rewards.line",
        locale,
        id=reward.id,
        merchant=reward.merchant,
        item=reward.item,
        cost=reward.cost,
    )


async def on_rewards(msg: Incoming, deps: Deps) -> None:
    """/rewards, 兑换: the catalogue here; a secretary adds (`/rewards add 面馆 午餐 50`) or
    withdraws (`/rewards off 3`) this group's own rewards."""
    locale, now = deps.config.locale, deps.clock()
    verb, *rest = (msg.args or "").split() or [""]
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, actor = arrived
        if verb.lower() in ADD_WORDS | OFF_WORDS:
            if not msg.is_group or not await may_run_group(s, deps, msg, actor, chat.id):
                reply(s, msg, t("rewards.not_allowed", locale, name=msg.sender.name), now)
            elif verb.lower() in ADD_WORDS:
                await _add(s, msg, chat.id, actor.id, rest, locale, now)
            else:
                await _withdraw(s, deps, msg, chat.id, rest, locale, now)
        else:
            offered = await ledger.rewards_for(s, chat.id)
            if not offered:
                text = t("rewards.none", locale)
            else:
                example = "/redeem" if msg.platform == "telegram" else "兑换"
                lines = [t("rewards.header", locale, example=f"{example} {offered[0].id}")]
                lines += [reward_line(r, locale) for r in offered]
                text = "\n".join(lines)
            reply(s, msg, text, now)
    deps.wake_outbox()


async def _add(s, msg: Incoming, chat_pk: int, actor_pk: int, words, locale, now) -> None:
    cost = positive_int(words[-1]) if len(words) >= 3 else None
    if cost is None:
        reply(s, msg, t("rewards.add_usage", locale), now)
        return
    merchant, item = words[0], " ".join(words[1:-1])
    reward = Reward(
        merchant=merchant[:64],
        item=item[:128],
        cost=cost,
        chat_pk=chat_pk,
        created_by_pk=actor_pk,
        created_at=now,
    )
    s.add(reward)
    await s.flush()
    reply(s, msg, t("rewards.added", locale, line=reward_line(reward, locale)), now)


async def _withdraw(s, deps: Deps, msg: Incoming, chat_pk: int, words, locale, now) -> None:
    number = positive_int(words[0]) if words else None
    reward = await s.get(Reward, number) if number else None
    is_admin = deps.config.is_admin(msg.platform, msg.sender.user_id)
    if reward is None or (reward.chat_pk != chat_pk and not is_admin):
        reply(s, msg, t("rewards.no_such", locale, id=words[0] if words else ""), now)
        return
    reward.active = False
    reply(s, msg, t("rewards.withdrawn", locale, line=reward_line(reward, locale)), now)


async def on_redeem(msg: Incoming, deps: Deps) -> None:
    """/redeem 3, 兑换 3: a short code for the merchant, if the balance covers it; no points
    leave yet. The code goes privately where the platform allows."""
    locale, now = deps.config.locale, deps.clock()
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, member = arrived
        await ledger.expire_due(s, now)
        number = positive_int(head)
        reward = await s.get(Reward, number) if number else None
        if reward is not None and not (
            reward.active and reward.chat_pk in (None, chat.id)
        ):  # withdrawn, or another group's own
            reward = None
        if reward is None:
            key = "rewards.no_such" if head else "redeem.usage"
            reply(s, msg, t(key, locale, id=head), now)
        else:
            await _make_code(s, deps, msg, chat.id, member, reward, now)
    deps.wake_outbox()


async def _make_code(s, deps: Deps, msg, chat_pk: int, member: Member, reward, now) -> None:
    locale = deps.config.locale
    total = await ledger.balance(s, member.id)
    held = await ledger.held(s, member.id, now)
    if total - held < reward.cost:
        held_text = t("redeem.held_part", locale, held=held) if held else ""
        text = t(
            "redeem.insufficient",
            locale,
            name=member.name,
            balance=total,
            held=held_text,
            item=reward.item,
            cost=reward.cost,
        )
        reply(s, msg, text, now, mention=True)
        return
    if msg.is_group and not member.private_chat_id:
        # A code said in a group of two hundred riders is anyone's lunch.
        text = t("redeem.start_privately", locale, name=member.name, id=reward.id)
        reply(s, msg, text, now, mention=True)
        return
    code = new_code()
    while await ledger.code_taken(s, code):
        code = new_code()
    valid = deps.config.redeem_valid
    s.add(
        Redemption(
            code=code,
            member_pk=member.id,
            reward_id=reward.id,
            cost=reward.cost,
            chat_pk=chat_pk,
            created_at=now,
            expires_at=now + valid,
        )
    )
    values = {
        "name": member.name,
        "code": code,
        "merchant": reward.merchant,
        "item": reward.item,
        "cost": reward.cost,
        "hours": int(valid.total_seconds() // 3600),
        "command": "/confirm" if msg.platform == "telegram" else "核销",
    }
    their = normalise(member.language, locale)
    private, in_group = t("redeem.code", their, **values), t("redeem.code", locale, **values)
    tell_privately(s, msg, member, private, in_group, now, locale)


async def on_confirm(msg: Incoming, deps: Deps) -> str | None:
    """/confirm K7MX9Q, 核销 K7MX9Q: the merchant or secretary confirms a code and the points
    are deducted once. `/confirm 17` (a ticket number) confirms the ticket solved, as 确认 17."""
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]
    if ticket_number(head) is not None:
        msg.command = "close"
        return await tickets.on_action(msg, deps)
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return None
        chat, actor = arrived
        who = (msg.platform, msg.sender.user_id, msg.chat_id, now)
        blocked = bool(head) and await limits.confirm_blocked(s, *who)
        found = looks_like_code(head) and not blocked
        redemption = await ledger.redemption_for_update(s, head) if found else None
        if not head:
            reply(s, msg, t("confirm.usage", locale), now)
        elif blocked:
            minutes = int(limits.CONFIRM_WINDOW.total_seconds() // 60)
            reply(s, msg, t("confirm.wait", locale, minutes=minutes), now)
        elif redemption is None or not await _may_confirm(s, deps, msg, actor, chat.id, redemption):
            # Not there, or not this person's to confirm: one answer, so codes cannot be probed.
            await limits.note_wrong_code(s, *who)
            reply(s, msg, t("confirm.no_such", locale, code=head.upper()[:16]), now)
        else:
            await _confirm(s, deps, msg, actor, redemption, now)
    deps.wake_outbox()
    return None


async def _may_confirm(s, deps: Deps, msg, actor: Member, chat_pk: int, redemption) -> bool:
    """An admin, the code's group's admin or secretary, or a merchant there or everywhere."""
    if deps.config.is_admin(msg.platform, msg.sender.user_id):
        return True
    if msg.sender.is_chat_admin and chat_pk == redemption.chat_pk:
        return True
    roles = await repo.roles_of(s, actor.id, redemption.chat_pk)
    return bool(roles & {"secretary", "admin", "merchant"})


async def _confirm(s, deps: Deps, msg, actor: Member, redemption: Redemption, now) -> None:
    locale, code = deps.config.locale, redemption.code
    if redemption.status == ledger.PENDING and redemption.expires_at <= now:
        redemption.status = ledger.EXPIRED
    if redemption.status == ledger.CONFIRMED:
        when = cards.local_time(redemption.confirmed_at, deps.config.timezone)
        reply(s, msg, t("confirm.already", locale, code=code, when=when), now)
        return
    if redemption.status == ledger.EXPIRED:
        reply(s, msg, t("confirm.expired", locale, code=code), now)
        return
    member = await s.get(Member, redemption.member_pk)
    reward = await s.get(Reward, redemption.reward_id)
    total = await ledger.balance(s, member.id)
    values = {
        "code": code,
        "name": member.name,
        "merchant": reward.merchant,
        "item": reward.item,
        "cost": redemption.cost,
    }
    if total < redemption.cost:
        reply(s, msg, t("confirm.insufficient", locale, balance=total, **values), now)
        return
    written = await ledger.add_entry(
        s,
        member_pk=member.id,
        delta=-redemption.cost,
        reason=pr.REDEEM,
        redemption_id=redemption.id,
        chat_pk=redemption.chat_pk,
        actor_pk=actor.id,
        at=now,
    )
    if not written:  # the ledger already holds it: never twice, whatever the status said
        redemption.status = ledger.CONFIRMED
        reply(s, msg, t("confirm.already", locale, code=code, when="—"), now)
        return
    redemption.status, redemption.confirmed_by_pk, redemption.confirmed_at = (
        ledger.CONFIRMED,
        actor.id,
        now,
    )
    left = total - redemption.cost
    reply(s, msg, t("confirm.done", locale, balance=left, **values), now)
    if member.private_chat_id and member.private_chat_id != msg.chat_id:
        their = normalise(member.language, locale)
        text = t("confirm.told", their, balance=left, **values)
        repo.enqueue(s, Outgoing(member.platform, member.private_chat_id, text), now)


async def expire_codes(deps: Deps) -> int:
    """Mark codes past their time expired (the bot also does this whenever codes are used)."""
    async with deps.db.write() as s:
        return await ledger.expire_due(s, deps.clock())
