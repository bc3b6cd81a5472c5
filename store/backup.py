"""Backups, restores and the consistency check (`rollcall backup`, `restore`, `check`).

SQLite is copied with its online backup API, which reads one consistent
snapshot while the app and the worker keep writing; PostgreSQL with
``pg_dump --format=custom``. Copies are written to a temporary file and
renamed into place, mode 0600, so a failed backup never leaves a half file.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import peewee

from store.db import database, describe, sqlite_path
from store.errors import RollcallError, StorageError, ValidationError
from store.private_files import PRIVATE_FILE_MODE, private_temp_path

PG_TOOL_TIMEOUT = 3600
"""Seconds a pg_dump or pg_restore may run before it is given up."""


def _db() -> peewee.Database:
    db = database.obj
    if db is None:
        raise RuntimeError("the database is not open")
    return db


# --------------------------------------------------------------------------- SQLite


def _sqlite_copy(source: sqlite3.Connection, target: Path) -> None:
    """Copy `source` into a new file `target` (0600) through a temp file and a rename."""
    temp = private_temp_path(target)
    try:
        dest = sqlite3.connect(temp)
        try:
            # One step: the whole copy reads one snapshot, so writers committing
            # meanwhile are either wholly in it or wholly out of it.
            source.backup(dest)
            # The copy is one self-contained file, not a WAL database needing -wal/-shm.
            dest.execute("PRAGMA journal_mode=DELETE")
        finally:
            dest.close()
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    target.chmod(PRIVATE_FILE_MODE)


def _open_source(path: Path) -> sqlite3.Connection:
    # A connection of its own, so a backup never runs inside the caller's transaction.
    return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30)


def holds_data(db: peewee.Database | None = None) -> bool:
    """True when any of rollcall's tables in the database has a row."""
    from store.models import ALL_MODELS

    db = db if db is not None else _db()
    present = set(db.get_tables())
    for model in ALL_MODELS:
        table = model._meta.table_name
        # Table names are rollcall's own, never input.
        if table in present and db.execute_sql(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
            return True
    return False


def pre_upgrade_backup(db: peewee.Database, target_version: int) -> Path | None:
    """Copy an existing SQLite database that holds data before upgrading it to `target_version`.

    Returns the copy's path (``rollcall.db.pre-v4-20261129T012233Z.bak`` beside
    the database), or None when nothing needed copying (PostgreSQL: the site's
    own dumps; an empty database).
    """
    path = sqlite_path(db)
    if path is None or not holds_data(db):
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.pre-v{target_version}-{stamp}.bak")
    source = _open_source(path)
    try:
        _sqlite_copy(source, target)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(
            str(path), f"cannot write the copy taken before the upgrade ({target}): {exc}"
        ) from exc
    finally:
        source.close()
    return target


def _sqlite_version(path: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "rollcall_schema" not in tables:
                return 0
            row = conn.execute("SELECT max(version) FROM rollcall_schema").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ValidationError(f"{path} is not a rollcall SQLite backup: {exc}", "file") from exc
    return int(row[0] or 0)


# --------------------------------------------------------------------------- PostgreSQL


def pg_tool(name: str) -> str:
    """Find `pg_dump` or `pg_restore` on PATH or in Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=version)
    if candidates:
        return str(candidates[-1])
    raise StorageError(describe(), f"{name} not found (install the PostgreSQL client tools)")


def _pg_args_env(db: peewee.PostgresqlDatabase) -> tuple[list[str], dict[str, str]]:
    """Connection options for the tools, and their environment carrying the password.

    The password goes in PGPASSWORD, never on the command line, where `ps` shows
    it to every local user.
    """
    params = db.connect_params
    args = ["--dbname", str(db.database), "--no-password"]
    if params.get("host"):
        args += ["--host", str(params["host"])]
    if params.get("port"):
        args += ["--port", str(params["port"])]
    if params.get("user"):
        args += ["--username", str(params["user"])]
    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])
    return args, env


def _run_pg(command: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PG_TOOL_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise StorageError(describe(), f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit {done.returncode}"
        raise StorageError(describe(), f"{what} failed: {reason}")
    return done.stdout


def _pg_version(path: Path) -> int:
    """The schema version recorded in a pg_dump custom-format file."""
    out = _run_pg(
        [
            pg_tool("pg_restore"),
            "--data-only",
            "--table",
            "rollcall_schema",
            "--file",
            "-",
            str(path),
        ],
        dict(os.environ),
        f"reading {path}",
    )
    # COPY public.rollcall_schema (id, version) FROM stdin;\n1\t3\n\.
    match = re.search(r"COPY \S*rollcall_schema \(([^)]*)\) FROM stdin;\n(.*?)\n\\\.", out, re.S)
    if not match:
        return 0
    columns = [c.strip() for c in match.group(1).split(",")]
    index = columns.index("version")
    return max(int(line.split("\t")[index]) for line in match.group(2).splitlines())


# --------------------------------------------------------------------------- commands


def backup_database(target: Path) -> Path:
    """Write a consistent copy of the open database to `target` (mode 0600); returns it."""
    db = _db()
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise ValidationError(f"the folder {target.parent} does not exist", field="file")
    path = sqlite_path(db)
    if path is not None:
        source = _open_source(path)
        try:
            _sqlite_copy(source, target)
        except sqlite3.Error as exc:
            raise StorageError(str(path), str(exc)) from exc
        except OSError as exc:
            raise ValidationError(f"cannot write {target}: {exc.strerror or exc}", "file") from exc
        finally:
            source.close()
        return target
    assert isinstance(db, peewee.PostgresqlDatabase)
    args, env = _pg_args_env(db)
    temp = private_temp_path(target)
    try:
        _run_pg([pg_tool("pg_dump"), "--format=custom", "--file", str(temp), *args], env, "pg_dump")
        temp.replace(target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    target.chmod(PRIVATE_FILE_MODE)
    return target


def backup_version(source: Path) -> int:
    """The schema version stored in a backup file (SQLite file or pg_dump archive)."""
    with source.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(b"SQLite format 3"):
        return _sqlite_version(source)
    if head.startswith(b"PGDMP"):
        return _pg_version(source)
    raise ValidationError(f"{source} is neither a SQLite backup nor a pg_dump archive", "file")


def restore_database(source: Path, *, yes: bool = False) -> int:
    """Replace the open database's contents with the backup `source`; returns its new version.

    Refuses a backup made by a newer release, and a target that holds data
    unless `yes`. The restored database is then migrated to this release.
    """
    from store.migrations import SCHEMA_VERSION, migrate

    source = source.expanduser()
    if not source.is_file():
        raise ValidationError(f"{source} does not exist", field="file")
    db = _db()
    version = backup_version(source)
    if version > SCHEMA_VERSION:
        raise RollcallError(
            f"{source} has schema version {version}, newer than this release understands "
            f"({SCHEMA_VERSION}); restore it with a newer rollcall",
            field="file",
        )
    is_sqlite = sqlite_path(db) is not None
    if is_sqlite != (_kind(source) == "sqlite"):
        raise ValidationError(
            f"{source} is a {_kind(source)} backup; the database is not", field="file"
        )
    if holds_data(db) and not yes:
        raise RollcallError(
            f"the database {describe(db)} already holds data; "
            "add --yes to replace it with the backup",
            field="yes",
        )
    if is_sqlite:
        assert isinstance(db, peewee.SqliteDatabase)
        backup = sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True)
        try:
            backup.backup(db.connection())
        except sqlite3.Error as exc:
            raise StorageError(describe(db), str(exc)) from exc
        finally:
            backup.close()
    else:
        assert isinstance(db, peewee.PostgresqlDatabase)
        args, env = _pg_args_env(db)
        # pg_restore needs the tables unlocked: give up this process's connection.
        db.close()
        _run_pg(
            [pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", *args, str(source)],
            env,
            "pg_restore",
        )
        db.connect(reuse_if_open=True)
    return migrate(db)


def _kind(source: Path) -> str:
    with source.open("rb") as handle:
        return "sqlite" if handle.read(6) == b"SQLite" else "PostgreSQL"


# --------------------------------------------------------------------------- check


@dataclass(frozen=True)
class Finding:
    """One problem `check` found; its fields are the JSON object `rollcall check --json` lists."""

    check: str
    """``integrity``, ``foreign_key``, ``capacity``, ``waitlist`` or ``orphan``."""
    table: str | None
    """The table the problem is in, when there is one."""
    row_id: int | None
    """The row (for capacity and waitlist: the session id), when there is one."""
    message: str
    """What is wrong, for a person."""

    def as_json(self) -> dict[str, Any]:
        """The JSON object of this finding."""
        return asdict(self)


def _rows(sql: str) -> Iterator[tuple[Any, ...]]:
    yield from _db().execute_sql(sql).fetchall()


def _integrity() -> Iterator[Finding]:
    db = _db()
    if isinstance(db, peewee.SqliteDatabase):
        for (line,) in _rows("PRAGMA integrity_check"):
            if line != "ok":
                yield Finding("integrity", None, None, str(line))
        for table, rowid, parent, _ in _rows("PRAGMA foreign_key_check"):
            yield Finding(
                "foreign_key", table, rowid, f"{table} row {rowid} points to a missing {parent}"
            )
    else:
        # PostgreSQL checks its own pages; what can go wrong here is reaching it.
        db.execute_sql("SELECT 1").fetchone()


_ORPHANS = (
    ("enrolment", "session_id", "session", False),
    ("enrolment", "person_id", "person", False),
    ("trainer", "person_id", "person", False),
    ("session", "course_id", "course", False),
    ("session", "trainer_id", "trainer", True),
    ("completion", "person_id", "person", False),
    ("enrolmentnote", "enrolment_id", "enrolment", False),
    ("sessionvisibility", "session_id", "session", False),
    ("material", "session_id", "session", False),
)
"""(table, column, parent table, nullable): every row must point to a parent that exists."""


def _orphans() -> Iterator[Finding]:
    tables = set(_db().get_tables())
    for table, column, parent, nullable in _ORPHANS:
        if table not in tables or parent not in tables:
            continue
        present = f"t.{column} IS NOT NULL AND " if nullable else ""
        sql = (
            f"SELECT t.id, t.{column} FROM {table} t LEFT JOIN {parent} p ON p.id = t.{column} "
            f"WHERE {present}p.id IS NULL ORDER BY t.id"
        )
        for row_id, ref in _rows(sql):
            yield Finding(
                "orphan", table, row_id, f"{table} {row_id} refers to {parent} {ref}, which is gone"
            )


def _capacity() -> Iterator[Finding]:
    from store.statuses import OCCUPYING

    statuses = ", ".join(f"'{s}'" for s in OCCUPYING)
    sql = (
        "SELECT s.id, s.max_attendees, count(e.id) FROM session s "
        f"JOIN enrolment e ON e.session_id = s.id AND e.status IN ({statuses}) "
        "WHERE s.max_attendees IS NOT NULL GROUP BY s.id, s.max_attendees "
        "HAVING count(e.id) > s.max_attendees ORDER BY s.id"
    )
    for session_id, most, taken in _rows(sql):
        yield Finding(
            "capacity",
            "session",
            session_id,
            f"session {session_id} has {taken} places taken, more than its maximum of {most}",
        )


def _waitlist() -> Iterator[Finding]:
    sql = (
        "SELECT session_id, waitlist_position FROM enrolment WHERE status = 'waitlisted' "
        "ORDER BY session_id, waitlist_position"
    )
    by_session: dict[int, list[int | None]] = {}
    for session_id, position in _rows(sql):
        by_session.setdefault(session_id, []).append(position)
    for session_id, positions in by_session.items():
        numbers = sorted(p for p in positions if p is not None)
        if len(numbers) == len(positions) and numbers == list(range(1, len(numbers) + 1)):
            continue
        shown = ", ".join("none" if p is None else str(p) for p in positions)
        yield Finding(
            "waitlist",
            "session",
            session_id,
            f"session {session_id} has waitlist positions {shown}; expected 1..{len(positions)}",
        )
    stray = (
        "SELECT id, status FROM enrolment WHERE status <> 'waitlisted' "
        "AND waitlist_position IS NOT NULL ORDER BY id"
    )
    for enrolment_id, status in _rows(stray):
        yield Finding(
            "waitlist",
            "enrolment",
            enrolment_id,
            f"enrolment {enrolment_id} is {status} but keeps a waitlist position",
        )


def check_database() -> list[Finding]:
    """Integrity and the domain invariants of the open database; an empty list when clean.

    Capacity is never exceeded, waitlist positions are 1..n per session, and no
    row points to a person, session or course that is gone.
    """
    findings: list[Finding] = []
    for part in (_integrity, _orphans, _capacity, _waitlist):
        findings.extend(part())
    return findings
