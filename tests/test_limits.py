"""Limits: wrong redemption codes per person and per chat, reports per rider per hour."""

from __future__ import annotations

import pytest

from bot.app import Woodpecker
from handlers.roles import grant_role
from tests import telegram_updates as tu
from tests.conftest import send, tickets
from tests.images import jpeg
from tests.test_points import MERCHANT, add_lunch, ask, ledger, redeem, report
from tests.test_secretary import GROUP, LAOWANG, PENG, XIAOLI, appoint, start_bot

SPOT = (31.40512, 121.48931)
WAIT = "核销试错太多次了，请 15 分钟后再试。"


@pytest.fixture
async def tg(api, tmp_path, clock):
    bot = await start_bot(api, tmp_path, clock)
    yield bot
    await bot.stop()


async def _pending_code(api, tg) -> str:
    await appoint(api)
    await grant_role(tg.core.deps, "telegram", str(MERCHANT["id"]), "merchant", str(GROUP["id"]))
    await ask(api, PENG, f"/resolve {await report(api, LAOWANG, 1)}")
    await add_lunch(api, 8)
    return await redeem(api, LAOWANG)


async def test_a_code_that_is_not_yours_is_answered_as_one_that_does_not_exist(api, tg):
    code = await _pending_code(api, tg)
    assert await ask(api, XIAOLI, f"/confirm {code}") == [f"没有这个兑换码：{code}。"]
    assert await ask(api, XIAOLI, "/confirm ZZZ999") == ["没有这个兑换码：ZZZ999。"]
    assert await ledger(tg, LAOWANG) == [(10, "award", 1, None)]


async def test_five_wrong_codes_and_the_person_must_wait_even_with_a_real_code(api, tg, clock):
    code = await _pending_code(api, tg)
    for i in range(5):
        assert await ask(api, XIAOLI, f"/confirm WRONG{i}") == [f"没有这个兑换码：WRONG{i}。"]
    assert await ask(api, XIAOLI, f"/confirm {code}") == [WAIT]
    assert await ask(api, XIAOLI, "核销 WRONG9") == [WAIT]
    # Someone else in the chat is not held up: the merchant confirms.
    [done] = await ask(api, MERCHANT, f"/confirm {code}")
    assert done.startswith(f"✅ 已核销 {code}")
    clock.advance(minutes=16)
    assert await ask(api, XIAOLI, "/confirm WRONGX") == ["没有这个兑换码：WRONGX。"]


async def test_twenty_wrong_codes_in_one_chat_and_the_chat_must_wait(api, tg):
    code = await _pending_code(api, tg)
    for person in range(4):
        rider = tu.user(7100 + person, f"骑手{person}")
        for i in range(5):
            await ask(api, rider, f"/confirm WRONG{i}")
    assert await ask(api, MERCHANT, f"/confirm {code}") == [WAIT]
    assert await ledger(tg, LAOWANG) == [(10, "award", 1, None)]


async def test_past_the_hourly_limit_a_rider_is_told_once_and_no_ticket_is_made(
    settings, chat, clock, laowang, xiaoli
):
    bot = Woodpecker(settings.model_copy(update={"reports_per_hour": 3}), [chat], clock=clock)
    await bot.migrate()
    try:
        for i in range(3):
            await send(bot, chat, laowang, location=SPOT)
            [ack] = await send(bot, chat, laowang, photos=[jpeg(i)])
            assert ack.text.startswith(f"已登记 #{i + 1}")
        await send(bot, chat, laowang, location=SPOT)
        [told] = await send(bot, chat, laowang, photos=[jpeg(10)])
        assert told.text == "老王，这一小时你已经报了 3 件，辛苦了，谢谢！请歇一歇，过一小时再报。"
        await send(bot, chat, laowang, location=SPOT)
        assert await send(bot, chat, laowang, photos=[jpeg(11)]) == []  # told once
        await send(bot, chat, xiaoli, location=SPOT)
        [other] = await send(bot, chat, xiaoli, photos=[jpeg(12)])
        assert other.text.startswith("已登记 #4")  # another rider is not limited
        clock.advance(minutes=61)
        await send(bot, chat, laowang, location=SPOT)
        [ack] = await send(bot, chat, laowang, photos=[jpeg(13)])
        assert ack.text.startswith("已登记 #5")
        assert len(await tickets(bot)) == 5
    finally:
        await bot.close()
