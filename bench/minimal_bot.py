"""The anchor for bench/intake.py: the simplest bot that does Woodpecker's intake job.

python-telegram-bot with concurrent updates. A photo (or an image sent as a file): download the
largest size, decode it (draft mode), re-encode it without EXIF (at most 2560 px) and a 320 px
thumbnail in a thread, write both files. The second half of a report (photo or location, either
order, same person and chat): insert one sqlite3 row and reply `已登记 #N`. Nothing else: no
redelivery check, no outbox, no drafts that survive a restart, no replies to anything else.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import sqlite3
from pathlib import Path

from PIL import Image
from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


def _images(data: bytes) -> tuple[bytes, bytes]:
    img = Image.open(io.BytesIO(data))
    img.draft("RGB", (2560, 2560))
    img = img.convert("RGB")
    img.thumbnail((2560, 2560))
    display, thumb = io.BytesIO(), io.BytesIO()
    img.save(display, "JPEG", quality=85)  # no exif= given: none written
    img.thumbnail((320, 320))
    img.save(thumb, "JPEG", quality=85)
    return display.getvalue(), thumb.getvalue()


def _store(folder: Path, data: bytes) -> str:
    display, thumb = _images(data)
    name = hashlib.sha256(data).hexdigest()
    (folder / f"{name}.jpg").write_bytes(display)
    (folder / f"{name}.thumb.jpg").write_bytes(thumb)
    return name


class MinimalBot:
    def __init__(self, token: str, base_url: str, file_url: str, folder: Path, limiter: bool):
        builder = Application.builder().token(token).base_url(base_url).base_file_url(file_url)
        if limiter:
            builder = builder.rate_limiter(AIORateLimiter(max_retries=5))
        self.app = builder.concurrent_updates(True).build()
        self.folder = folder
        self.db = sqlite3.connect(folder / "minimal.db")
        self.db.execute("PRAGMA journal_mode=WAL")  # as Woodpecker's SQLite: a fair comparison
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE report (photo TEXT, lat REAL, lon REAL)")
        self.halves: dict[tuple[int, int], dict] = {}
        self.app.add_handler(
            MessageHandler(filters.PHOTO | filters.Document.IMAGE | filters.LOCATION, self.on)
        )

    async def on(self, update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        msg = update.message
        half = self.halves.setdefault((msg.chat_id, msg.from_user.id), {})
        if msg.location:
            half["loc"] = (msg.location.latitude, msg.location.longitude)
        else:
            media = msg.photo[-1] if msg.photo else msg.document
            data = bytes(await (await media.get_file()).download_as_bytearray())
            half["photo"] = await asyncio.to_thread(_store, self.folder, data)
        if "loc" in half and "photo" in half:
            del self.halves[(msg.chat_id, msg.from_user.id)]
            row = (half["photo"], *half["loc"])
            cur = self.db.execute("INSERT INTO report VALUES (?, ?, ?)", row)
            self.db.commit()
            await msg.reply_text(f"已登记 #{cur.lastrowid}")

    async def start(self) -> None:
        await self.app.initialize()
        await self.app.start()
        await self.app.updater.start_polling(poll_interval=0, timeout=10)

    async def stop(self) -> None:
        await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        self.db.close()
