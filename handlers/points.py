"""Riders' points: /points (积分), /rank (排行), /company (我的站点), and /adjust by a secretary."""

from __future__ import annotations

import re
from datetime import datetime

from handlers import cards, categories
from handlers import points_rules as pr
from handlers.arrival import arrival, reply
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.types import Incoming, Outgoing
from storage import ledger
from storage import repository as repo
from storage.models import Chat, Member, PointEntry, Redemption, Reward, Ticket

RECENT = 5
RANK_TOP = 5
PERIODS = ("week", "month", "year")
_WORDS = re.compile(r"[\s\u2005]+")
_DELTA = re.compile(r"^[+\-＋－−]?\d+$")


def tell_privately(
    s, msg: Incoming, member: Member, private: str, in_group: str, now: datetime, locale: str
) -> None:
    """Where the platform allows (the rider started the bot), the answer goes to the private
    chat and the group hears one line; otherwise `in_group` is said where they asked."""
    if msg.is_group and member.private_chat_id:
        repo.enqueue(s, Outgoing(msg.platform, member.private_chat_id, private), now)
        reply(s, msg, t("points.sent_privately", locale, name=msg.sender.name), now)
    elif not msg.is_group:
        reply(s, msg, private, now)
    else:
        reply(s, msg, in_group, now, mention=True)


async def may_run_group(s, deps: Deps, msg: Incoming, actor: Member, chat_pk: int | None) -> bool:
    """An admin, the group's own admin, or its secretary."""
    if deps.config.is_admin(msg.platform, msg.sender.user_id):
        return True
    if msg.sender.is_chat_admin and msg.is_group:
        return True
    return bool(await repo.roles_of(s, actor.id, chat_pk) & {"secretary", "admin"})


async def entry_line(s, entry: PointEntry, deps: Deps, locale: str) -> str:
    """`11-20 10:00 +10 #3 井盖损坏 已解决` — one ledger line as the rider reads it."""
    values: dict[str, object] = {"number": entry.ticket_id, "note": entry.note or ""}
    if entry.ticket_id is not None:
        ticket = await s.get(Ticket, entry.ticket_id)
        values["category"] = categories.label(ticket.category, locale)
    if entry.redemption_id is not None:
        redemption = await s.get(Redemption, entry.redemption_id)
        reward = await s.get(Reward, redemption.reward_id)
        values.update(merchant=reward.merchant, item=reward.item, code=redemption.code)
    what = t(f"points.line.{entry.reason}", locale, **values)
    if entry.note == "cap" and entry.reason in pr.EARNED:
        what += t("points.line.capped", locale)
    when = cards.local_time(entry.at, deps.config.timezone)
    return f"{when} {entry.delta:+d} {what}"


async def on_points(msg: Incoming, deps: Deps) -> None:
    """/points, 积分: my balance and last entries (privately where possible, else one line)."""
    now = deps.clock()
    async with deps.db.write() as s:
        if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
            return
        await repo.upsert_chat(s, msg.platform, msg.chat_id, msg.chat_title, msg.is_group, now)
        member = await repo.upsert_member(s, msg.platform, msg.sender, now)
        locale = normalise(member.language, deps.config.locale)
        group_locale = deps.config.locale
        total = await ledger.balance(s, member.id)
        held = await ledger.held(s, member.id, now)
        entries = await ledger.recent(s, member.id, RECENT)
        lines = [t("points.balance", locale, name=member.name, balance=total)]
        if held:
            lines.append(t("points.held", locale, held=held))
        if entries:
            lines.append(t("points.recent", locale))
            lines += ["  " + await entry_line(s, e, deps, locale) for e in entries]
        else:
            lines.append(t("points.none_yet", locale))
        last = await entry_line(s, entries[0], deps, group_locale) if entries else ""
        one_line = t(
            "points.one_line",
            group_locale,
            name=member.name,
            balance=total,
            last=t("points.one_line_last", group_locale, last=last) if last else "",
        )
        tell_privately(s, msg, member, "\n".join(lines), one_line, now, group_locale)
    deps.wake_outbox()


async def on_rank(msg: Incoming, deps: Deps) -> None:
    """/rank, 排行: this group's top riders this week, month and year (first names only)."""
    locale, now = deps.config.locale, deps.clock()
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, _ = arrived
        if not msg.is_group:
            reply(s, msg, t("rank.group_only", locale), now)
        else:
            lines = [t("rank.header", locale)]
            for period in PERIODS:
                since = pr.period_start(now, deps.config.timezone, period)
                rows = await ledger.rank(s, chat.id, pr.RANKED, since, RANK_TOP)
                board = " · ".join(
                    f"{i}. {pr.first_name(m.name)} {n}" for i, (m, n) in enumerate(rows, 1)
                )
                label = t(f"rank.{period}", locale)
                board = board or t("rank.nobody", locale)
                lines.append(t("rank.line", locale, period=label, board=board))
            reply(s, msg, "\n".join(lines), now)
    deps.wake_outbox()


async def on_company(msg: Incoming, deps: Deps) -> None:
    """/company 美团XX站, 我的站点: which company or station the rider rides for."""
    locale, now = deps.config.locale, deps.clock()
    company = (msg.args or "").strip()[:64]
    async with deps.db.write() as s:
        if not await repo.mark_processed(s, msg.platform, msg.chat_id, msg.message_id, now):
            return
        member = await repo.upsert_member(s, msg.platform, msg.sender, now)
        if company:
            member.company = company
            reply(s, msg, t("company.set", locale, name=member.name, company=company), now)
        elif member.company:
            text = t("company.is", locale, name=member.name, company=member.company)
            reply(s, msg, text, now)
        else:
            reply(s, msg, t("company.usage", locale, name=member.name), now)
    deps.wake_outbox()


def parse_adjust(args: str) -> tuple[str | None, int | None, str]:
    """`@老王 +5 帮忙疏导` → ("老王", 5, "帮忙疏导"); the name may be left out when replying."""
    words = [w for w in _WORDS.split((args or "").strip()) if w]
    name = None
    if words and not _DELTA.match(words[0]):
        name = words.pop(0).lstrip("@＠") or None
    if not words or not _DELTA.match(words[0]):
        return name, None, ""
    raw = words.pop(0).replace("＋", "+").replace("－", "-").replace("−", "-")
    return name, int(raw), " ".join(words)


async def _adjust_target(s, msg: Incoming, name: str | None, now) -> list[Member]:
    if name is None and msg.reply_to_sender is not None:
        return [await repo.upsert_member(s, msg.platform, msg.reply_to_sender, now)]
    if name is None:
        return []
    return await ledger.members_named(s, msg.platform, name)


async def on_adjust(msg: Incoming, deps: Deps) -> None:
    """/adjust @老王 +5 原因 (调整积分): the secretary adds or takes points, with a reason."""
    locale, now = deps.config.locale, deps.clock()
    name, delta, reason = parse_adjust(msg.args)
    async with deps.db.write() as s:
        arrived = await arrival(s, msg, now)
        if arrived is None:
            return
        chat, actor = arrived
        targets = await _adjust_target(s, msg, name, now) if delta else []
        if not msg.is_group or not await may_run_group(s, deps, msg, actor, chat.id):
            reply(s, msg, t("adjust.not_allowed", locale, name=msg.sender.name), now)
        elif not delta or not reason.strip():
            reply(s, msg, t("adjust.usage", locale), now)
        elif len(targets) != 1:
            key = "adjust.ambiguous" if targets else "adjust.who"
            reply(s, msg, t(key, locale, name=name or ""), now)
        else:
            await _adjust(s, deps, msg, chat, actor, targets[0], delta, reason.strip(), now)
    deps.wake_outbox()


async def _adjust(
    s, deps: Deps, msg: Incoming, chat: Chat, actor: Member, member: Member, delta, reason, now
) -> None:
    locale = deps.config.locale
    total = await ledger.balance(s, member.id)
    if total + delta < 0:
        text = t("adjust.too_much", locale, name=member.name, balance=total, amount=-delta)
        reply(s, msg, text, now)
        return
    await ledger.add_entry(
        s,
        member_pk=member.id,
        delta=delta,
        reason=pr.ADJUST,
        chat_pk=chat.id,
        actor_pk=actor.id,
        note=reason,
        at=now,
    )
    values = {"name": member.name, "delta": f"{delta:+d}", "reason": reason, "by": actor.name}
    reply(s, msg, t("adjust.done", locale, balance=total + delta, **values), now)
    if member.private_chat_id and member.id != actor.id:
        their = normalise(member.language, locale)
        text = t("adjust.told", their, balance=total + delta, **values)
        repo.enqueue(s, Outgoing(member.platform, member.private_chat_id, text), now)
