"""Riders' points: /points (积分), /rank (排行), /company (我的站点), and /adjust by a secretary."""

from __future__ import annotations

import re

from handlers import authority, cards, categories
from handlers import points_rules as pr
from handlers.deps import Deps
from handlers.i18n import normalise, t
from handlers.types import Incoming, Outgoing
from handlers.uow import Source, Work, perform
from storage import ledger
from storage import repository as repo
from storage.models import Member, PointEntry, Redemption, Reward, Ticket

RECENT = 5
RANK_TOP = 5
PERIODS = ("week", "month", "year")
_WORDS = re.compile(r"[\s\u2005]+")
_DELTA = re.compile(r"^[+\-＋－−]?\d+$")


def tell_privately(w: Work, member: Member, private: str, in_group: str) -> None:
    """Where the platform allows (the rider started the bot), the answer goes to the private
    chat and the group hears one line; otherwise `in_group` is said where they asked."""
    if w.source.is_group and member.private_chat_id:
        w.say(Outgoing(member.platform, member.private_chat_id, private))
        w.reply(t("points.sent_privately", w.locale, name=w.actor.name))
    elif not w.source.is_group:
        w.reply(private)
    else:
        w.reply(in_group, mention=True)


async def may_run_group(w: Work) -> bool:
    """An admin, the group's own admin, or its secretary (in a group only)."""
    if not w.source.is_group:
        return False
    return authority.SECRETARY in await authority.capacities(w, w.chat.id)


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

    async def run(w: Work) -> None:
        s, member, now = w.s, w.member, w.now
        locale = normalise(member.language, w.locale)
        group_locale = w.locale
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
        tell_privately(w, member, "\n".join(lines), one_line)

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def on_rank(msg: Incoming, deps: Deps) -> None:
    """/rank, 排行: this group's top riders this week, month and year (first names only)."""

    async def run(w: Work) -> None:
        locale, now = w.locale, w.now
        if not msg.is_group:
            w.reply(t("rank.group_only", locale))
            return
        lines = [t("rank.header", locale)]
        for period in PERIODS:
            since = pr.period_start(now, deps.config.timezone, period)
            rows = await ledger.rank(w.s, w.chat.id, pr.RANKED, since, RANK_TOP)
            board = " · ".join(
                f"{i}. {pr.first_name(m.name)} {n}" for i, (m, n) in enumerate(rows, 1)
            )
            label = t(f"rank.{period}", locale)
            board = board or t("rank.nobody", locale)
            lines.append(t("rank.line", locale, period=label, board=board))
        w.reply("\n".join(lines))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def on_company(msg: Incoming, deps: Deps) -> None:
    """/company 美团XX站, 我的站点: which company or station the rider rides for."""
    company = (msg.args or "").strip()[:64]

    async def run(w: Work) -> None:
        member, locale = w.member, w.locale
        if company:
            member.company = company
            w.reply(t("company.set", locale, name=member.name, company=company))
        elif member.company:
            w.reply(t("company.is", locale, name=member.name, company=member.company))
        else:
            w.reply(t("company.usage", locale, name=member.name))

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


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


async def _adjust_target(w: Work, msg: Incoming, name: str | None) -> list[Member]:
    target = msg.reply_to_sender
    if name is None and target is not None:
        member = await repo.upsert_member(
            w.s, msg.platform, target.user_id, target.name, target.language, w.now
        )
        return [member]
    if name is None:
        return []
    return await ledger.members_named(w.s, msg.platform, name)


async def on_adjust(msg: Incoming, deps: Deps) -> None:
    """/adjust @老王 +5 原因 (调整积分): the secretary adds or takes points, with a reason."""
    name, delta, reason = parse_adjust(msg.args)

    async def run(w: Work) -> None:
        locale = w.locale
        targets = await _adjust_target(w, msg, name) if delta else []
        if not await may_run_group(w):
            w.reply(t("adjust.not_allowed", locale, name=w.actor.name))
        elif not delta or not reason.strip():
            w.reply(t("adjust.usage", locale))
        elif len(targets) != 1:
            key = "adjust.ambiguous" if targets else "adjust.who"
            w.reply(t(key, locale, name=name or ""))
        else:
            await _adjust(w, targets[0], delta, reason.strip())

    await perform(deps, run, source=Source.message(msg), sender=msg.sender)


async def _adjust(w: Work, member: Member, delta: int, reason: str) -> None:
    locale, actor = w.locale, w.member
    total = await ledger.balance(w.s, member.id)
    if total + delta < 0:
        w.reply(t("adjust.too_much", locale, name=member.name, balance=total, amount=-delta))
        return
    await ledger.add_entry(
        w.s,
        member_pk=member.id,
        delta=delta,
        reason=pr.ADJUST,
        chat_pk=w.chat.id,
        actor_pk=actor.id,
        note=reason,
        at=w.now,
    )
    values = {"name": member.name, "delta": f"{delta:+d}", "reason": reason, "by": actor.name}
    w.reply(t("adjust.done", locale, balance=total + delta, **values))
    if member.private_chat_id and member.id != actor.id:
        their = normalise(member.language, locale)
        text = t("adjust.told", their, balance=total + delta, **values)
        w.say(Outgoing(member.platform, member.private_chat_id, text))
