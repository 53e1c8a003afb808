"""A throwaway PostgreSQL server for the test session, and a fresh database per test.

The server is the real one (`initdb` + `pg_ctl` from PATH or /usr/lib/postgresql/*/bin), in a
temporary directory, listening on a free port on 127.0.0.1 (and a unix socket in that directory),
with durability switched off because nothing here needs to survive a crash. PostgreSQL refuses to
run as root: as root the server runs as the `postgres` user when there is one, else `nobody`.

No binaries is a failure, not a skip: `.ci/run` installs them (`apt-get install -y postgresql`).
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUPERUSER = "postgres"
MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) were not found on PATH or under "
    "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: apt-get install -y postgresql); "
    "`bash .ci/run` does that by itself."
)


def find_bin_dir() -> Path | None:
    """The directory holding initdb, pg_ctl, postgres and psql; newest version first."""
    candidates = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    candidates += [Path(p) for p in reversed(versions)]
    for d in candidates:
        if all((d / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres", "psql")):
            return d
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    bin_dir: Path
    root: Path
    port: int
    run_as: pwd.struct_passwd | None  # None: as ourselves
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *args: str, server_side: bool = True) -> subprocess.CompletedProcess:
        kw: dict = {}
        if server_side and self.run_as is not None:
            kw = {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid, "extra_groups": []}
        env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PGTZ": "UTC"}
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=self.root, **kw)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}{tail}"
            )
        return done

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "--pgdata", str(self.data),
            "--username", SUPERUSER,
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
        )  # fmt: skip
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c timezone=UTC",
            ]
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "start", "--wait", "--timeout", "60",
            "--pgdata", str(self.data),
            "--log", str(self.root / "server.log"),
            "--options", options,
        )  # fmt: skip

    def stop(self) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"), "stop", "--wait", "--mode", "immediate",
            "--pgdata", str(self.data),
        )  # fmt: skip

    def sql(self, statement: str, database: str = "postgres") -> str:
        done = self._run(
            str(self.bin_dir / "psql"),
            "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "-v", "ON_ERROR_STOP=1",
            "--host", str(self.root), "--port", str(self.port),
            "--username", SUPERUSER, "--dbname", database,
            "--command", statement,
        )  # fmt: skip
        return done.stdout.strip()

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database (UTF-8); returns its name."""
        name = f"test_{os.getpid()}_{next(self._names)}"
        self.sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        return name

    def drop_database(self, name: str) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _unprivileged_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` user exists")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(MISSING, pytrace=False)
    run_as = _unprivileged_user()
    # As root, in /tmp: the server's user must reach the directory (TMPDIR may be root's own).
    parent = "/tmp" if run_as is not None and os.path.isdir("/tmp") else None
    root = Path(tempfile.mkdtemp(prefix="woodpecker-pg-", dir=parent))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    server = PostgresServer(bin_dir, root, _free_port(), run_as)
    try:
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_database(pg_server: PostgresServer) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's server, dropped after the test."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)
