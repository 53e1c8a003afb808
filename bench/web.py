"""The desk over 100,000 tickets: list and map pages against a static file of the same server.

    .venv/bin/python -m bench.web               # builds the database once (~15 s), then measures
    .venv/bin/python -m bench.web --tickets 20000 --requests 100 --seconds 3

The database is made by `bot/seed.py` (a year of made-up tickets over 50 groups, the bot's own
migrations) and kept (under ./data/bench/ when ./data exists, else the temp folder). The desk
runs as `woodpecker web` in its own process (uvicorn, one worker, SQLite through the bot's
database thread), signed in as an admin (who sees every ticket: the heaviest queries). This
process is the client (httpx on 127.0.0.1): first one request at a time (p50, p99 of the time to
the whole body), then 20 clients at once for a few seconds (requests/s). The anchor is a static
file served by the same server (desk.css): each page's figures are also printed as a ratio to it.
Nothing is asserted; figures move by ±20 % on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from bench.digest import ticket_count
from handlers.config import utc_now

SECRET = "bench-session"
PAGES = (
    ("static desk.css (anchor)", "/static/app/desk.css"),
    ("list: open, page 1", "/tickets"),
    ("list: all, page 1000", "/tickets?state=all&page=1000"),
    ("list: category + overdue", "/tickets?category=井盖损坏&overdue=1&sort=old"),
    ("map page", "/map"),
    ("map points (5,000)", "/map/points.json"),
)


def default_db(tickets: int) -> Path:
    base = Path("data/bench") if Path("data").is_dir() else Path(tempfile.gettempdir())
    return base / f"web-{tickets}.db"


def build_db(path: Path, tickets: int) -> None:
    from bot.seed import Plan, seed

    from storage.migrate import upgrade_sync

    if ticket_count(path) == tickets:
        upgrade_sync(f"sqlite:///{path}")
        print(f"database: {path} ({tickets:,} tickets, kept from an earlier run)")
    else:
        started = time.perf_counter()
        plan = Plan(tickets=tickets, groups=50, riders=4000, days=365, end=datetime(2026, 11, 20))
        seed(path, plan)
        took = time.perf_counter() - started
        print(f"database: {path} ({tickets:,} tickets, built in {took:.0f} s)")
    # An admin with a live session (only the cookie's hash is stored, as the desk does).
    con = sqlite3.connect(path)
    try:
        now = utc_now()
        con.execute("DELETE FROM websession")
        con.execute(
            "INSERT OR IGNORE INTO member (platform, user_id, name, created_at) "
            "VALUES ('bench', 'admin', '运营', ?)",
            (now,),
        )
        (member,) = con.execute(
            "SELECT id FROM member WHERE platform = 'bench' AND user_id = 'admin'"
        ).fetchone()
        con.execute(
            "INSERT INTO role (member_pk, chat_pk, role, granted_at) "
            "SELECT ?, NULL, 'admin', ? WHERE NOT EXISTS "
            "(SELECT 1 FROM role WHERE member_pk = ? AND role = 'admin')",
            (member, now, member),
        )
        con.execute(
            "INSERT INTO websession (token_hash, member_pk, csrf, created_at, expires_at) "
            "VALUES (?, ?, 'x', ?, ?)",
            (hashlib.sha256(SECRET.encode()).hexdigest(), member, now, now + timedelta(days=1)),
        )
        con.commit()
    finally:
        con.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_up(client: httpx.AsyncClient, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"woodpecker web exited ({server.returncode})")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("woodpecker web did not start")


async def latencies(client: httpx.AsyncClient, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        answer = await client.get(path)
        answer.raise_for_status()
        out.append(time.perf_counter() - started)
    return out


async def throughput(client: httpx.AsyncClient, path: str, clients: int, seconds: float) -> float:
    deadline = time.perf_counter() + seconds
    done = 0

    async def one() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            (await client.get(path)).raise_for_status()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return done / (time.perf_counter() - started)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(port: int, requests: int, clients: int, seconds: float) -> None:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        cookies={"wp_session": SECRET},
        limits=limits,
        timeout=60,
    ) as client:
        for _, path in PAGES:  # warm: the first request of each pays for imports and caches
            (await client.get(path)).raise_for_status()
        rows = []
        for name, path in PAGES:
            times = await latencies(client, path, requests)
            size = len((await client.get(path)).content)
            rate = await throughput(client, path, clients, seconds)
            rows.append((name, statistics.median(times), pct(times, 0.99), rate, size))
    anchor = rows[0]
    print(
        f"\n{'page':28} {'bytes':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}"
        f" {'p50 ×static':>12} {'req/s ÷static':>14}"
    )
    for name, p50, p99, rate, size in rows:
        print(
            f"{name:28} {size:>9,} {p50 * 1000:>8.1f} {p99 * 1000:>8.1f} {rate:>8.0f}"
            f" {p50 / anchor[1]:>12.1f} {anchor[3] / rate:>14.1f}"
        )
    print(f"\n({requests} sequential requests per page; {clients} clients for {seconds:g} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="sequential, per page")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0, help="of concurrent load per page")
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    path = args.db or default_db(args.tickets)
    path.parent.mkdir(parents=True, exist_ok=True)
    build_db(path, args.tickets)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "MEDIA_DIR": str(path.parent / "media"),
        "LOG_LEVEL": "WARNING",
        "WEB_HOST": "127.0.0.1",
        "ADMIN_USER_IDS": "",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "web", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:

        async def run() -> None:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as probe:
                await wait_up(probe, server)
            await measure(port, args.requests, args.clients, args.seconds)

        asyncio.run(run())
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
