"""One rider-story vocabulary, two platforms: the real adapters against their fakes.

A `Driver` sends what a rider would (a photo, a location, words, several photos for one report,
the same message delivered again) and collects what the bot said. `TelegramDriver` runs the real
python-telegram-bot Application against the fake Bot API server on 127.0.0.1; `WeChatDriver`
runs the real wechaty adapter on a fake puppet. Stories in `test_scenarios.py` use only this.
"""

from __future__ import annotations

import itertools
import json
from typing import ClassVar, Protocol

from bot.app import Woodpecker
from bot.settings import Settings
from handlers.geo.grids import import_grids
from handlers.roles import grant_role
from tests import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.fakes.wechat_puppet import WeChatFakePuppet
from tests.images import jpeg

RIDERS = {"laowang": "老王", "xiaoli": "小李", "peng": "彭文兴"}  # 彭文兴 runs the group
OFFICIALS = {"wang": "王主任"}  # of 友谊路街道, in the street's own chat


def grids_geojson(group_ref: str, street_ref: str, around: tuple[float, float]) -> str:
    """A district, a street and a grid around `around`: the group answers for the grid, the
    street's officials' chat for the street (what a district's GRIDS_FILE says)."""
    lat, lon = around

    def square(d: float) -> dict:
        ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
        return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}

    features = [
        ("宝山区", "区", None, None, 0.05),
        ("友谊路街道", "街道", "宝山区", street_ref, 0.02),
        ("友谊一网格", "网格", "友谊路街道", group_ref, 0.01),
    ]
    return json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": n, "level": lv, "parent": p, "chat": c},
                    "geometry": square(d),
                }
                for n, lv, p, c, d in features
            ],
        },
        ensure_ascii=False,
    )


class Driver(Protocol):
    platform: str
    core: Woodpecker

    async def photo(self, rider: str, seed: int = 0) -> None: ...
    async def photos(self, rider: str, seeds: list[int]) -> None: ...
    async def location(self, rider: str, lat: float, lon: float) -> None: ...
    async def text(self, rider: str, words: str) -> None: ...
    async def command(self, rider: str, words: str) -> None: ...
    async def deliver_again(self) -> None: ...
    async def said(self) -> list[str]: ...
    async def appoint(self, rider: str) -> None: ...
    async def street_chat(self, around: tuple[float, float]) -> None: ...
    async def in_street(self, official: str, words: str) -> None: ...
    async def said_in_street(self) -> tuple[list[str], int]: ...


def _settings(tmp_path, **overrides) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'wp.db'}",
        media_dir=str(tmp_path / "media"),
        **overrides,
    )


class TelegramDriver:
    platform = "telegram"
    TOKEN = "123456:TEST-token"

    def __init__(self, tmp_path, clock) -> None:
        self.tmp_path, self.clock = tmp_path, clock
        self.api = FakeTelegramAPI(token=self.TOKEN, bot_username="woodpecker_bot")
        self.users = {key: tu.user(7001 + i, name) for i, (key, name) in enumerate(RIDERS.items())}
        self._files = itertools.count(1)
        self._last: tuple[dict, int] | None = None
        self._seen = 0

    async def start(self) -> None:
        from bot.telegram.runner import TelegramBot

        await self.api.start()
        settings = _settings(
            self.tmp_path, telegram_bot_token=self.TOKEN, telegram_base_url=self.api.base_url
        )
        self.bot = TelegramBot(settings, clock=self.clock)
        await self.bot.start()
        self.core = self.bot.core

    async def stop(self) -> None:
        await self.bot.stop()
        await self.api.stop()

    def _push(self, update: dict) -> None:
        self._last = (update, self.api.push_update(update))

    def _photo_update(self, rider: str, seed: int, album: str | None = None) -> dict:
        file_id = f"ph{next(self._files)}"
        self.api.add_file(file_id, jpeg(seed), file_unique_id=f"u-{file_id}")
        return tu.photo(self.users[rider], file_id, album=album)

    async def photo(self, rider: str, seed: int = 0) -> None:
        self._push(self._photo_update(rider, seed))

    async def photos(self, rider: str, seeds: list[int]) -> None:
        album = f"mg-{next(self._files)}"  # Telegram sends several photos as one album
        for seed in seeds:
            self._push(self._photo_update(rider, seed, album=album))

    async def location(self, rider: str, lat: float, lon: float) -> None:
        self._push(tu.location(self.users[rider], lat, lon))

    async def text(self, rider: str, words: str) -> None:
        self._push(tu.text(self.users[rider], words))

    async def command(self, rider: str, words: str) -> None:
        """A slash command, as Telegram marks it (a bot_command entity)."""
        self._push(tu.command(self.users[rider], words))

    async def deliver_again(self) -> None:
        update, update_id = self._last
        self.api.push_update({**update, "update_id": update_id})  # not confirmed: sent again

    async def said(self) -> list[str]:
        """Everything pushed so far is handled: a /help sent last is answered last."""
        self.api.push_update(tu.command(self.users["xiaoli"], "/help"))
        n = len(self.api.sent)
        while not any(_is_help(s) for s in self.api.sent[self._seen :]):
            n += 1
            await self.api.wait_for_sent(n)
        new, self._seen = self.api.sent[self._seen :], len(self.api.sent)
        street = self.STREET["id"]
        return [
            s["text"]
            for s in new
            if s["method"] == "sendMessage" and not _is_help(s) and s["chat_id"] != street
        ]

    async def appoint(self, rider: str) -> None:
        """`woodpecker roles grant`: the rider becomes this group's secretary."""
        user = self.users[rider]
        await grant_role(
            self.core.deps, self.platform, str(user["id"]), "secretary", str(tu.GROUP["id"])
        )

    STREET: ClassVar[dict] = {"id": -1002000000001, "title": "友谊路街道办", "type": "supergroup"}

    async def street_chat(self, around: tuple[float, float]) -> None:
        """The street's officials' chat, with 王主任 holding the official role there, and the
        grids file naming the riders' group and that chat."""
        self.officials = {k: tu.user(8001 + i, n) for i, (k, n) in enumerate(OFFICIALS.items())}
        group, street = f"telegram:{tu.GROUP['id']}", f"telegram:{self.STREET['id']}"
        await import_grids(self.core.deps, grids_geojson(group, street, around))
        for user in self.officials.values():
            await grant_role(
                self.core.deps, self.platform, str(user["id"]), "official", str(self.STREET["id"])
            )
        self._street_seen = 0

    async def in_street(self, official: str, words: str) -> None:
        self._push(tu.text(self.officials[official], words, chat=self.STREET))

    async def said_in_street(self) -> tuple[list[str], int]:
        """(texts, photos) the bot sent into the street's chat since last asked."""
        await self.said()  # everything pushed so far is handled and sent
        sent = [s for s in self.api.sent if s["chat_id"] == self.STREET["id"]]
        new, self._street_seen = sent[self._street_seen :], len(sent)
        texts = [s["text"] for s in new if s["method"] == "sendMessage"]
        return texts, sum(s["method"] == "sendPhoto" for s in new)


def _is_help(sent: dict) -> bool:
    return "随手拍两步" in (sent.get("text") or "")


class WeChatDriver:
    platform = "wechat"
    ROOM = "20998811223@chatroom"

    def __init__(self, tmp_path, clock) -> None:
        self.tmp_path, self.clock = tmp_path, clock
        self.puppet = WeChatFakePuppet()
        self.users = {key: f"wxid_{key}" for key in RIDERS}
        self.puppet.add_room(
            self.ROOM, "友谊路骑手群", {self.users[k]: name for k, name in RIDERS.items()}
        )
        self._last: str | None = None

    async def start(self) -> None:
        from bot.wechat.runner import WeChatBot

        self.bot = WeChatBot(_settings(self.tmp_path), clock=self.clock, puppet=self.puppet)
        await self.bot.start()
        self.core = self.bot.core

    async def stop(self) -> None:
        await self.bot.stop()

    async def photo(self, rider: str, seed: int = 0) -> None:
        self._last = self.puppet.send_image(self.ROOM, self.users[rider], jpeg(seed))

    async def photos(self, rider: str, seeds: list[int]) -> None:
        for seed in seeds:  # WeChat has no albums: several photos in a row
            await self.photo(rider, seed)

    async def location(self, rider: str, lat: float, lon: float) -> None:
        self._last = self.puppet.send_location(self.ROOM, self.users[rider], lat, lon)

    async def text(self, rider: str, words: str) -> None:
        self._last = self.puppet.send_text(self.ROOM, self.users[rider], words)

    async def command(self, rider: str, words: str) -> None:
        """WeChat has no commands: `/accept` is typed as plain text."""
        await self.text(rider, words)

    async def deliver_again(self) -> None:
        self.puppet.emit_message(self._last)

    async def appoint(self, rider: str) -> None:
        """`woodpecker roles grant`: the rider becomes this room's secretary."""
        await grant_role(self.core.deps, self.platform, self.users[rider], "secretary", self.ROOM)

    STREET = "30998811224@chatroom"

    async def street_chat(self, around: tuple[float, float]) -> None:
        self.officials = {key: f"wxid_{key}" for key in OFFICIALS}
        self.puppet.add_room(
            self.STREET, "友谊路街道办", {self.officials[k]: n for k, n in OFFICIALS.items()}
        )
        group, street = f"wechat:{self.ROOM}", f"wechat:{self.STREET}"
        await import_grids(self.core.deps, grids_geojson(group, street, around))
        for wxid in self.officials.values():
            await grant_role(self.core.deps, self.platform, wxid, "official", self.STREET)
        self._held: list = []

    async def in_street(self, official: str, words: str) -> None:
        self._last = self.puppet.send_text(self.STREET, self.officials[official], words)

    async def said(self) -> list[str]:
        await self.bot.settle()
        said = self.puppet.pop()
        elsewhere = [x for x in said if x.conversation_id != self.ROOM]
        self._held = [*getattr(self, "_held", []), *elsewhere]
        return [x.text for x in said if x.conversation_id == self.ROOM]

    async def said_in_street(self) -> tuple[list[str], int]:
        await self.said()
        street = [x for x in self._held if x.conversation_id == self.STREET]
        self._held = [x for x in self._held if x.conversation_id != self.STREET]
        return [x.text for x in street if x.file is None], sum(x.file is not None for x in street)


DRIVERS = {"telegram": TelegramDriver, "wechat": WeChatDriver}
