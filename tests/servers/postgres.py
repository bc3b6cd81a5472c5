"""A private PostgreSQL cluster on a free 127.0.0.1 port, and a fresh database per test."""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql

from tests.servers.common import (
    HOST,
    START_TIMEOUT,
    free_port,
    is_root,
    missing,
    tail,
)

# --------------------------------------------------------------------------- PostgreSQL


def _postgres_bin_dir() -> Path | None:
    """Find initdb/pg_ctl: Debian's versioned dir (highest version first), else PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster with trust auth for ``user`` on 127.0.0.1."""

    host: str
    port: int
    user: str
    data_dir: Path
    log_path: Path
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def url(self, name: str) -> str:
        """Return the peewee/psycopg2 URL of database ``name`` on this server."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"

    def connect(self, dbname: str = "postgres") -> Any:
        """Open an autocommit psycopg2 connection (the caller closes it)."""
        conn = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, dbname=dbname, connect_timeout=5
        )
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        conn.autocommit = True
        return conn

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name when ``name`` is None) and return its URL."""
        if name is None:
            name = f"rollcall_test_{next(self._names)}_{uuid.uuid4().hex[:8]}"
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (a name or a URL from create_database), even if still in use."""
        name = name.rsplit("/", 1)[-1]
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                # FORCE ends sessions a test leaked, so teardown cannot hang on them.
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        finally:
            conn.close()


def _as_postgres(cmd: Sequence[str]) -> list[str]:
    """Wrap a command so it runs as the ``postgres`` user when we are root (initdb refuses root)."""
    if not is_root():
        return list(cmd)
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(
    cmd: Sequence[str], what: str, log: Path | None, cwd: Path, *, check: bool = True
) -> str | None:
    """Run an admin command with a timeout; None if it worked, else what went wrong.

    With ``check`` a failure fails the session at once, with the command's
    output and the tail of the server log.
    """
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        failure = f"{what} did not finish in {START_TIMEOUT:.0f}s"
    else:
        if done.returncode == 0:
            return None
        failure = (
            f"{what} failed (exit {done.returncode}): {shlex.join(cmd)}\n{done.stdout}{done.stderr}"
        )
    if log is not None:
        failure += f"\n--- {log}:\n{tail(log)}"
    if check:
        pytest.fail(failure, pytrace=False)
    return failure


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL cluster on a free 127.0.0.1 port for the test session."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        missing("PostgreSQL server binaries (initdb, pg_ctl) not found (Debian: postgresql)")
    if is_root():
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            missing("running as root but there is no `postgres` user to run initdb as")
    else:
        owner = pwd.getpwuid(os.geteuid())

    base = Path(tempfile.mkdtemp(prefix="rollcall-pg-"))
    # The server user must be able to enter the dir; mkdtemp makes it 0700 for us.
    os.chown(base, owner.pw_uid, owner.pw_gid)
    data_dir, log_path = base / "data", base / "postgres.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        _run(
            _as_postgres(
                [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres"]
                + ["--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
            ),
            "initdb",
            None,
            base,
        )
        # A port picked free can be taken before the server binds it: retry with another.
        for attempt in range(3):
            port = free_port()
            # Durability is worthless for a cluster deleted at session end; speed is not.
            options = (
                f"-c listen_addresses={HOST} -p {port} -k {base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = [pg_ctl, "-D", str(data_dir), "-l", str(log_path), "-o", options]
            failure = _run(
                _as_postgres([*start, "-w", "-t", str(int(START_TIMEOUT)), "start"]),
                "pg_ctl start",
                log_path,
                base,
                check=attempt == 2,
            )
            if failure is None:
                break
            if "already in use" not in failure:
                pytest.fail(failure, pytrace=False)
        started = True
        server = PostgresServer(
            host=HOST, port=port, user="postgres", data_dir=data_dir, log_path=log_path
        )
        try:
            server.connect().close()
        except psycopg2.OperationalError as exc:
            pytest.fail(
                f"PostgreSQL started but refuses connections: {exc}\n{tail(log_path)}",
                pytrace=False,
            )
        yield server
    finally:
        if started:
            _stop_postgres(pg_ctl, data_dir, base)
        shutil.rmtree(base, ignore_errors=True)


def _stop_postgres(pg_ctl: str, data_dir: Path, cwd: Path) -> None:
    """Stop the cluster; if pg_ctl cannot, kill the postmaster so it does not outlive pytest."""
    failure = _run(
        _as_postgres([pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
        "pg_ctl stop",
        None,
        cwd,
        check=False,
    )
    if failure is None:
        return
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards. Yields its URL."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)
