"""The weekly digest: its numbers against counts made here from the same rows, its chart, its
spreadsheet, the command line, subscribing, and delivery through Telegram, WeChat and WeCom."""

from __future__ import annotations

import io
import math
import sqlite3
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from PIL import Image

from bot.cli import main
from bot.cli.seed import Plan, seed
from bot.settings import Settings
from bot.wecom import WeComPort, WeComPusher, robot_id
from handlers import digest, runs
from handlers.deps import Deps
from handlers.digest_render import cjk_font
from handlers.periods import previous_weeks, week_span
from handlers.types import Attachment, Outgoing
from storage.db import Database
from storage.media import MediaStore
from storage.stats import CLUSTER_GRID, CLUSTER_MIN
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN as TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI

END = datetime(2026, 11, 23, 4, 0)  # Monday noon in Shanghai
WEEK = "2026-W46"  # a week with later history: tickets it counts moved on afterwards
TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("digest") / "seed.db"
    seed(path, Plan(tickets=4000, groups=5, riders=150, days=49, end=END))
    return path


@pytest.fixture
async def deps(seeded):
    db = Database(f"sqlite:///{seeded}")
    yield Deps(db=db, media=MediaStore("unused"), clock=lambda: END)
    await db.dispose()


def _t(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def independent_counts(path: Path, week: str, overdue: timedelta) -> dict:
    """The digest's numbers, counted in plain Python from every row."""
    span = week_span(week, TZ)
    s, e = span.start, span.end
    con = sqlite3.connect(path)
    rows = con.execute(
        "SELECT t.id, t.chat_pk, t.reporter_pk, t.status, t.category, t.lat, t.lon, t.created_at,"
        " t.accepted_at, t.resolved_at, t.closed_at, c.title, m.name, m.company"
        " FROM ticket t JOIN chat c ON c.id = t.chat_pk JOIN member m ON m.id = t.reporter_pk"
    ).fetchall()
    points = con.execute("SELECT member_pk, delta, reason, at FROM pointentry").fetchall()
    con.close()
    tickets = [
        dict(
            id=r[0], chat=r[11], reporter=r[2], name=r[12], company=r[13], status=r[3],
            category=r[4], lat=r[5], lon=r[6], created=_t(r[7]), accepted=_t(r[8]),
            resolved=_t(r[9]), closed=_t(r[10]),
        )
        for r in rows
    ]  # fmt: skip

    def within(at):
        return at is not None and s <= at < e

    def open_at_end(x):
        done = (x["resolved"] and x["resolved"] < e) or (x["closed"] and x["closed"] < e)
        return x["created"] < e and not done

    new = [x for x in tickets if within(x["created"])]
    resolved = [x for x in tickets if within(x["resolved"])]
    still_open = [x for x in tickets if open_at_end(x)]
    late = [x for x in still_open if x["created"] < e - overdue]
    durations = sorted((x["resolved"] - x["created"]).total_seconds() for x in resolved)

    def nearest_rank(p):
        return durations[max(1, math.ceil(p * len(durations))) - 1]

    cells = Counter(
        (x["category"], int(x["lat"] * CLUSTER_GRID), int(x["lon"] * CLUSTER_GRID)) for x in new
    )
    by_reporter = Counter(x["reporter"] for x in new)
    earned = defaultdict(int)
    for member, delta, reason, at in points:
        if reason != "redeem" and within(_t(at)):
            earned[member] += delta
    companies = Counter(x["company"] for x in new if x["company"])
    history = []
    for w in [*previous_weeks(span, 4, TZ), span]:
        history.append(
            (
                w.key,
                sum(w.start <= x["created"] < w.end for x in tickets),
                sum(
                    x["resolved"] is not None and w.start <= x["resolved"] < w.end for x in tickets
                ),
            )
        )
    return {
        "new": len(new),
        "accepted": sum(within(x["accepted"]) for x in tickets),
        "resolved": len(resolved),
        "rejected": sum(x["status"] == "rejected" and within(x["closed"]) for x in tickets),
        "open": len(still_open),
        "overdue": len(late),
        "median": nearest_rank(0.5),
        "p90": nearest_rank(0.9),
        "history": history,
        "category_new": Counter(x["category"] for x in new),
        "category_resolved": Counter(x["category"] for x in resolved),
        "group_new": Counter(x["chat"] for x in new),
        "group_open": Counter(x["chat"] for x in still_open),
        "group_overdue": Counter(x["chat"] for x in late),
        "oldest_overdue": [x["id"] for x in sorted(late, key=lambda x: (x["created"], x["id"]))],
        "clusters": {k: n for k, n in cells.items() if n >= CLUSTER_MIN},
        "top_reports": sorted(by_reporter.values(), reverse=True)[:10],
        "reporters_total": len(by_reporter),
        "earned": earned,
        "points": sum(earned.values()),
        "companies": companies,
    }


async def test_the_digest_numbers_equal_counts_made_independently_from_the_rows(deps, seeded):
    w = await digest.numbers(deps, WEEK)
    want = independent_counts(seeded, WEEK, deps.config.sla_resolve)
    assert want["new"] > 300 and want["open"] > 0 and want["overdue"] > 0 and want["clusters"]
    got = {k: getattr(w, k) for k in ("new", "accepted", "resolved", "rejected", "open")}
    assert got == {k: want[k] for k in got}
    assert w.overdue == want["overdue"]
    assert abs(w.median_resolve.total_seconds() - want["median"]) <= 1
    assert abs(w.p90_resolve.total_seconds() - want["p90"]) <= 1
    assert w.history == want["history"]
    assert {c: n for c, n, _ in w.by_category if n} == dict(want["category_new"])
    assert {c: r for c, _, r in w.by_category if r} == dict(want["category_resolved"])
    assert {g.title: g.new for g in w.by_group if g.new} == dict(want["group_new"])
    assert {g.title: g.open for g in w.by_group if g.open} == dict(want["group_open"])
    assert {g.title: g.overdue for g in w.by_group if g.overdue} == dict(want["group_overdue"])
    assert [o.id for o in w.overdue_list] == want["oldest_overdue"][: len(w.overdue_list)]
    assert {
        (c.category, int(c.lat * CLUSTER_GRID), int(c.lon * CLUSTER_GRID)): c.count
        for c in w.clusters
    }.items() <= want["clusters"].items()
    assert [c.count for c in w.clusters] == sorted(want["clusters"].values(), reverse=True)[:10]
    assert [r.reports for r in w.reporters] == want["top_reports"]
    assert w.reporters_total == want["reporters_total"]
    assert w.points == want["points"]
    assert {c.company: c.reports for c in w.companies} == dict(want["companies"].most_common(10))


async def test_the_chart_shows_chinese_and_the_spreadsheet_holds_the_numbers(deps):
    font = cjk_font()
    assert font is not None, "no CJK font: setup.sh installs mplfonts with the project"
    result = await digest.build(deps, WEEK, END)
    image = Image.open(io.BytesIO(result.png))
    assert image.format == "PNG" and image.size[0] >= 1200
    book = load_workbook(io.BytesIO(result.xlsx))
    summary = {row[0]: row[1] for row in book["概览"].iter_rows(values_only=True)}
    assert summary["新上报"] == result.numbers.new and summary["超期"] == result.numbers.overdue
    assert book.sheetnames == [
        "概览", "近五周", "按类别", "按群", "超期工单", "重复上报", "积极参与", "参与单位",
    ]  # fmt: skip
    lines = result.text.split("\n")
    assert lines[0] == "📊 啄木鸟周报 2026-W46（11-09 至 11-15）"
    assert lines[1] == (
        f"新上报 {result.numbers.new} 件 · 受理 {result.numbers.accepted} · "
        f"解决 {result.numbers.resolved} · 驳回 {result.numbers.rejected}"
    )
    assert any(line.startswith("与前四周比：") for line in lines)
    assert len(result.text) < 4096  # one Telegram message


def test_the_command_line_renders_a_week_to_files(seeded, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "out"
    assert main(["digest", "--week", "2026-w46", "--out", str(out), "--db", str(seeded)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"woodpecker-{WEEK}.{x}" for x in ("png", "txt", "xlsx")]
    assert capsys.readouterr().out.startswith("📊 啄木鸟周报 2026-W46")
    assert main(["digest", "--week", "47", "--db", str(seeded)]) == 2


def test_subscriptions_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/wp.db")
    assert main(["digest", "subscribe", "--chat", "-100777", "--create"]) == 0
    assert main(["digest", "subscribe", "--chat", "-100777"]) == 0
    assert main(["digest", "list"]) == 0
    assert main(["digest", "unsubscribe", "--chat", "-100777"]) == 0
    out = capsys.readouterr().out.split("\n")
    assert out[:4] == [
        "subscribed / 已订阅",
        "already subscribed / 已订阅过",
        "telegram\t-100777\t",
        "unsubscribed / 已退订",
    ]


ADMIN = tu.user(9001, "运营")
OFFICIALS = {"id": -100555, "type": "supergroup", "title": "街道社会工作部"}


async def test_an_admin_subscribes_a_telegram_chat_which_gets_text_chart_and_sheet(tmp_path, clock):
    from bot.telegram.runner import TelegramBot

    api = FakeTelegramAPI(token=TOKEN, bot_username="woodpecker_bot")
    await api.start()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TOKEN,
        telegram_base_url=api.base_url,
        admin_user_ids=[str(ADMIN["id"])],
        allowed_chats=["-100123"],  # the officials' chat is no served courier group
        telegram_rate_limit=False,
    )
    bot = TelegramBot(settings, clock=clock)
    await bot.start()
    try:
        await runs.mark_started(bot.core.deps, clock())
        api.push_update(tu.command(tu.user(7001, "老王"), "/subscribe_digest", chat=OFFICIALS))
        api.push_update(tu.command(ADMIN, "/subscribe_digest", chat=OFFICIALS))
        await api.wait_for_sent(2)
        assert [s["text"] for s in api.sent[:2]] == [
            "老王，只有管理员或街道/区里的负责人能订阅周报。",
            "本群已订阅啄木鸟周报，每周一 09:00 发送。",
        ]
        clock.now = datetime(2026, 11, 23, 1, 0)  # Monday 09:00 in Shanghai
        assert await digest.run_weekly_digest(bot.core.deps, clock()) == 1
        sent = await api.wait_for_sent(5)
        text, photo, document = sent[2:5]
        assert text["method"] == "sendMessage" and "2026-W47" in text["text"]
        assert photo["method"] == "sendPhoto" and photo["caption"] == "2026-W47 周报图表"
        assert document["method"] == "sendDocument"
        assert photo["params"]["photo"].startswith(b"\x89PNG")  # uploaded, multipart
        assert document["params"]["document"].startswith(b"PK")  # an XLSX is a zip
        assert all(s["chat_id"] == OFFICIALS["id"] for s in sent[2:5])
    finally:
        await bot.stop()
        await api.stop()


async def test_the_wechat_port_sends_a_file_as_a_filebox(tmp_path):
    from bot.wechat.port import WeChatPort
    from bot.wechat.sdk import Wechaty, WechatyOptions
    from tests.fakes.wechat_puppet import WeChatFakePuppet

    puppet = WeChatFakePuppet()
    puppet.add_room("r1@chatroom", "街道", {"wxid_a": "甲"})
    wechaty = Wechaty(WechatyOptions(puppet=puppet))
    await wechaty.init_puppet()
    port = WeChatPort(wechaty)
    data = b"PK\x03\x04 sheet"
    out = Outgoing(
        "wechat", "r1@chatroom", "明细", attachment=Attachment("document", "w.xlsx", data)
    )
    await port.send(out)
    [said] = puppet.pop()
    assert said.file.name == "w.xlsx" and said.text == ""


async def test_wecom_robots_get_the_text_as_markdown_and_the_chart_as_an_image():
    posted = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append((request.url.params["key"], request.read()))
        return httpx.Response(200, json={"errcode": 0, "errmsg": "ok"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    port = WeComPort(WeComPusher(["KEY-1"], "http://wecom.test/send", client=client))
    png = io.BytesIO()
    Image.new("RGB", (40, 30), "white").save(png, "PNG")
    rid = robot_id("KEY-1")
    await port.send(Outgoing("wecom", rid, "📊 啄木鸟周报"))
    await port.send(
        Outgoing("wecom", rid, "", attachment=Attachment("photo", "c.png", png.getvalue()))
    )
    await client.aclose()
    assert [key for key, _ in posted] == ["KEY-1", "KEY-1"]
    assert b'"msgtype": "markdown"' in posted[0][1] and b'"msgtype": "image"' in posted[1][1]
    assert len(rid) == 16 and "KEY" not in rid


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Path:
    """Seven groups and every category: more than the text and the chart list one by one."""
    path = tmp_path_factory.mktemp("wide") / "seed.db"
    seed(path, Plan(tickets=3000, groups=7, riders=150, days=35, end=END))
    return path


def _group_lines(text: str) -> list[str]:
    lines = text.split("\n")
    start = lines.index("按群：") + 1
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("  "))
    return lines[start:end]


async def test_text_chart_and_sheet_add_up_where_categories_and_groups_are_folded(wide):
    db = Database(f"sqlite:///{wide}")
    try:
        result = await digest.build(Deps(db=db, media=MediaStore("unused")), WEEK, END)
    finally:
        await db.dispose()
    w = result.numbers
    assert len([c for c in w.by_category if c[1]]) > 8 and len(w.by_group) > 5
    [line] = [x for x in result.text.split("\n") if x.startswith("按类别：")]
    parts = line.removeprefix("按类别：").split(" · ")
    assert sum(int(p.rsplit(" ", 1)[1]) for p in parts) == w.new
    assert parts[-1].startswith("其他") and "类" in parts[-1]  # e.g. 其他 6 类 71
    groups = _group_lines(result.text)
    assert groups[-1].lstrip().startswith("其他 ") and "个群" in groups[-1]
    assert sum(int(x.split("新 ")[1].split(" ")[0]) for x in groups) == w.new
    assert sum(int(x.split("未办结 ")[1].split(" ")[0]) for x in groups) == w.open

    from handlers.digest_render import chart_figure

    axes = {ax.get_title(): ax for ax in chart_figure(w, "zh_CN", TZ).axes}

    def bars(title: str) -> list[list[float]]:
        return [list(c.datavalues) for c in axes[title].containers]

    new, resolved = bars("本周按类别")
    assert (sum(new), sum(resolved)) == (w.new, w.resolved)
    assert axes["本周按类别"].get_yticklabels()[0].get_text().startswith("其他")
    still_open, overdue = bars("各群未办结与超期")
    assert (sum(still_open), sum(overdue)) == (w.open, w.overdue)

    book = load_workbook(io.BytesIO(result.xlsx))
    rows = list(book["按类别"].iter_rows(values_only=True))
    assert rows[-1] == ("合计", w.new, w.resolved)
    assert sum(r[1] for r in rows[1:-1]) == w.new
    rows = list(book["按群"].iter_rows(values_only=True))
    assert rows[-1] == ("合计", w.new, w.resolved, w.open, w.overdue)


async def test_the_spreadsheet_is_ready_to_print(deps):
    result = await digest.build(deps, WEEK, END)
    w = result.numbers
    book = load_workbook(io.BytesIO(result.xlsx))
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(c.font.bold for c in sheet[1]), sheet.title
    groups = book["按群"]
    longest = max(len(str(r[0])) for r in groups.iter_rows(min_row=2, values_only=True))
    assert groups.column_dimensions["A"].width >= 2 * longest  # Chinese characters: two wide
    overdue = book["超期工单"]
    header = [c.value for c in overdue[1]]
    reported, status, tier = (header.index(h) for h in ("上报时间", "状态", "级别"))
    rows = list(overdue.iter_rows(min_row=2))
    listed = [r for r in rows if isinstance(r[0].value, int)]
    assert all(r[reported].is_date and r[reported].number_format.startswith("yyyy") for r in listed)
    assert {r[tier].value for r in listed if r[status].value == "已受理"} == {None}
    assert {r[tier].value for r in listed if r[status].value == "已派单"} <= {
        "一级（街区）", "二级（街道）", "三级（区）",
    }  # fmt: skip
    assert w.overdue > 20  # more than the digest used to list
    rest = [r[0].value for r in rows if not isinstance(r[0].value, int)]
    more = int(rest[0].split("还有 ")[1].split(" ")[0]) if rest else 0
    assert len(listed) + more == w.overdue
