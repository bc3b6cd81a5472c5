"""The one deferred database, how to open it from a URL, and write transactions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlparse

import peewee

from store.errors import ServiceUnavailable, ValidationError

T = TypeVar("T")

database = peewee.DatabaseProxy()
"""Every model binds to this proxy; `open_database` points it at a real database."""

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "synchronous": "normal",
    "cache_size": -32_000,
}


def default_sqlite_path() -> Path:
    """The embedded database file in the user data directory."""
    from store.settings import default_data_dir

    return default_data_dir() / "rollcall.db"


def make_database(url: str, password: str | None = None) -> peewee.Database:
    """Build (but do not connect) a Peewee database for a URL or a file path.

    `password` (from a password command) wins over one written in the URL;
    with neither, libpq reads ``PGPASSFILE`` / ``~/.pgpass``.
    """
    if not url:
        default = default_sqlite_path()
        default.parent.mkdir(parents=True, exist_ok=True)
        return _sqlite(str(default))
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        if not parsed.path.strip("/"):
            raise ValidationError("a PostgreSQL URL needs a database name", field="db")
        return peewee.PostgresqlDatabase(
            unquote(parsed.path.lstrip("/")),
            host=parsed.hostname or None,
            port=parsed.port or 5432,
            user=unquote(parsed.username) if parsed.username else None,
            password=password or (unquote(parsed.password) if parsed.password else None),
        )
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        if not path:
            raise ValidationError("a SQLite URL needs a file path", field="db")
        return _sqlite(path)
    if parsed.scheme and len(parsed.scheme) > 1:
        raise ValidationError(
            f"unsupported database URL scheme {parsed.scheme!r}; use sqlite:/// or postgresql://",
            field="db",
        )
    return _sqlite(url)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL or path (None for PostgreSQL and ``:memory:``)."""
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres") or url == ":memory:":
        return None
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        return "/" + path.lstrip("/") if url.startswith("sqlite:////") else path or None
    return str(Path(url).expanduser())


def redact_url(url: str) -> str:
    """`url` with its password shown as ``***``, for messages, logs and `config check`."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    host = parsed.netloc.rsplit("@", 1)[1]
    user = parsed.username or ""
    return parsed._replace(netloc=f"{user}:***@{host}").geturl()


def _sqlite(path: str) -> peewee.SqliteDatabase:
    if path != ":memory:":
        parent = Path(path).expanduser().parent
        if not parent.exists():
            raise ValidationError(f"the folder {parent} does not exist", field="db")
        path = str(Path(path).expanduser())
    # timeout is SQLite's busy handler: writers queue for the lock instead of failing.
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=30)


def open_database(
    url: str, *, migrate: bool = True, password: str | None = None
) -> peewee.Database:
    """Point the store at `url`, connect, and bring the schema up to date.

    Raises `ServiceUnavailable` when the database cannot be reached.
    """
    db = make_database(url, password)
    database.initialize(db)
    try:
        db.connect(reuse_if_open=True)
    except peewee.OperationalError as exc:
        raise ServiceUnavailable("database", str(exc).strip()) from exc
    if migrate:
        from store.migrations import migrate as run_migrations

        run_migrations(db)
    return db


def close_database() -> None:
    """Close this thread's connection if one is open."""
    if database.obj is not None and not database.is_closed():
        database.close()


def is_postgres() -> bool:
    """True when the store runs on PostgreSQL."""
    return isinstance(database.obj, peewee.PostgresqlDatabase)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction for a read-check-write rule, serialised against other writers.

    SQLite takes the write lock at BEGIN (``BEGIN IMMEDIATE``) so two processes
    cannot both read "one place left"; PostgreSQL relies on the row locks the
    rule takes with `lock_for_update`. Nested use becomes a savepoint.
    """
    db = database.obj
    if db is None:
        raise RuntimeError("the database is not open")
    if db.in_transaction():
        with db.atomic():
            yield
        return
    if isinstance(db, peewee.SqliteDatabase):
        with db.atomic("IMMEDIATE"):
            yield
    else:
        with db.atomic():
            yield


BATCH_ROWS = 500
"""Rows a long import writes per transaction, so other writers wait a moment at most."""


def in_batches(items: Sequence[T], size: int = BATCH_ROWS) -> Iterator[Sequence[T]]:
    """`items` in slices of `size`: each one is written in its own short transaction."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """Add ``FOR UPDATE`` on PostgreSQL; SQLite's IMMEDIATE lock already serialises."""
    if is_postgres():
        return query.for_update()
    return query
