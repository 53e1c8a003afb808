"""WeCom (企业微信) group robots: push the digest to officials' groups. Push only; it never reads.

A robot is a webhook key. `POST {WECOM_WEBHOOK_URL}?key=KEY` with
`{"msgtype": "markdown", "markdown": {"content": …}}` (≤ 4096 bytes of UTF-8) or
`{"msgtype": "image", "image": {"base64": …, "md5": …}}` (a PNG or JPG of ≤ 2 MB, md5 of the raw
bytes). WeCom answers `{"errcode": 0, "errmsg": "ok"}`; anything else is a failure. Each robot
takes at most 20 messages a minute.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable

import httpx
from PIL import Image, UnidentifiedImageError

log = logging.getLogger(__name__)

DEFAULT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
MAX_MARKDOWN_BYTES = 4096
MAX_IMAGE_BYTES = 2 * 1024 * 1024
PER_MINUTE = 20
TRIMMED = "\n…"


class WeComError(Exception):
    """WeCom refused a message (non-zero errcode), or the image cannot be made acceptable."""

    def __init__(self, errcode: int | None, errmsg: str) -> None:
        super().__init__(f"WeCom errcode {errcode}: {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class RateLimiter:
    """At most `rate` acquisitions in any `period` seconds (a sliding window), waiting as needed.

    `clock` and `sleep` are injectable so a test can run a minute in no time.
    """

    def __init__(
        self,
        rate: int = PER_MINUTE,
        period: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate, self.period, self.clock, self.sleep = rate, period, clock, sleep
        self._times: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = self.clock()
                while self._times and self._times[0] <= now - self.period:
                    self._times.popleft()
                if len(self._times) < self.rate:
                    self._times.append(now)
                    return
                await self.sleep(self._times[0] + self.period - now)


def trim_markdown(content: str, limit: int = MAX_MARKDOWN_BYTES) -> str:
    """`content` cut to `limit` UTF-8 bytes on a character boundary, marked `…` when cut."""
    data = content.encode("utf-8")
    if len(data) <= limit:
        return content
    room = limit - len(TRIMMED.encode("utf-8"))
    return data[:room].decode("utf-8", "ignore") + TRIMMED


def prepare_image(data: bytes, limit: int = MAX_IMAGE_BYTES) -> bytes:
    """A PNG or JPG of at most `limit` bytes: as given when it fits, else re-encoded and shrunk."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            image = probe.copy()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise WeComError(None, f"the digest image is not a readable picture ({e})") from e
    if fmt in ("PNG", "JPEG") and len(data) <= limit:
        return data
    if fmt != "JPEG":
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        if out.tell() <= limit:
            return out.getvalue()
    image = image.convert("RGB")  # JPEG from here on: photos and charts both survive it
    for _ in range(12):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=85, optimize=True)
        if out.tell() <= limit:
            return out.getvalue()
        width, height = image.size
        if width < 64 or height < 64:
            break
        image = image.resize((int(width * 0.8), int(height * 0.8)), Image.Resampling.LANCZOS)
    raise WeComError(None, f"the digest image cannot be brought under {limit} bytes")


def image_body(data: bytes) -> dict:
    return {
        "msgtype": "image",
        "image": {
            "base64": base64.b64encode(data).decode("ascii"),
            "md5": hashlib.md5(data).hexdigest(),
        },
    }


def markdown_body(content: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": trim_markdown(content)}}


def masked(key: str) -> str:
    """A webhook key is a secret: logs show only its end."""
    return f"…{key[-4:]}" if len(key) > 4 else "…"


class WeComRobot:
    """One group robot (one webhook key) with its own 20-a-minute limiter."""

    def __init__(
        self,
        key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_URL,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.key, self.client, self.base_url = key, client, base_url
        self.limiter = limiter or RateLimiter()

    async def send(self, body: dict) -> None:
        await self.limiter.acquire()
        response = await self.client.post(
            self.base_url,
            params={"key": self.key},
            content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        response.raise_for_status()
        try:
            reply = response.json()
        except ValueError as e:
            raise WeComError(None, f"not JSON: {response.text[:200]!r}") from e
        errcode = reply.get("errcode") if isinstance(reply, dict) else None
        if errcode != 0:
            raise WeComError(
                errcode, str(reply.get("errmsg") if isinstance(reply, dict) else reply)
            )

    async def send_markdown(self, content: str) -> None:
        await self.send(markdown_body(content))

    async def send_image(self, data: bytes) -> None:
        prepared = await asyncio.to_thread(prepare_image, data)
        await self.send(image_body(prepared))


# One limiter per robot for the whole process, however many pushers come and go.
_LIMITERS: dict[tuple[str, str], RateLimiter] = {}


def limiter_for(base_url: str, key: str) -> RateLimiter:
    return _LIMITERS.setdefault((base_url, key), RateLimiter())


class WeComPusher:
    """The digest target: every configured robot gets the markdown, then the picture."""

    def __init__(
        self,
        keys: Iterable[str],
        base_url: str = DEFAULT_URL,
        client: httpx.AsyncClient | None = None,
        limiters: Callable[[str, str], RateLimiter] = limiter_for,
    ) -> None:
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(timeout=30)
        self.robots = [
            WeComRobot(key, self.client, base_url, limiters(base_url, key)) for key in keys if key
        ]

    async def push_digest(self, markdown: str, png: bytes | None = None) -> list[str]:
        """Push to every robot; one failing does not stop the others. Returns the failures."""
        failures: list[str] = []
        for robot in self.robots:
            try:
                await robot.send_markdown(markdown)
                if png is not None:
                    await robot.send_image(png)
            except (WeComError, httpx.HTTPError) as e:
                log.warning("WeCom robot %s: %s", masked(robot.key), e)
                failures.append(f"{masked(robot.key)}: {e}")
        return failures

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()


def robot_id(key: str) -> str:
    """How a robot is named in the outbox: a digest of its key (the key itself is a secret)."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class WeComPort:
    """The outbox's way out to WeCom robots (platform "wecom", chat id = `robot_id(key)`):
    text as markdown, a photo attachment as an image. Failures are retried by the outbox."""

    platform = "wecom"

    def __init__(self, pusher: WeComPusher) -> None:
        self.pusher = pusher
        self.robots = {robot_id(r.key): r for r in pusher.robots}

    async def send(self, message) -> str:
        from handlers.ports import PermanentSendError

        robot = self.robots.get(message.chat_id)
        if robot is None:
            raise PermanentSendError(f"no WeCom robot {message.chat_id} in WECOM_WEBHOOK_KEYS")
        file = message.attachment
        if file is None:
            await robot.send_markdown(message.text)
        elif file.kind == "photo":
            await robot.send_image(file.data)
        else:
            raise PermanentSendError("WeCom robots take text and images only")
        return f"wecom:{message.chat_id}"


async def push_digest(markdown: str, png: bytes | None = None, settings=None) -> list[str]:
    """Push the digest to the robots in WECOM_WEBHOOK_KEYS; returns what failed (none: [])."""
    if settings is None:
        from bot.settings import Settings

        settings = Settings()
    if not settings.wecom_webhook_keys:
        return []
    pusher = WeComPusher(settings.wecom_webhook_keys, settings.wecom_webhook_url)
    try:
        return await pusher.push_digest(markdown, png)
    finally:
        await pusher.aclose()
