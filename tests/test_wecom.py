"""WeCom group-robot push against a local HTTP server on 127.0.0.1: exact JSON, errcode, limit."""

from __future__ import annotations

import base64
import hashlib
import io
import os

import httpx
import pytest
from aiohttp import web
from PIL import Image

from bot.settings import Settings
from bot.wecom import (
    MAX_IMAGE_BYTES,
    RateLimiter,
    WeComError,
    WeComPusher,
    WeComRobot,
    prepare_image,
    push_digest,
    trim_markdown,
)
from tests.images import jpeg


class FakeWeCom:
    """Records every POST; answers errcode 0 unless told otherwise for a key."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.errors: dict[str, dict] = {}
        self.now = lambda: 0.0  # a test's clock, to stamp arrivals

    async def _send(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        body = await request.json()
        self.received.append(
            {
                "key": key,
                "body": body,
                "at": self.now(),
                "content_type": request.content_type,
                "raw": await request.read(),
            }
        )
        return web.json_response(self.errors.get(key, {"errcode": 0, "errmsg": "ok"}))

    async def start(self) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/cgi-bin/webhook/send", self._send)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/cgi-bin/webhook/send"

    async def stop(self) -> None:
        await self.runner.cleanup()


@pytest.fixture
async def wecom():
    fake = FakeWeCom()
    await fake.start()
    yield fake
    await fake.stop()


class FakeTime:
    """A monotonic clock and a sleep that only moves it."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def png(size=(320, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


async def test_markdown_then_image_with_the_exact_json(wecom):
    picture = png()
    pusher = WeComPusher(["KEY-A", "KEY-B"], wecom.url, limiters=lambda u, k: RateLimiter())
    try:
        failures = await pusher.push_digest("## 本周 **12** 件\n> 已办结 9", picture)
    finally:
        await pusher.aclose()
    assert failures == []
    assert [(r["key"], r["body"]["msgtype"]) for r in wecom.received] == [
        ("KEY-A", "markdown"),
        ("KEY-A", "image"),
        ("KEY-B", "markdown"),
        ("KEY-B", "image"),
    ]
    assert wecom.received[0]["body"] == {
        "msgtype": "markdown",
        "markdown": {"content": "## 本周 **12** 件\n> 已办结 9"},
    }
    assert wecom.received[1]["body"] == {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(picture).decode("ascii"),
            "md5": hashlib.md5(picture).hexdigest(),
        },
    }
    assert wecom.received[0]["content_type"] == "application/json"
    assert "本周".encode() in wecom.received[0]["raw"]  # UTF-8 on the wire, not \\u escapes


async def test_a_non_zero_errcode_is_a_failure_and_the_other_robots_still_get_it(wecom):
    wecom.errors["BAD"] = {"errcode": 93000, "errmsg": "invalid webhook url"}
    pusher = WeComPusher(["BAD", "GOOD"], wecom.url, limiters=lambda u, k: RateLimiter())
    try:
        failures = await pusher.push_digest("周报")
    finally:
        await pusher.aclose()
    assert len(failures) == 1 and "93000" in failures[0] and "BAD" not in failures[0]
    assert [r["key"] for r in wecom.received] == ["BAD", "GOOD"]


async def test_a_robot_raises_on_errcode_and_on_http_errors(wecom):
    wecom.errors["LIMITED"] = {"errcode": 45009, "errmsg": "api freq out of limit"}
    async with httpx.AsyncClient() as client:
        robot = WeComRobot("LIMITED", client, wecom.url, RateLimiter())
        with pytest.raises(WeComError) as e:
            await robot.send_markdown("x")
        assert e.value.errcode == 45009
        lost = WeComRobot("K", client, wecom.url.replace("/send", "/nowhere"), RateLimiter())
        with pytest.raises(httpx.HTTPStatusError):
            await lost.send_markdown("x")


async def test_twenty_a_minute_per_robot_without_sleeping(wecom):
    time = FakeTime()
    wecom.now = time
    async with httpx.AsyncClient() as client:
        limiter = RateLimiter(clock=time, sleep=time.sleep)
        robot = WeComRobot("KEY", client, wecom.url, limiter)
        other = WeComRobot("OTHER", client, wecom.url, RateLimiter(clock=time, sleep=time.sleep))
        for i in range(45):
            await robot.send_markdown(f"第 {i} 条")
        await other.send_markdown("另一个机器人不受影响")
    stamps = [r["at"] for r in wecom.received if r["key"] == "KEY"]
    assert len(stamps) == 45
    for i, t in enumerate(stamps):  # never more than 20 in any 60 s
        assert sum(1 for u in stamps[i:] if u < t + 60) <= 20
    assert stamps[19] == stamps[0] and stamps[20] == stamps[0] + 60 and stamps[40] == 1120
    assert time.slept == [60.0, 60.0]
    assert [r["at"] for r in wecom.received if r["key"] == "OTHER"] == [1120]


def test_markdown_is_trimmed_to_4096_bytes_on_a_character_boundary():
    text = "啄" * 2000  # 6000 bytes of UTF-8
    trimmed = trim_markdown(text)
    assert len(trimmed.encode("utf-8")) <= 4096 and trimmed.endswith("…")
    assert trimmed.rstrip("\n…") == "啄" * len(trimmed.rstrip("\n…"))
    assert trim_markdown("短") == "短"
    exact = "a" * 4096
    assert trim_markdown(exact) == exact


def test_images_are_kept_when_they_fit_and_shrunk_when_they_do_not():
    small = png()
    assert prepare_image(small) == small
    photo = jpeg(3)
    assert prepare_image(photo) == photo
    noisy = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    out = io.BytesIO()
    noisy.save(out, "PNG")
    big = out.getvalue()
    assert len(big) > MAX_IMAGE_BYTES
    shrunk = prepare_image(big)
    assert len(shrunk) <= MAX_IMAGE_BYTES
    assert Image.open(io.BytesIO(shrunk)).format in ("PNG", "JPEG")
    gif = io.BytesIO()
    Image.new("RGB", (50, 50)).save(gif, "GIF")
    assert Image.open(io.BytesIO(prepare_image(gif.getvalue()))).format == "PNG"
    with pytest.raises(WeComError):
        prepare_image(b"not a picture")


async def test_push_digest_reads_the_settings(wecom):
    settings = Settings(_env_file=None, wecom_webhook_keys="K1, K2,", wecom_webhook_url=wecom.url)
    assert settings.wecom_webhook_keys == ["K1", "K2"]
    assert await push_digest("日报", None, settings) == []
    assert [r["key"] for r in wecom.received] == ["K1", "K2"]
    assert await push_digest("日报", None, Settings(_env_file=None)) == []  # none configured
