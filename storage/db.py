"""Engine and transactions. SQLite runs in WAL mode; writers take the lock up front.

Two ways to run a transaction:

- `read()` / `write()`: async context managers on the caller's event loop. With aiosqlite every
  statement is a trip to the driver's thread and back (about a dozen for a small transaction).
- `run(fn)`: the whole transaction in one trip. `fn` is an ordinary `async def fn(session)`; on
  SQLite it runs in this process's database thread, on a connection whose "async" calls finish
  at once (sqlite3 underneath, blocking that thread only, never the caller's loop), so the
  caller's loop is woken once per transaction instead of once per statement. On PostgreSQL it
  is simply `write()`/`read()` on the caller's loop (asyncpg is truly asynchronous).
  `fn` must not touch the caller's loop (no events, no tasks): it only talks to the session.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool

DEFAULT_URL = "sqlite+aiosqlite:///./data/woodpecker.db"
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """Accept plain `sqlite:///` and `postgresql://` URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in ("sqlite", "sqlite+pysqlite"):
        u = u.set(drivername="sqlite+aiosqlite")
    elif u.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        u = u.set(drivername="postgresql+asyncpg")
    return u.render_as_string(hide_password=False)


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy's "begin" below decide how transactions start.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn) -> None:
        # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
        # another writer got in between; taking the write lock first makes it wait instead.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


# --------------------------------------------------------------------------- the database thread


class _InlineCursor:
    """aiosqlite's cursor API over a sqlite3 cursor; every coroutine finishes without waiting."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> _InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> _InlineCursor:
        if parameters is None:
            self._cursor.execute(sql)
        else:
            self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> _InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list:
        return self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:  # description, rowcount, lastrowid, arraysize
        return getattr(self._cursor, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "_cursor":
            object.__setattr__(self, name, value)
        else:
            setattr(self._cursor, name, value)


class _InlineTx:
    """Stands in for aiosqlite's job queue: runs the job now (SQLAlchemy sets isolation_level
    through it) and resolves its future."""

    @staticmethod
    def put_nowait(job: tuple[asyncio.Future, Callable[[], Any]]) -> None:
        future, function = job
        try:
            future.set_result(function())
        except Exception as e:  # handed to the awaiting side
            future.set_exception(e)


class _InlineConnection:
    """aiosqlite's connection API over a sqlite3 connection, for SQLAlchemy's aiosqlite dialect.

    Used only inside the database thread, where blocking is the point: the statement runs there,
    the coroutine finishes at once, and no other thread is woken per statement.
    """

    _tx = _InlineTx()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = conn

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> _InlineCursor:
        return _InlineCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


class _DatabaseThread:
    """One thread with its own event loop; runs one transaction at a time, to completion.

    A write waits (set aside, reads still served) while a `Database.write()` on the loop has the
    turn, so a `write()` that reads through `run` inside itself cannot wait for itself.
    """

    WAKE = object()  # an outside writer gave the turn back

    def __init__(self, name: str, turns: _WriterTurns) -> None:
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._turns = turns
        turns.on_free = lambda: self._jobs.put(self.WAKE)
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        waiting_writes: deque = deque()
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                if job is not self.WAKE:
                    if job[3]:
                        waiting_writes.append(job)
                    else:
                        self._run(loop, job)
                while waiting_writes and self._turns.try_acquire():
                    try:
                        self._run(loop, waiting_writes.popleft())
                    finally:
                        self._turns.release()
        finally:
            loop.close()

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, job: tuple) -> None:
        coro_fn, caller_loop, future, _write = job
        try:
            # run_until_complete, not a task per job: nothing can interleave with a
            # transaction on the thread's single connection, even if `fn` awaits.
            result, error = loop.run_until_complete(coro_fn()), None
        except BaseException as e:  # handed to the caller
            result, error = None, e
        try:
            caller_loop.call_soon_threadsafe(_settle, future, result, error)
        except RuntimeError:  # the caller's loop is closed: nobody is waiting
            pass

    async def call(self, coro_fn: Callable[[], Awaitable[T]], write: bool = False) -> T:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._jobs.put((coro_fn, loop, future, write))
        return await future

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)


class _WriterTurns:
    """Whose turn it is to write: the database thread, or a `Database.write()` on the loop.

    In this process every SQLite write goes through here, so they queue in memory instead of in
    SQLite's busy handler (which polls with growing sleeps: under load a freed lock sat idle and
    waiters starved past busy_timeout). The thread gives way to a waiting `write()`.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._outside_waiting = 0
        self.on_free: Callable[[], None] = lambda: None  # tells the database thread

    def acquire_outside(self) -> None:
        """For a `write()` (in a worker thread: this blocks)."""
        with self._cond:
            self._outside_waiting += 1
            while self._busy:
                self._cond.wait()
            self._outside_waiting -= 1
            self._busy = True

    def try_acquire(self) -> bool:
        """For the database thread: never waits, and lets a waiting `write()` go first."""
        with self._cond:
            if self._busy or self._outside_waiting:
                return False
            self._busy = True
            return True

    def release(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def release_outside(self) -> None:
        self.release()
        self.on_free()


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


# --------------------------------------------------------------------------- the database


class Database:
    """Opens short transactions: `read()` / `write()` (commit on exit), or `run(fn)` in one trip."""

    def __init__(self, url: str = DEFAULT_URL, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        database = make_url(self.url).database if self.is_sqlite else None
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_async_engine(self.url, echo=echo)
        writer = self.engine
        if self.is_sqlite:
            _sqlite_pragmas(self.engine)
            writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._reader = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(writer, expire_on_commit=False)
        # SQLite has one writer at a time anyway. Queue this process's writers here, in order,
        # instead of in SQLite's busy handler: that one polls with growing sleeps (up to 100 ms),
        # so under load a freed lock sat idle and waiters starved past busy_timeout.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # The database thread: only for a SQLite file (":memory:" would be a second database).
        self._thread: _DatabaseThread | None = None
        self._turns = _WriterTurns()
        # A per-process accelerator that lives and dies with this object (storage/drafthints.py).
        self.draft_hints: Any = None
        self._inline: AsyncEngine | None = None
        self._raw: sqlite3.Connection | None = None  # the database thread's one connection
        if self.is_sqlite and database and database != ":memory:" and "mode=memory" not in url:
            self._inline = self._inline_engine(database, echo)
            self._inline_reader = async_sessionmaker(self._inline, expire_on_commit=False)
            self._inline_writer = async_sessionmaker(
                self._inline.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
            )

    def _inline_engine(self, database: str, echo: bool) -> AsyncEngine:
        async def connect() -> _InlineConnection:
            conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
            self._raw = conn
            return _InlineConnection(conn)

        # One connection, always the same: its `PRAGMA data_version` tells what *others* committed
        # (storage/drafthints.py relies on that).
        engine = create_async_engine(
            self.url, echo=echo, async_creator=connect, poolclass=StaticPool
        )
        _sqlite_pragmas(engine)
        return engine

    @property
    def threaded(self) -> bool:
        """Whether `run` uses the database thread (a SQLite file) rather than the caller's loop."""
        return self._inline is not None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._reader() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        if self._write_lock is None:
            async with self._writer() as session, session.begin():
                yield session
            return
        async with self._write_lock:
            if self._inline is None:
                async with self._writer() as session, session.begin():
                    yield session
                return
            await self._outside_turn()
            try:
                async with self._writer() as session, session.begin():
                    yield session
            finally:
                self._turns.release_outside()

    async def _outside_turn(self) -> None:
        acquiring = asyncio.ensure_future(asyncio.to_thread(self._turns.acquire_outside))
        try:
            await asyncio.shield(acquiring)
        except asyncio.CancelledError:  # the turn still comes: hand it straight back
            acquiring.add_done_callback(
                lambda f: None if f.cancelled() or f.exception() else self._turns.release_outside()
            )
            raise

    async def run(self, fn: Callable[[AsyncSession], Awaitable[T]], write: bool = True) -> T:
        """Run `fn(session)` as one transaction (committed when `write` and `fn` returns)."""
        if self._inline is None:
            async with self.write() if write else self.read() as session:
                return await fn(session)
        maker = self._inline_writer if write else self._inline_reader

        async def transaction() -> T:
            async with maker() as session:
                if not write:
                    return await fn(session)
                async with session.begin():  # the thread holds the writers' turn (see above)
                    return await fn(session)

        if self._thread is None:
            self._thread = _DatabaseThread("woodpecker-db", self._turns)
        return await self._thread.call(transaction, write=write)

    async def data_version(self) -> int | None:
        """SQLite's `PRAGMA data_version` on the database thread's one connection: it changes
        exactly when *another* connection committed (another process, or `write()` here), never
        for `run`'s own commits. None where there is no such thread (PostgreSQL, memory)."""
        if self._inline is None:
            return None

        async def version() -> int:
            if self._raw is None:
                async with self._inline.connect():
                    pass
            # Between transactions (jobs run one at a time), so this is a fresh look.
            return self._raw.execute("PRAGMA data_version").fetchone()[0]

        if self._thread is None:
            self._thread = _DatabaseThread("woodpecker-db", self._turns)
        return await self._thread.call(version)

    async def dispose(self) -> None:
        if self._inline is not None:
            if self._thread is not None:
                await self._thread.call(self._inline.dispose)
                self._thread.stop()
                self._thread = None
        await self.engine.dispose()
