"""Intake throughput and latency: Woodpecker vs. the simplest bot doing the job, one run.

    .venv/bin/python -m bench.intake

Everything talks HTTP to the fake Bot API (`tests/fakes/telegram_api.py`) on 127.0.0.1, in this
one process and event loop. Chatter is compared with a bare python-telegram-bot; reports, on
real-sized pictures, with the minimal bot in bench/minimal_bot.py (the anchor, issue 15).
Nothing is asserted: the figures are printed with their targets; a missed target is printed as
missed. Every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import io
import logging
import os
import platform
import random
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import telegram
from PIL import Image, ImageDraw, ImageFilter
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.minimal_bot import MinimalBot
from bot.settings import Settings
from bot.telegram.runner import TelegramBot
from tests import telegram_updates as tu
from tests.fakes.telegram_api import FakeTelegramAPI

TOKEN = "424242:BENCH-token"
ACK = "已登记"  # the zh_CN acknowledgement of a new ticket
SPOT = (31.40512, 121.48931)
CHATTER = (
    "中午吃啥？",
    "老王牛啊",
    "今天单子真多",
    "收到",
    "好的👌",
    "谁在友谊路附近",
    "下雨了慢点",
)
DEADLINE = 120.0  # seconds any one measurement may take before it gives up and reports

now = time.perf_counter


# --------------------------------------------------------------------------- the fake, timed


class TimedAPI(FakeTelegramAPI):
    """The fake Bot API, noting when each message arrived (and which report it acknowledges)."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, bot_username="woodpecker_bot")
        self.sent_times: list[float] = []
        self.ack_times: list[float] = []
        self.ack_at: dict[int, float] = {}  # reply_to_message_id -> arrival

    def _record(self, method, chat_id, message_id, params, **extra) -> None:
        super()._record(method, chat_id, message_id, params, **extra)
        t = now()
        entry = self.sent[-1]
        self.sent_times.append(t)
        if ACK in (entry.get("text") or ""):
            self.ack_times.append(t)
            if entry["reply_to_message_id"] is not None:
                self.ack_at.setdefault(entry["reply_to_message_id"], t)


async def wait_for(times: list[float], n: int, timeout: float = DEADLINE) -> None:
    """Until `times` holds n entries, or the deadline passes (the caller reports what it got)."""
    end = now() + timeout
    for _ in range(int(timeout * 100)):  # a poll every 10 ms, bounded twice over
        if len(times) >= n or now() >= end:
            return
        await asyncio.sleep(0.01)


@dataclass
class Run:
    label: str
    expected: int
    times: list[float]
    t0: float
    unit: str = "upd/s"
    count_per_event: int = 1  # updates behind each counted event (2 for a photo + location)
    notes: list[str] = field(default_factory=list)
    messages: int = 0  # everything the bot sent in the run

    @property
    def done(self) -> int:
        return min(len(self.times), self.expected)

    @property
    def seconds(self) -> float:
        return (self.times[self.done - 1] - self.t0) if self.done else float("nan")

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.done else 0.0

    def line(self) -> str:
        extra = "" if self.done == self.expected else f" (ONLY {self.done}/{self.expected})"
        return (
            f"  {self.label}: {self.done} in {self.seconds:.2f} s = {self.rate:.0f} {self.unit}"
            f"{extra}"
        )


def settle() -> None:
    """Before each measured run: collect, then freeze what is left out of the collector's reach.

    Both bots share this process, so without this each run's garbage collections also walk what
    the runs before it left behind (Woodpecker's engines, PTB's objects, the previous fake's
    records): a later run paid for an earlier one. Frozen, each run pays for what it allocates.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


# --------------------------------------------------------------------------- workload

PHOTO_SIZE = (1280, 960)  # the largest size Telegram sends of a typical phone photo
FILE_SIZE = (4000, 3000)  # a 12-megapixel photo sent as a file (a document)


@functools.cache
def _texture(size: tuple[int, int], sigma: float, turn: int) -> Image.Image:
    """Gradients and noise, a quarter larger than `size`: photo-like detail, so JPEG sizes are
    realistic (noise is the slow part: a few textures, cropped differently for every picture)."""
    big = (size[0] * 5 // 4, size[1] * 5 // 4)
    grad = Image.linear_gradient("L").resize(big)
    return Image.merge(
        "RGB",
        (
            Image.blend(grad, Image.effect_noise(big, sigma), 0.5),
            Image.effect_noise(big, sigma).filter(ImageFilter.BoxBlur(1)),
            grad.rotate(90 * turn),
        ),
    )


def _photo_like(size: tuple[int, int], sigma: float, seed: int) -> Image.Image:
    """A picture of its own: a crop of a texture and a few shapes (distinct hashes, no near
    copies of each other, as real reports are)."""
    w, h = size
    rng = random.Random(seed)
    x, y = rng.randrange(w // 4), rng.randrange(h // 4)
    img = _texture(size, sigma, seed % 4).crop((x, y, x + w, y + h))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = rng.randrange(w), rng.randrange(h)
        box = [x, y, x + rng.randrange(w // 16, w // 5), y + rng.randrange(h // 16, h // 5)]
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


def make_jpegs(n: int, size: tuple[int, int] = PHOTO_SIZE, first_seed: int = 0) -> list[bytes]:
    """n distinct photo-like JPEGs: ~0.5 MB at 1280x960; ~4 MB at 4000x3000, with camera EXIF
    (make, model, time: what a photo sent as a file keeps; no GPS, so a location is still due)."""
    big = size[0] * size[1] > 4_000_000
    out = []
    for seed in range(first_seed, first_seed + n):
        img = _photo_like(size, 40 if big else 50, seed)
        exif = Image.Exif()
        if big:
            exif.update({0x010F: "Xiaomi", 0x0110: "Redmi Note 12", 0x0132: "2026:11:20 10:00:00"})
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90, exif=exif.tobytes() if big else b"")
        out.append(buf.getvalue())
    return out


def group(g: int) -> dict:
    return {"id": -1002000000000 - g, "title": f"骑手群{g}", "type": "supergroup"}


def rider(r: int) -> dict:
    return tu.user(80000 + r, f"骑手{r}")


def chatter_updates(n: int, groups: int = 200, riders: int = 1000) -> list[dict]:
    return [
        tu.text(rider(i % riders), CHATTER[i % len(CHATTER)], chat=group(i % groups))
        for i in range(n)
    ]


@dataclass
class Report:
    photo: dict
    location: dict
    location_id: int

    @property
    def photo_id(self) -> int:
        message = self.photo["message"]
        return message["message_id"]


def reports(
    api: FakeTelegramAPI,
    jpegs: list[bytes],
    n: int,
    groups: int,
    files: list[bytes] | None = None,
    file_every: int = 0,
) -> list[Report]:
    """n photo + location pairs, report i from rider i % 250 in group i % groups; with `files`,
    every `file_every`-th report's picture is one of them, sent as a file (a document)."""
    out = []
    for i in range(n):
        file_id = f"ph{i}"
        sender, chat = rider(i % 250), group(i % groups)
        if files and file_every and i % file_every == file_every - 1:
            data = files[i % len(files)]
            api.add_file(file_id, data, file_unique_id=f"u-{file_id}")
            photo = tu.image_document(sender, file_id, chat=chat, file_size=len(data))
        else:
            data = jpegs[i % len(jpegs)]
            api.add_file(file_id, data, file_unique_id=f"u-{file_id}")
            photo = tu.photo(sender, file_id, chat=chat, file_size=len(data))
        lat, lon = SPOT[0] + (i % 97) * 1e-4, SPOT[1] + (i % 89) * 1e-4
        location = tu.location(sender, lat, lon, chat=chat)
        out.append(Report(photo, location, location["message"]["message_id"]))
    return out


# --------------------------------------------------------------------------- the bots


async def start_bare(api: FakeTelegramAPI, hits: list[float]) -> Application:
    """A bare, silent PTB Application: default builder settings, the same polling as
    Woodpecker."""
    app = (
        Application.builder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )

    async def silent(update: Update, _ctx: ContextTypes.DEFAULT_TYPE) -> None:
        hits.append(now())

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, silent))
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=10)
    return app


async def stop_bare(app: Application) -> None:
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


async def start_woodpecker(
    api: FakeTelegramAPI, folder: Path, rate_limit: bool, hits: list[float] | None = None
) -> TelegramBot:
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'woodpecker.db'}",
        media_dir=str(folder / "media"),
        telegram_bot_token=api.token,
        telegram_base_url=api.base_url,
        telegram_rate_limit=rate_limit,
    )
    bot = TelegramBot(settings)
    if hits is not None:
        # Bench-only: count every update the core finished with (chatter gets no answer).
        handle = bot.core.handle

        async def counting(msg) -> None:
            try:
                await handle(msg)
            finally:
                hits.append(now())

        bot.core.handle = counting
    await bot.start()
    return bot


# --------------------------------------------------------------------------- measurements


async def push_all(api: FakeTelegramAPI, updates: list[dict]) -> float:
    await asyncio.sleep(0.2)  # the bot sits in its long poll
    t0 = now()
    api.push_many(updates)
    return t0


async def bare_run(n: int) -> Run:
    async with TimedAPI() as api:
        hits: list[float] = []
        app = await start_bare(api, hits)
        try:
            t0 = await push_all(api, chatter_updates(n))
            await wait_for(hits, n)
            return Run("bare silent bot", n, hits, t0)
        finally:
            await stop_bare(app)


async def woodpecker_chatter(n: int) -> Run:
    async with TimedAPI() as api:
        with tempfile.TemporaryDirectory(prefix="wp-bench-") as tmp:
            hits: list[float] = []
            bot = await start_woodpecker(api, Path(tmp), rate_limit=False, hits=hits)
            try:
                t0 = await push_all(api, chatter_updates(n))
                await wait_for(hits, n)
                run = Run("woodpecker chatter", n, hits, t0)
                await asyncio.sleep(0.2)
                if api.sent:
                    run.notes.append(f"unexpected: it answered chatter {len(api.sent)} times")
                return run
            finally:
                await bot.stop()


WOODPECKER, MINIMAL = "woodpecker", "minimal bot"


class Bot:
    """Either bot under test, started on a fresh folder (database, media) against `api`."""

    def __init__(self, kind: str, api: FakeTelegramAPI, folder: Path, rate_limit: bool) -> None:
        self.kind, self.api, self.folder, self.rate_limit = kind, api, folder, rate_limit
        self._bot: TelegramBot | MinimalBot | None = None

    async def __aenter__(self) -> Bot:
        if self.kind == WOODPECKER:
            self._bot = await start_woodpecker(self.api, self.folder, self.rate_limit)
        else:
            (self.folder / "media").mkdir()
            api = self.api
            self._bot = MinimalBot(
                api.token, api.base_url, api.base_file_url, self.folder / "media", self.rate_limit
            )
            await self._bot.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._bot.stop()


async def report_run(
    kind: str,
    jpegs: list[bytes],
    n: int,
    groups: int,
    rate_limit: bool,
    files: list[bytes] | None = None,
    file_every: int = 0,
) -> Run:
    """n photo + location pairs pushed at once; reports/s = acknowledgements per second."""
    async with TimedAPI() as api:
        with tempfile.TemporaryDirectory(prefix="wp-bench-") as tmp:
            async with Bot(kind, api, Path(tmp), rate_limit):
                work = reports(api, jpegs, n, groups, files, file_every)
                updates = [u for r in work for u in (r.photo, r.location)]
                t0 = await push_all(api, updates)
                await wait_for(api.ack_times, n, timeout=DEADLINE * (2 if rate_limit else 1))
                run = Run(kind, n, list(api.ack_times), t0, unit="reports/s", count_per_event=2)
                await asyncio.sleep(0.3)  # anything said after the last acknowledgement counts too
                run.messages = len(api.sent)
                return run


def steady(run: Run, skip: int = 60) -> float:
    """Acknowledgements per second after the first `skip` (the limiter's burst of 30 and the
    ramp-up), to the last."""
    skip = min(skip, max(0, run.done - 2))
    if run.done - skip < 2:
        return 0.0
    return (run.done - 1 - skip) / (run.times[run.done - 1] - run.times[skip])


@dataclass
class Latency:
    samples: list[float]
    expected: int
    late_pushes: float  # worst lag of a push behind its schedule, seconds
    messages: int = 0

    def pct(self, p: float) -> float:
        s = sorted(self.samples)
        return s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))] * 1000

    def line(self, label: str) -> str:
        if not self.samples:
            return f"  {label}: 0/{self.expected} acknowledged"
        return (
            f"  {label}: {len(self.samples)}/{self.expected} acknowledged; p50 {self.pct(50):.0f}"
            f" ms, p90 {self.pct(90):.0f} ms, p99 {self.pct(99):.0f} ms, max "
            f"{max(self.samples) * 1000:.0f} ms; {self.messages / self.expected:.2f} messages/"
            f"report (pushes at most {self.late_pushes * 1000:.0f} ms behind schedule)"
        )


async def latency_run(
    kind: str, jpegs: list[bytes], rate: float, seconds: float, groups: int, photo_lead: float
) -> Latency:
    """A steady `rate` of reports, limiter on, default settings: from pushing a location to the
    fake receiving the acknowledgement that replies to it."""
    n = int(rate * seconds)
    async with TimedAPI() as api:
        with tempfile.TemporaryDirectory(prefix="wp-bench-") as tmp:
            async with Bot(kind, api, Path(tmp), rate_limit=True):
                work = reports(api, jpegs, n, groups)
                await asyncio.sleep(0.2)
                start = now() + photo_lead
                events = sorted(
                    [(start + i / rate - photo_lead, 0, i) for i in range(n)]
                    + [(start + i / rate, 1, i) for i in range(n)]
                )
                pushed: dict[int, float] = {}  # report -> when its location was pushed
                worst = 0.0
                for at, is_location, i in events:
                    delay = at - now()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    t = now()
                    worst = max(worst, t - at)
                    if is_location:
                        pushed[i] = t
                        api.push_update(work[i].location)
                    else:
                        api.push_update(work[i].photo)
                await wait_for(api.ack_times, n, timeout=30)
                await asyncio.sleep(0.3)
                # The acknowledgement replies to whichever half completed the report (the
                # minimal bot handles updates concurrently: a slow photo can finish last).
                acked = {i: api.ack_at.get(work[i].location_id) for i in pushed}
                acked = {i: a if a else api.ack_at.get(work[i].photo_id) for i, a in acked.items()}
                samples = [acked[i] - t for i, t in pushed.items() if acked[i]]
                return Latency(samples, n, worst, len(api.sent))


# --------------------------------------------------------------------------- report


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value < target
    return "met" if met else "MISSED"


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


async def pair(label: str, runs: dict[str, Run], make) -> None:
    """Run both bots on the same workload, the minimal bot first; print each as it ends."""
    print(label)
    for kind in (MINIMAL, WOODPECKER):
        settle()
        runs[kind] = await make(kind)
        run = runs[kind]
        print(f"{run.line()}; {run.messages / max(1, run.done):.2f} messages/report")
        gc.collect()


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="  [log] %(levelname)s %(name)s: %(message)s")
    print("Woodpecker intake bench (issues 3 and 15)")
    print(f"  command: {shlex.join([sys.executable, '-m', 'bench.intake', *sys.argv[1:]])}")
    print(f"  cwd: {os.getcwd()}")
    print(
        f"  python {platform.python_version()} ({platform.python_implementation()}), "
        f"python-telegram-bot {telegram.__version__}, {platform.platform()}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print("  fake Bot API on 127.0.0.1, same process and event loop as the bot under test;")
    print("  polling: start_polling(poll_interval=0, timeout=10)")
    print()
    t = now()
    jpegs = make_jpegs(args.jpegs)
    files = make_jpegs(args.files, FILE_SIZE, first_seed=10_000) if args.file_every else []
    kb = statistics.mean(map(len, jpegs)) / 1024
    w, h = PHOTO_SIZE
    print(f"pre-generated {len(jpegs)} distinct {w}x{h} JPEGs, ~{kb:.0f} KB", end="")
    if files:
        mb = statistics.mean(map(len, files)) / 1024 / 1024
        print(f", and {len(files)} {FILE_SIZE[0]}x{FILE_SIZE[1]} with EXIF, ~{mb:.1f} MB", end="")
    print(f" ({now() - t:.1f} s)")
    print()

    n, k = args.chatter, args.repeat
    print(f"[1] chatter: {n} texts over 200 groups from 1000 riders, pushed at once; best of {k}")
    silents, chatters = [], []
    for _ in range(k):  # alternated, so a noisy neighbour hurts both sides alike
        settle()
        silents.append(await bare_run(n))
        print(silents[-1].line())
        settle()
        chatters.append(await woodpecker_chatter(n))
        print(chatters[-1].line())
        for note in chatters[-1].notes:
            print(f"  {note}")
    silent = max(silents, key=lambda r: r.rate)
    chatter = max(chatters, key=lambda r: r.rate)

    p, g = args.reports, args.groups
    off: dict[str, Run] = {}
    await pair(
        f"[2] reports, limiter off: {p} photo + location pairs ({PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} "
        f"photos) from 250 riders over {g} groups, pushed at once",
        off,
        lambda kind: report_run(kind, jpegs, p, g, rate_limit=False),
    )
    mixed: dict[str, Run] = {}
    if files:
        fp, every = args.file_reports, args.file_every
        await pair(
            f"[3] reports, limiter off, every {every}th picture a {FILE_SIZE[0]}x{FILE_SIZE[1]} "
            f"file: {fp} pairs over {g} groups, pushed at once",
            mixed,
            lambda kind: report_run(kind, jpegs, fp, g, False, files, every),
        )
    q, qg = args.limited_reports, args.limited_groups
    on: dict[str, Run] = {}
    await pair(
        f"[4] reports, limiter on: {q} pairs over {qg} groups, pushed at once; steady = "
        "acknowledgements after the 60th",
        on,
        lambda kind: report_run(kind, jpegs, q, qg, rate_limit=True),
    )
    for kind, run in on.items():
        print(f"  {kind} steady: {steady(run):.1f} acks/s")

    rate, secs, lg, lead = args.latency_rate, args.latency_seconds, args.latency_groups, 0.5
    print(
        f"[5] latency, limiter on, default settings: {rate:g} reports/s for {secs:g} s over {lg} "
        f"groups; each photo {lead:g} s before its location; location pushed -> ack received"
    )
    lat: dict[str, Latency] = {}
    for kind in (MINIMAL, WOODPECKER):
        settle()
        lat[kind] = await latency_run(kind, jpegs, rate, secs, lg, lead)
        print(lat[kind].line(kind))
        gc.collect()
    print()

    print("figures (ratios within this one run)")
    r1 = ratio(chatter.rate, silent.rate)
    print(
        f"  chatter: woodpecker {chatter.rate:.0f} upd/s / bare {silent.rate:.0f} upd/s = "
        f"{r1:.2f} (target >= 0.75) {verdict(r1, 0.75)}"
    )
    w, m = off[WOODPECKER], off[MINIMAL]
    r2 = ratio(w.rate, m.rate)
    print(
        f"  reports, limiter off: woodpecker {w.rate:.1f} / minimal bot {m.rate:.1f} reports/s = "
        f"{r2:.2f} (target >= 0.8) {verdict(r2, 0.8)}"
    )
    if mixed:
        w, m = mixed[WOODPECKER], mixed[MINIMAL]
        print(
            f"  reports with 4000x3000 files, limiter off: woodpecker {w.rate:.1f} / minimal bot "
            f"{m.rate:.1f} reports/s = {ratio(w.rate, m.rate):.2f}"
        )
    w, m = on[WOODPECKER], on[MINIMAL]
    ws, ms = steady(w), steady(m)
    per = w.messages / max(1, w.done)
    print(
        f"  reports, limiter on: woodpecker {w.rate:.1f} / minimal bot {m.rate:.1f} reports/s "
        f"overall = {ratio(w.rate, m.rate):.2f}; steady {ws:.1f} / {ms:.1f} acks/s = "
        f"{ratio(ws, ms):.2f}"
    )
    print(
        f"  acknowledged reports/s, limiter on: {ws:.1f} steady vs Telegram's cap 30/s = "
        f"{ws / 30:.2f} (target >= 27/s) {verdict(ws, 27)}; {per:.2f} messages/report "
        f"(target 1) {verdict(-abs(per - 1), -0.005)}"
    )
    wl = lat[WOODPECKER]
    if wl.samples and len(wl.samples) == wl.expected:
        p99 = wl.pct(99)
        print(
            f"  latency @ {rate:g} reports/s, limiter on: woodpecker p50 {wl.pct(50):.0f} ms, "
            f"p99 {p99:.0f} ms (target p99 < 250 ms) {verdict(p99, 250, higher_is_better=False)}"
        )
    else:
        print(
            f"  latency: only {len(wl.samples)}/{wl.expected} acknowledged within the deadline "
            "MISSED"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chatter", type=int, default=20000, help="chatter texts (20000)")
    parser.add_argument("--repeat", type=int, default=2, help="chatter runs, best kept (2)")
    parser.add_argument("--jpegs", type=int, default=600, help="distinct photos (600)")
    parser.add_argument("--files", type=int, default=15, help="distinct 4000x3000 files (15)")
    parser.add_argument("--reports", type=int, default=500, help="limiter-off pairs (500)")
    parser.add_argument("--groups", type=int, default=100, help="limiter-off groups (100)")
    parser.add_argument(
        "--file-reports", type=int, default=150, help="limiter-off pairs with files (150)"
    )
    parser.add_argument(
        "--file-every", type=int, default=5, help="every n-th picture a file (5; 0: no such run)"
    )
    parser.add_argument("--limited-reports", type=int, default=600, help="limiter-on pairs (600)")
    parser.add_argument("--limited-groups", type=int, default=300, help="limiter-on groups (300)")
    parser.add_argument("--latency-rate", type=float, default=20.0, help="reports/s (20)")
    parser.add_argument("--latency-seconds", type=float, default=18.0, help="seconds (18)")
    parser.add_argument("--latency-groups", type=int, default=120, help="groups (120)")
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
