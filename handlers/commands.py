"""Commands by name, and the Chinese words riders type instead (WeChat has no slash commands)."""

from __future__ import annotations

import re

from handlers.types import Capabilities, Incoming

TICKET_ACTIONS = ("accept", "dispatch", "escalate", "resolve", "reject", "dup", "reopen", "close")

# `受理 17`, `办结 17 已清理`: a word, then a ticket number.
NUMBERED_WORDS = {
    "受理": "accept",
    "派单": "dispatch",
    "吹哨": "escalate",
    "升级": "escalate",
    "解决": "resolve",
    "已解决": "resolve",
    "办结": "resolve",
    "驳回": "reject",
    "重复": "dup",
    "重开": "reopen",
    "重新打开": "reopen",
    "确认": "close",
    "确认解决": "close",
    "工单": "ticket",
    "兑换": "redeem",  # 兑换 3: reward number 3 (a bare 兑换 lists the rewards)
    "拆分": "split",  # 拆分 23: undo a merge, #23 is a ticket of its own again
}
# A whole message that is just the word.
BARE_WORDS = {
    "待办": "tickets",
    "工单列表": "tickets",
    "设为书记": "secretary",
    "启用": "enable",
    "帮助": "help",
    "上报": "report",
    "积分": "points",
    "我的积分": "points",
    "排行": "rank",
    "排行榜": "rank",
    "兑换": "rewards",
    "奖励": "rewards",
    "我的站点": "company",
    "订阅周报": "subscribe_digest",
    "退订周报": "unsubscribe_digest",
    "附近驿站": "nearby",
    "驿站": "nearby",
    "找驿站": "nearby",
    "后台": "web",
}
# 核销 K7MX9Q confirms a redemption code (确认 N already confirms a ticket solved).
CODE_WORDS = {
    "领取": "claim",
    "认领": "claim",
    "邀请码": "claim",
    "核销": "confirm",
    "调整积分": "adjust",
    "我的站点": "company",
}


_NUMBERED = re.compile(r"^\s*(\S+?)\s*#?(\d+)(?:\s+(.*))?\s*$", re.S)


def recognise(msg: Incoming) -> None:
    """Give a plain-text command its name, in place; chatter is left alone (a dict lookup)."""
    if msg.command or not msg.text or msg.photos or msg.location:
        return
    text = msg.text.strip()
    if text in BARE_WORDS:
        msg.command, msg.args = BARE_WORDS[text], ""
        return
    head, _, rest = text.partition(" ")
    if head in CODE_WORDS and rest.strip():
        msg.command, msg.args = CODE_WORDS[head], rest.strip()
        return
    m = _NUMBERED.match(text)
    if m and m.group(1) in NUMBERED_WORDS:
        msg.command = NUMBERED_WORDS[m.group(1)]
        msg.args = " ".join(x for x in (m.group(2), m.group(3)) if x)


def _first_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for table in (CODE_WORDS, NUMBERED_WORDS, BARE_WORDS):
        for word, command in table.items():
            words.setdefault(command, word)
    return words


WORD_FOR = _first_words()


def spoken(command: str, can: Capabilities) -> str:
    """How a person types `command` where they are: `/accept` with slash commands, else `受理`
    (WeChat has no slash commands to discover)."""
    if can.slash_commands or command not in WORD_FOR:
        return f"/{command}"
    return WORD_FOR[command]


def example(command: str, args: str, can: Capabilities) -> str:
    """`/accept 17` or `受理 17`, as the asker's platform takes it."""
    return f"{spoken(command, can)} {args}".strip()
