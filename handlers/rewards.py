"""Spending points: /rewards (兑换) lists the catalogue, /redeem N (兑换 N) makes a short code,
/confirm CODE (核销 CODE) by the merchant or the secretary deducts the points, exactly once."""

from __future__ import annotations

import re
import secrets

from handlers import authority, cards, limits, tickets
from handlers import points_rules as pr
from handlers.commands import spoken
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.parsing import positive_int, ticket_number
from handlers.points import may_run_group, tell_privately
from handlers.roles import CODE_ALPHABET
from handlers.types import Incoming, Outgoing
from handlers.uow import CLI, Source, Work, perform
from storage import ledger
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
    verb, *rest = (msg.args or "").split() or [""]

    async def run(w: Work) -> None:
        locale = w.locale
        if verb.lower() in ADD_WORDS | OFF_WORDS:
            if not await may_run_group(w):
                w.reply(t("rewards.not_allowed", locale, name=w.actor.name))
            elif verb.lower() in ADD_WORDS:
                await _add(w, rest)
            else:
                await _withdraw(w, rest)
            return
        offered = await ledger.rewards_for(w.s, w.chat.id)
        if not offered:
            w.reply(t("rewards.none", locale))
            return
        example = f"{spoken('redeem', msg.can)} {offered[0].id}"
        lines = [t("rewards.header", locale, example=example)]
        lines += [reward_line(r, locale) for r in offered]
        w.reply("\n".join(lines))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def _add(w: Work, words: list[str]) -> None:
    locale = w.locale
    cost = positive_int(words[-1]) if len(words) >= 3 else None
    if cost is None:
        w.reply(t("rewards.add_usage", locale))
        return
    merchant, item = words[0], " ".join(words[1:-1])
    reward = Reward(
        merchant=merchant[:64],
        item=item[:128],
        cost=cost,
        chat_pk=w.chat.id,
        created_by_pk=w.member.id,
        created_at=w.now,
    )
    w.s.add(reward)
    await w.s.flush()
    w.reply(t("rewards.added", locale, line=reward_line(reward, locale)))


async def _withdraw(w: Work, words: list[str]) -> None:
    locale = w.locale
    number = positive_int(words[0]) if words else None
    reward = await w.s.get(Reward, number) if number else None
    if reward is not None and reward.chat_pk != w.chat.id:
        # Another group's reward (or a city-wide one) is withdrawn only by an admin.
        if authority.ADMIN not in await authority.capacities(w, w.chat.id):
            reward = None
    if reward is None:
        w.reply(t("rewards.no_such", locale, id=words[0] if words else ""))
        return
    reward.active = False
    w.reply(t("rewards.withdrawn", locale, line=reward_line(reward, locale)))


async def on_redeem(msg: Incoming, deps: Deps) -> None:
    """/redeem 3, 兑换 3: a short code for the merchant, if the balance covers it; no points
    leave yet. The code goes privately where the platform allows."""
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]

    async def run(w: Work) -> None:
        await ledger.expire_due(w.s, w.now)
        number = positive_int(head)
        reward = await w.s.get(Reward, number) if number else None
        if reward is not None and not (
            reward.active and reward.chat_pk in (None, w.chat.id)
        ):  # withdrawn, or another group's own
            reward = None
        if reward is None:
            key = "rewards.no_such" if head else "redeem.usage"
            w.reply(t(key, w.locale, id=head))
        else:
            await _make_code(w, reward)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def _make_code(w: Work, reward: Reward) -> None:
    s, member, now, locale = w.s, w.member, w.now, w.locale
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
        w.reply(text, mention=True)
        return
    if w.source.is_group and not member.private_chat_id:
        # A code said in a group of two hundred riders is anyone's lunch.
        w.reply(t("redeem.start_privately", locale, name=member.name, id=reward.id), mention=True)
        return
    code = new_code()
    while await ledger.code_taken(s, code):
        code = new_code()
    valid = w.config.redeem_valid
    s.add(
        Redemption(
            code=code,
            member_pk=member.id,
            reward_id=reward.id,
            cost=reward.cost,
            chat_pk=w.chat.id,
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
        "command": spoken("confirm", w.source.can),
    }
    their = normalise(member.language, locale)
    private, in_group = t("redeem.code", their, **values), t("redeem.code", locale, **values)
    tell_privately(w, member, private, in_group)


async def on_confirm(msg: Incoming, deps: Deps) -> str | None:
    """/confirm K7MX9Q, 核销 K7MX9Q: the merchant or secretary confirms a code and the points
    are deducted once. `/confirm 17` (a ticket number) confirms the ticket solved, as 确认 17."""
    head = (msg.args or "").strip().lstrip("#").split(" ")[0]
    if ticket_number(head) is not None:
        msg.command = "close"
        return await tickets.on_action(msg, deps)

    async def run(w: Work) -> None:
        who = (msg.platform, msg.sender.user_id, msg.chat_id, w.now)
        blocked = bool(head) and await limits.confirm_blocked(w.s, *who)
        found = looks_like_code(head) and not blocked
        redemption = await ledger.redemption_for_update(w.s, head) if found else None
        if not head:
            w.reply(t("confirm.usage", w.locale))
        elif blocked:
            minutes = int(limits.CONFIRM_WINDOW.total_seconds() // 60)
            w.reply(t("confirm.wait", w.locale, minutes=minutes))
        elif redemption is None or not await _may_confirm(w, redemption):
            # Not there, or not this person's to confirm: one answer, so codes cannot be probed.
            await limits.note_wrong_code(w.s, *who)
            w.reply(t("confirm.no_such", w.locale, code=head.upper()[:16]))
        else:
            await _confirm(w, redemption)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)
    return None


async def _may_confirm(w: Work, redemption: Redemption) -> bool:
    """An admin, the code's group's admin or secretary, or a merchant there or everywhere."""
    caps = await authority.capacities(w, redemption.chat_pk)
    return bool(caps & {authority.SECRETARY, authority.MERCHANT})


async def _confirm(w: Work, redemption: Redemption) -> None:
    s, now, locale, code = w.s, w.now, w.locale, redemption.code
    if redemption.status == ledger.PENDING and redemption.expires_at <= now:
        redemption.status = ledger.EXPIRED
    if redemption.status == ledger.CONFIRMED:
        when = cards.local_time(redemption.confirmed_at, w.config.timezone)
        w.reply(t("confirm.already", locale, code=code, when=when))
        return
    if redemption.status == ledger.EXPIRED:
        w.reply(t("confirm.expired", locale, code=code))
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
        w.reply(t("confirm.insufficient", locale, balance=total, **values))
        return
    written = await ledger.add_entry(
        s,
        member_pk=member.id,
        delta=-redemption.cost,
        reason=pr.REDEEM,
        redemption_id=redemption.id,
        chat_pk=redemption.chat_pk,
        actor_pk=w.member.id,
        at=now,
    )
    if not written:  # the ledger already holds it: never twice, whatever the status said
        redemption.status = ledger.CONFIRMED
        w.reply(t("confirm.already", locale, code=code, when="—"))
        return
    redemption.status, redemption.confirmed_by_pk, redemption.confirmed_at = (
        ledger.CONFIRMED,
        w.member.id,
        now,
    )
    left = total - redemption.cost
    w.reply(t("confirm.done", locale, balance=left, **values))
    if member.private_chat_id and member.private_chat_id != w.source.chat_id:
        their = normalise(member.language, locale)
        text = t("confirm.told", their, balance=left, **values)
        w.say(Outgoing(member.platform, member.private_chat_id, text))


async def expire_codes(deps: Deps) -> int:
    """Mark codes past their time expired (the bot also does this whenever codes are used)."""

    async def run(w: Work) -> int:
        return await ledger.expire_due(w.s, w.now)

    return await perform(deps, run, source=Source(CLI))
