"""No token, webhook secret, WeCom key or puppet token in any log line, at any level."""

from __future__ import annotations

import io
import logging
import socket

from bot.logs import setup_logging
from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from bot.wecom import WeComPusher
from tests import telegram_updates as tu
from tests.conftest import TELEGRAM_TOKEN
from tests.images import jpeg
from tests.test_telegram import LAOWANG, SPOT, add_photo, settle
from tests.test_wecom import FakeWeCom

WEBHOOK_SECRET = "hook-secret-7f3a9c"
PUPPET_TOKEN = "puppet-token-55e1d0"
WECOM_KEY = "wecom-key-0b4c2e"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_a_whole_session_at_debug_level_leaves_no_secret_in_the_log(api, tmp_path, clock):
    wecom = FakeWeCom()
    await wecom.start()
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        telegram_bot_token=TELEGRAM_TOKEN,
        telegram_base_url=api.base_url,
        telegram_webhook_secret=WEBHOOK_SECRET,
        wechaty_puppet_service_token=PUPPET_TOKEN,
        wechaty_puppet_service_endpoint="127.0.0.1:9",
        wecom_webhook_keys=[WECOM_KEY],
        wecom_webhook_url=wecom.url + "-gone",  # a 404: the error names the URL, key and all
        log_level="DEBUG",
    )
    log = io.StringIO()
    undo = setup_logging(settings, stream=log)
    try:
        bot = TelegramBot(settings, clock=clock)
        await bot.start()
        try:
            add_photo(api, "ph1", jpeg(3))  # downloaded from …/file/bot<TOKEN>/…
            api.fail_next("sendMessage", status=500)  # a failed send, logged with its error
            api.push_update(tu.photo(LAOWANG, "ph1", caption="井盖坏了"))
            api.push_update(tu.location(LAOWANG, *SPOT))
            await settle(api)
            clock.advance(seconds=10)
            bot.core.sender.wake()
            said = [m["text"] for m in await settle(api)]
            assert any("已登记 #1" in t for t in said)  # sent again after the failure
        finally:
            await bot.stop()
        hooked = TelegramBot(  # webhook mode: setWebhook carries the secret
            settings.model_copy(
                update={
                    "telegram_webhook_url": "https://example.invalid/hook",
                    "telegram_webhook_listen": "127.0.0.1",
                    "telegram_webhook_port": free_port(),
                }
            ),
            clock=clock,
        )
        await hooked.start()
        await hooked.stop()
        assert api.calls("setWebhook")[0]["secret_token"] == WEBHOOK_SECRET
        pusher = WeComPusher(settings.wecom_webhook_keys, settings.wecom_webhook_url)
        assert await pusher.push_digest("周报") != []
        await pusher.aclose()

        from bot.wechat.runner import WeChatBot

        wechat = WeChatBot(settings, clock=clock)
        await wechat.wechaty.init_puppet()  # the puppet service logs its options
        await wechat.core.close()
    finally:
        undo()
        await wecom.stop()
    text = log.getvalue()
    assert "getUpdates" in text and "outbox" in text and "WeCom robot" in text
    assert "***" in text  # something did try to log a secret, and it was hidden
    for secret in (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], WECOM_KEY, PUPPET_TOKEN):
        assert secret not in text
    assert WEBHOOK_SECRET not in text


def test_a_secret_in_an_exception_is_hidden_in_the_traceback_too(tmp_path):
    settings = Settings(_env_file=None, telegram_bot_token=TELEGRAM_TOKEN)
    log = io.StringIO()
    undo = setup_logging(settings, stream=log)
    try:
        try:
            raise ConnectionError(f"GET https://api.telegram.org/bot{TELEGRAM_TOKEN}/getMe")
        except ConnectionError:
            logging.getLogger("somewhere").exception("request failed")
    finally:
        undo()
    assert "request failed" in log.getvalue() and "ConnectionError" in log.getvalue()
    assert TELEGRAM_TOKEN not in log.getvalue()
