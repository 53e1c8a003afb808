"""The desk in a real browser (Debian's chromium through Playwright), signed in through a link
the real Telegram bot sent, acting through the same use case as the chat."""

from __future__ import annotations

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright, expect
from sqlalchemy import select

from storage.models import Photo, Ticket, TicketEvent
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.images import scene
from tests.test_secretary import (
    ADMIN,
    GROUP,
    LAOWANG,
    PENG,
    ZHOU,
    appoint,
    report,
    say,
    settle,
    start_privately,
)
from tests.web import (
    CHROMIUM,
    DESK,
    PHONE,
    only_local,
    sign_in_link,
    start_desk,
    stop_desk,
    until_sent,
)

# One browser for the module, on the module's event loop; everything else is per test.
pytestmark = pytest.mark.asyncio(loop_scope="module")
GROUP2 = {"id": -1001772241730, "title": "长江南路骑手群", "type": "supergroup"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser():
    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM)
        yield b
        await b.close()


@pytest_asyncio.fixture(loop_scope="module")
async def api():
    fake = FakeTelegramAPI(token=TELEGRAM_TOKEN, bot_username="woodpecker_bot")
    await fake.start()
    yield fake
    await fake.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def desk(api, tmp_path, clock):
    d = await start_desk(api, tmp_path, clock)
    yield d
    await stop_desk(d)


@pytest_asyncio.fixture(loop_scope="module")
async def phone(browser):
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await only_local(page)
    errors: list = []
    page.on("pageerror", lambda error: errors.append(error))
    yield page
    await context.close()
    assert errors == []  # no JavaScript failed, tiles or not


async def sign_in(page, link: str) -> None:
    await page.goto(link)
    await page.click("#sign-in")
    await page.wait_for_url("**/map")


async def ticket_row(desk, number: int) -> Ticket:
    async with desk.core.db.read() as s:
        return await s.get(Ticket, number)


async def test_a_secretary_signs_in_from_the_chat_and_resolves_with_an_after_photo(
    api, desk, phone
):
    await appoint(api, PENG)
    await start_privately(api, LAOWANG)
    number, card = await report(api, LAOWANG, "p1", caption="井盖坏了")
    link = await sign_in_link(api, PENG)

    await sign_in(phone, link)
    await expect(phone.locator("#map")).to_have_attribute("data-loaded", "1")
    await expect(phone.locator(".leaflet-marker-icon")).to_have_count(1)
    # No tile server answers here: the page says so, and the markers and the list still work.
    await expect(phone.locator("#tiles-failed")).to_be_visible()
    await expect(phone.locator("#map-list")).to_contain_text(f"#{number} 井盖损坏")

    await phone.click("nav >> text=工单")
    await phone.click("#filters summary")  # folded away on a phone until asked for
    await phone.select_option("select[name=state]", "new")
    await phone.click("#apply")
    await expect(phone.locator(f"tr[data-number='{number}']")).to_be_visible()
    await phone.select_option("select[name=category]", "道路积水")
    await phone.click("#apply")
    await expect(phone.locator("main")).to_contain_text("没有符合条件的工单")
    await phone.select_option("select[name=category]", "井盖损坏")
    await phone.click("#apply")

    await phone.click(f"a[href='/tickets/{number}']")
    await expect(phone.locator("#state")).to_have_text("待受理")
    await expect(phone.locator(".photos img")).to_have_count(1)
    await expect(phone.locator("#history")).to_contain_text("老王")
    await phone.fill("#resolve-note", "已更换井盖")
    after = {"name": "after.jpg", "mimeType": "image/jpeg", "buffer": scene(42)}
    await phone.set_input_files("#after-photo", after)
    await phone.click("#do-resolve")
    await expect(phone.locator(".flash")).to_contain_text(f"#{number}")
    await expect(phone.locator("#state")).to_have_text("已解决")
    await expect(phone.locator(".photos img")).to_have_count(2)  # before and after
    await expect(phone.locator("#history")).to_contain_text("彭文兴")

    # The group's card is edited, the group and the reporter hear it, with before | after.
    def told(sent):
        edited = [s for s in sent if s["method"] == "editMessageText" and s["message_id"] == card]
        pictures = [s for s in sent if s["method"] == "sendPhoto"]
        return edited and "已解决" in edited[-1]["text"] and len(pictures) == 2

    sent = await until_sent(api, told)
    pictures = [s for s in sent if s["method"] == "sendPhoto"]
    assert {str(p["chat_id"]) for p in pictures} == {str(GROUP["id"]), str(LAOWANG["id"])}
    assert all(p["caption"] == f"#{number} 整改前 / 整改后" for p in pictures)
    private = [s["text"] for s in sent if s["chat_id"] == LAOWANG["id"] and s["text"]]
    assert f"你上报的 #{number} 井盖损坏：已解决 · 已更换井盖" in private
    assert any(text.startswith("🎉 积分 +10") for text in private)  # the same points as in chat
    async with desk.core.db.read() as s:
        kinds = (await s.execute(select(Photo.kind).where(Photo.ticket_id == number))).scalars()
        assert sorted(kinds) == ["after", "before"]
        resolved = (
            await s.execute(select(TicketEvent).where(TicketEvent.action == "resolve"))
        ).scalar_one()
        assert resolved.note == "已更换井盖" and resolved.actor_pk is not None


async def test_another_groups_secretary_can_neither_see_nor_act_on_it(api, desk, browser):
    await appoint(api, PENG)
    await say(api, tu.reply_command(ADMIN, "/secretary", 12, ZHOU, chat=GROUP2), GROUP2)
    number, _card = await report(api, LAOWANG, "p2")
    peng = await browser.new_context(viewport=DESK)
    zhou = await browser.new_context(viewport=DESK)
    try:
        peng_page, zhou_page = await peng.new_page(), await zhou.new_page()
        for page in (peng_page, zhou_page):
            await only_local(page)
        await sign_in(peng_page, await sign_in_link(api, PENG))
        await sign_in(zhou_page, await sign_in_link(api, ZHOU))

        await zhou_page.goto(f"{desk.url}/tickets?state=all")
        await expect(zhou_page.locator("main")).to_contain_text("没有符合条件的工单")
        await expect(zhou_page.locator("#map-list, #tickets")).to_have_count(0)
        seen = await zhou_page.goto(f"{desk.url}/tickets/{number}")
        assert seen.status == 404
        await expect(zhou_page.locator("main")).to_contain_text("没有这张工单，或你无权查看")
        photo = await zhou_page.request.get(f"{desk.url}/photos/1/thumb.jpg")
        assert photo.status == 404

        # Replaying the secretary's form: with Zhou's own token the ticket is not there for
        # him; with Peng's token (taken from Peng's page) the session's check refuses it.
        await peng_page.goto(f"{desk.url}/tickets/{number}")
        peng_csrf = await peng_page.locator("#resolve-form input[name=csrf]").get_attribute("value")
        await zhou_page.goto(f"{desk.url}/tickets")
        zhou_csrf = await zhou_page.locator(
            "form[action='/logout'] input[name=csrf]"
        ).get_attribute("value")
        form = {"action": "resolve", "note": "我来解决"}
        url = f"{desk.url}/tickets/{number}/act"
        own = await zhou_page.request.post(url, multipart={**form, "csrf": zhou_csrf})
        assert own.status == 404
        replayed = await zhou_page.request.post(url, multipart={**form, "csrf": peng_csrf})
        assert replayed.status == 403
        assert (await ticket_row(desk, number)).status == "new"
        # Peng, who runs that group, may.
        done = await peng_page.request.post(url, multipart={**form, "csrf": peng_csrf})
        assert done.ok and (await ticket_row(desk, number)).status == "resolved"
    finally:
        await peng.close()
        await zhou.close()


async def test_a_post_without_the_csrf_token_changes_nothing(api, desk, phone):
    await appoint(api, PENG)
    number, _card = await report(api, LAOWANG, "p3")
    await sign_in(phone, await sign_in_link(api, PENG))
    url = f"{desk.url}/tickets/{number}/act"
    refused = await phone.request.post(url, form={"action": "accept"})
    assert refused.status == 403
    assert "表单已失效" in await refused.text()
    assert (await ticket_row(desk, number)).status == "new"
    # The same press from the page itself goes through.
    await phone.goto(f"{desk.url}/tickets/{number}")
    await phone.click("#do-accept")
    await expect(phone.locator("#state")).to_have_text("已受理")


async def test_an_expired_or_used_link_does_not_sign_in_and_signing_out_ends_it(
    api, desk, browser, clock
):
    await appoint(api, PENG)
    stale = await sign_in_link(api, PENG)
    clock.advance(minutes=11)
    context = await browser.new_context(viewport=PHONE)
    try:
        page = await context.new_page()
        await only_local(page)
        answer = await page.goto(stale)
        assert answer.status == 410
        await expect(page.locator("main")).to_contain_text("登录链接无效、已过期或已用过")
        assert (await page.request.post(stale)).status == 410
        assert (await page.goto(f"{desk.url}/map")).status == 401

        fresh = await sign_in_link(api, PENG)
        await sign_in(page, fresh)
        other = await browser.new_context(viewport=PHONE)
        try:
            again = await other.new_page()
            await only_local(again)
            assert (await again.goto(fresh)).status == 410
            assert (await again.request.post(fresh)).status == 410
            assert (await again.goto(f"{desk.url}/tickets")).status == 401
        finally:
            await other.close()

        await page.click("text=退出")
        await expect(page.locator("main")).to_contain_text("已退出后台")
        assert (await page.goto(f"{desk.url}/tickets")).status == 401
    finally:
        await context.close()


async def test_someone_without_a_role_gets_no_link(api, desk):
    private = tu.private_chat(LAOWANG)
    api.push_update(tu.command(LAOWANG, "/web", chat=private))
    [answer] = await settle(api, private, sender=LAOWANG)
    assert answer["text"] == "网页后台只对书记、官员、管理员和商户开放。"
    [in_group] = await say(api, tu.command(PENG, "/web"))
    assert "请私聊我发送 /web" in in_group["text"] and "/login/" not in in_group["text"]


async def test_the_desk_reads_in_english_too(api, desk, phone):
    await appoint(api, PENG)
    number, _card = await report(api, LAOWANG, "p4", caption="路口积水")
    await sign_in(phone, await sign_in_link(api, PENG))
    await phone.click("text=English")
    await expect(phone.locator("nav")).to_contain_text("Tickets")
    await phone.goto(f"{desk.url}/tickets/{number}")
    await expect(phone.locator("h1")).to_contain_text("road flooding")
    await expect(phone.locator("#state")).to_have_text("new")
