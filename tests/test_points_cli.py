"""The operator's side of points: the rewards catalogue, riders' companies, the commendation."""

from __future__ import annotations

import asyncio
import csv

import pytest
from openpyxl import load_workbook

from bot.app import Woodpecker
from bot.cli import main as cli
from bot.local import LocalChat
from bot.settings import Settings
from handlers.types import Sender
from tests.images import scene

SPOT = (31.40512, 121.48931)
BOSS = Sender("boss", "运营")
LAOWANG, XIAOLI, XIAOZHANG = Sender("u-1", "老王"), Sender("u-2", "小李"), Sender("u-3", "小张")


async def main(argv: list[str]) -> int:
    """The command line, in a thread: it runs its own event loop, as from a shell."""
    return await asyncio.to_thread(cli, argv)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/wp.db")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))


@pytest.fixture
async def street(tmp_path, clock):
    """The bot on the same database as the command line, in a local chat."""
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/wp.db",
        media_dir=str(tmp_path / "media"),
        admin_user_ids=[BOSS.user_id],
    )
    chat = LocalChat()
    app = Woodpecker(settings, [chat], clock=clock)
    await app.migrate()
    yield app, chat
    await app.close()


async def say(street, who: Sender, args: str = "", **kw) -> list[str]:
    app, chat = street
    msg = chat.message(who, **kw)
    msg.args = args
    await app.handle(msg)
    await app.flush()
    return [s.text for s in chat.pop()]


async def solved_report(street, who: Sender, seed: int, words: str) -> None:
    await say(street, who, photos=[scene(seed)], text=words)
    [ack] = await say(street, who, location=SPOT)
    number = ack.split("#")[1].split(" ")[0]
    await say(street, BOSS, command="resolve", args=number)


async def test_rewards_are_added_listed_offered_and_withdrawn(env, street, capsys, tmp_path):
    assert (
        await main(["rewards", "add", "--merchant", "张记面馆", "--item", "午餐", "--cost", "50"])
        == 0
    )
    assert (
        await main(["rewards", "add", "--merchant", "老李修车", "--item", "补胎", "--cost", "20"])
        == 0
    )
    assert await main(["rewards", "add", "--merchant", "老李修车"]) == 2
    capsys.readouterr()
    assert await main(["rewards", "list"]) == 0
    assert capsys.readouterr().out.split("\n")[:2] == [
        "1\t张记面馆\t午餐\t50\t*",
        "2\t老李修车\t补胎\t20\t*",
    ]
    assert await say(street, LAOWANG, text="兑换") == [
        "🎁 可兑换的奖励（发“/redeem 2”兑换）：\n"
        "2. 老李修车 · 补胎 · 20 分\n"
        "1. 张记面馆 · 午餐 · 50 分"
    ]
    assert await main(["rewards", "disable", "1"]) == 0
    assert await main(["rewards", "disable", "9"]) == 1
    assert await say(street, LAOWANG, text="兑换") == [
        "🎁 可兑换的奖励（发“/redeem 2”兑换）：\n2. 老李修车 · 补胎 · 20 分"
    ]
    catalogue = tmp_path / "rewards.toml"
    catalogue.write_text(
        '[[reward]]\nmerchant = "张记面馆"\nitem = "午餐"\ncost = 40\n\n'
        '[[reward]]\nmerchant = "便利店"\nitem = "矿泉水"\ncost = 2\n',
        "utf-8",
    )
    assert await main(["rewards", "import", str(catalogue)]) == 0
    capsys.readouterr()
    assert await main(["rewards", "list", "--all"]) == 0
    assert capsys.readouterr().out.strip().split("\n") == [
        "1\t张记面馆\t午餐\t40\t*",
        "2\t老李修车\t补胎\t20\t*",
        "3\t便利店\t矿泉水\t2\t*",
    ]


async def test_the_commendation_ranks_riders_and_companies_by_points_and_reports(
    env, street, capsys, tmp_path
):
    await solved_report(street, LAOWANG, 1, "井盖坏了")
    await solved_report(street, LAOWANG, 2, "路口积水")
    await solved_report(street, XIAOLI, 3, "共享单车乱停")
    await solved_report(street, XIAOZHANG, 4, "井盖又坏了")
    await say(street, XIAOLI, text="我的站点 美团友谊路站")
    assert await main(["members", "set-company", "--platform", "local", "--user", "u-3",
                 "--company", "美团友谊路站"]) == 0  # fmt: skip
    assert await main(["members", "set-company", "--platform", "local", "--user", "u-9",
                 "--company", "x"]) == 1  # fmt: skip
    out = tmp_path / "commendation.xlsx"
    assert await main(["report", "commendation", "--year", "2026", "--out", str(out)]) == 0
    book = load_workbook(out)
    assert book.sheetnames == ["个人-积分", "个人-上报", "单位-积分", "单位-上报"]
    riders = [[c.value for c in row] for row in book["个人-积分"].iter_rows()]
    assert riders[0] == ["名次", "姓名", "公司/站点", "积分", "已解决上报",
                         "井盖损坏", "道路积水", "共享单车乱停"]  # fmt: skip
    assert riders[1] == [1, "老王", "（未填写）", 20, 2, 1, 1, 0]
    assert riders[2] == [2, "小张", "美团友谊路站", 10, 1, 1, 0, 0]
    assert riders[3] == [3, "小李", "美团友谊路站", 5, 1, 0, 0, 1]
    firms = [[c.value for c in row] for row in book["单位-积分"].iter_rows()]
    assert firms[0][:5] == ["名次", "公司/站点", "人数", "积分", "已解决上报"]
    assert firms[1] == [1, "（未填写）", 1, 20, 2, 1, 1, 0]
    assert firms[2] == [2, "美团友谊路站", 2, 15, 2, 1, 0, 1]
    by_reports = [[c.value for c in row] for row in book["单位-上报"].iter_rows()]
    assert [r[1] for r in by_reports[1:]] == ["（未填写）", "美团友谊路站"]  # 2 each: points decide

    as_csv = tmp_path / "commendation.csv"
    assert await main(["report", "commendation", "--year", "2026", "--out", str(as_csv)]) == 0
    with as_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    # Four sections, each a title, its header and its rows, a blank line between.
    assert len(rows) == (2 + 3) + (1 + 2 + 3) + (1 + 2 + 2) + (1 + 2 + 2)
    assert rows[:3] == [
        ["个人·积分"],
        riders[0],
        ["1", "老王", "（未填写）", "20", "2", "1", "1", "0"],
    ]
    assert await main(["report", "commendation", "--year", "2025", "--out", str(as_csv)]) == 0
    assert "0 人 riders" in capsys.readouterr().out.strip().split("\n")[-1]


async def test_each_commendation_list_has_its_own_header_and_names_people(
    env, street, capsys, tmp_path
):
    await solved_report(street, LAOWANG, 1, "井盖坏了")
    await solved_report(street, XIAOLI, 3, "共享单车乱停")
    await say(street, XIAOLI, text="我的站点 美团友谊路站")
    out = tmp_path / "commendation.xlsx"
    assert await main(["report", "commendation", "--year", "2026", "--out", str(out)]) == 0
    book = load_workbook(out)
    people = [[c.value for c in row] for row in book["个人-积分"].iter_rows()]
    firms = [[c.value for c in row] for row in book["单位-积分"].iter_rows()]
    assert people[0][:5] == ["名次", "姓名", "公司/站点", "积分", "已解决上报"]
    assert firms[0][:5] == ["名次", "公司/站点", "人数", "积分", "已解决上报"]
    for sheet in book:
        header = [c.value for c in sheet[1]]
        for column, title in enumerate(header):  # no column left empty under its header
            assert any(
                row[column] is not None for row in sheet.iter_rows(min_row=2, values_only=True)
            ), (sheet.title, title)
        assert sheet.freeze_panes == "A2"
        names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert sheet.column_dimensions["B"].width >= max(2 * len(n) for n in names)  # CJK: 2
    cells = [str(c) for s in book for row in s.iter_rows(values_only=True) for c in row]
    assert not any(c.startswith(("local:", "telegram:", "wechat:")) for c in cells)
    assert people[1][:5] == [1, "老王", "（未填写）", 10, 1]

    as_csv = tmp_path / "commendation.csv"
    assert await main(["report", "commendation", "--year", "2026", "--out", str(as_csv)]) == 0
    with as_csv.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["个人·积分"]
    assert rows[1][:3] == ["名次", "姓名", "公司/站点"]
    firm_title = rows.index(["单位·积分"])
    assert rows[firm_title + 1][:3] == ["名次", "公司/站点", "人数"]
