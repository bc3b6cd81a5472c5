"""The one deferred database, how to open it from a URL, and write transactions."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, unquote, urlparse

import peewee

from store.errors import ServiceUnavailable, StorageError, ValidationError
from store.private_files import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, private_umask

log = logging.getLogger(__name__)

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


def make_database(
    url: str, password: str | None = None, *, busy_timeout: float = 30
) -> peewee.Database:
    """Build (but do not connect) a Peewee database for a URL or a file path.

    `password` (from a password command) wins over one written in the URL;
    with neither, libpq reads ``PGPASSFILE`` / ``~/.pgpass``. `busy_timeout`
    is how long SQLite waits for another writer's lock.
    """
    if not url:
        default = default_sqlite_path()
        if not default.parent.exists():
            # The data directory holds everyone's names and attendance: owner only.
            default.parent.mkdir(parents=True, mode=PRIVATE_DIR_MODE)
            default.parent.chmod(PRIVATE_DIR_MODE)
        return _sqlite(str(default), busy_timeout)
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
        return _sqlite(path, busy_timeout)
    if parsed.scheme and len(parsed.scheme) > 1:
        raise ValidationError(
            f"unsupported database URL scheme {parsed.scheme!r}; use sqlite:/// or postgresql://",
            field="db",
        )
    return _sqlite(url, busy_timeout)


def sqlite_file(url: str) -> str | None:
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


def _sqlite(path: str, busy_timeout: float) -> peewee.SqliteDatabase:
    if path != ":memory:":
        parent = Path(path).expanduser().parent
        if not parent.exists():
            raise ValidationError(f"the folder {parent} does not exist", field="db")
        path = str(Path(path).expanduser())
    # timeout is SQLite's busy handler: writers queue for the lock instead of failing.
    return peewee.SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, timeout=busy_timeout)


def sqlite_path(db: peewee.Database) -> Path | None:
    """The file behind a SQLite database (None for PostgreSQL or ``:memory:``)."""
    if not isinstance(db, peewee.SqliteDatabase):
        return None
    name = str(db.database)
    if name.startswith("file:"):
        name = unquote(urlparse(name).path)
    return None if name == ":memory:" else Path(name)


def describe(db: peewee.Database | None = None) -> str:
    """The database as errors name it: the SQLite path, or PostgreSQL host and name."""
    db = db if db is not None else database.obj
    if db is None:
        return "(not open)"
    path = sqlite_path(db)
    if path is not None:
        return str(path)
    if isinstance(db, peewee.PostgresqlDatabase):
        params = db.connect_params
        return f"{params.get('host') or 'localhost'}:{params.get('port', 5432)}/{db.database}"
    return str(db.database)


_STORAGE_ERRORS: tuple[type[BaseException], ...] = (
    peewee.OperationalError,
    peewee.InterfaceError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
)
"""Errors that mean the storage failed (disk, permissions, locks, connection), not a bug."""


def _is_storage_error(exc: BaseException) -> bool:
    if isinstance(exc, _STORAGE_ERRORS):
        return True
    # "database disk image is malformed" and psycopg2's connection errors.
    if type(exc) in (peewee.DatabaseError, sqlite3.DatabaseError):
        return True
    module = type(exc).__module__ or ""
    return module.startswith("psycopg2") and type(exc).__name__ == "OperationalError"


def as_storage_error(exc: BaseException) -> StorageError | None:
    """The one mapping of driver errors to `StorageError`; None when `exc` is not one.

    A failed write is often followed by a second error while rolling back
    ("cannot rollback - no transaction is active"); the first cause in the
    chain is the one a person needs ("database or disk is full").
    """
    if isinstance(exc, StorageError):
        return exc
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    causes = [e for e in chain if _is_storage_error(e)]
    if not causes:
        return None
    detail = (str(causes[-1]).strip().splitlines() or ["storage error"])[0]
    return StorageError(describe(), detail)


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """Turn driver errors raised inside into `StorageError` (other errors pass)."""
    try:
        yield
    except Exception as exc:
        mapped = as_storage_error(exc)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def _read_only(path: Path) -> bool:
    """True when this process cannot write the database.

    Writing needs the file, and either its folder (to create the -wal and -shm
    files) or those two files already there and writable.
    """
    if not path.exists():
        return False
    if not os.access(path, os.W_OK):
        return True
    if os.access(path.parent, os.W_OK):
        return False
    companions = (Path(f"{path}-wal"), Path(f"{path}-shm"))
    return not all(c.exists() and os.access(c, os.W_OK) for c in companions)


def _connect_sqlite(db: peewee.SqliteDatabase) -> peewee.SqliteDatabase:
    path = sqlite_path(db)
    if path is None:
        db.connect(reuse_if_open=True)
        return db
    if _read_only(path):
        return _connect_read_only(path, db.timeout)
    created = not path.exists()
    with private_umask():
        db.connect(reuse_if_open=True)
        if created:
            # A new database is created readable by its owner only; SQLite gives
            # the -wal and -shm files the same mode as the database.
            db.execute_sql("PRAGMA user_version")
            for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                if name.exists():
                    name.chmod(PRIVATE_FILE_MODE)
    return db


def _connect_read_only(path: Path, timeout: float) -> peewee.SqliteDatabase:
    """Open a database this process may only read, so read commands still work."""
    base = f"file:{quote(str(path))}"
    last: Exception | None = None
    # mode=ro needs the -shm file or a writable folder; immutable=1 reads a file on
    # read-only media directly (nothing can change it there).
    for uri in (f"{base}?mode=ro", f"{base}?immutable=1"):
        db = peewee.SqliteDatabase(
            uri, uri=True, pragmas={"foreign_keys": 1, "cache_size": -32_000}, timeout=timeout
        )
        try:
            db.connect()
            db.execute_sql("SELECT count(*) FROM sqlite_master")
        except peewee.DatabaseError as exc:
            last = exc
            if not db.is_closed():
                db.close()
            continue
        database.initialize(db)
        return db
    raise StorageError(str(path), str(last or "cannot be opened read-only"))


def is_read_only() -> bool:
    """True when the open database was opened read-only (writes will be refused)."""
    db = database.obj
    return isinstance(db, peewee.SqliteDatabase) and str(db.database).startswith("file:")


def open_database(
    url: str,
    *,
    migrate: bool = True,
    password: str | None = None,
    notify: Callable[[str], None] | None = None,
    busy_timeout: float = 30,
) -> peewee.Database:
    """Point the store at `url`, connect, and bring the schema up to date.

    A SQLite file this process cannot write is opened read-only (reading works,
    writing raises `StorageError`). Before an existing SQLite database holding
    data is upgraded, a copy is written next to it and `notify` is told where.
    Raises `ServiceUnavailable` when the database cannot be reached.
    """
    db = make_database(url, password, busy_timeout=busy_timeout)
    database.initialize(db)
    try:
        if isinstance(db, peewee.SqliteDatabase):
            db = _connect_sqlite(db)
        else:
            db.connect(reuse_if_open=True)
    except (peewee.OperationalError, peewee.InterfaceError) as exc:
        if isinstance(db, peewee.SqliteDatabase):
            raise StorageError(describe(db), str(exc).strip()) from exc
        raise ServiceUnavailable("database", str(exc).strip()) from exc
    if migrate:
        from store.migrations import migrate as run_migrations

        with storage_errors():
            run_migrations(db, notify=notify)
    return db


def close_database() -> None:
    """Close this thread's connection if one is open."""
    if database.obj is not None and not database.is_closed():
        database.close()


_INHERITED: list[object] = []
"""Connections a forked process inherited: kept, never used or closed (`reconnect_after_fork`)."""


def can_reconnect() -> bool:
    """True when another connection would see this one's database (not SQLite in memory)."""
    db = database.obj
    if db is None:
        return False
    return is_postgres() or sqlite_path(db) is not None


def reconnect_after_fork() -> None:
    """Give a process just forked a connection of its own to the same database.

    The inherited connection is the parent's: its PostgreSQL socket, its SQLite file
    handles and lock state. Closing it here would end the parent's session on the server,
    or let SQLite believe its last connection is gone (and tidy the write-ahead log other
    processes use), so it is kept unused until the process ends with ``os._exit``.
    """
    db = database.obj
    if db is None:
        return
    state = db._state
    if state.conn is not None:
        _INHERITED.append(state.conn)
    state.reset()
    db.connect()


def read_in_thread(read: Callable[[], T], name: str) -> Future[T]:
    """Run `read` in a thread of its own, on a connection of its own closed afterwards.

    The app starts a screen's first read this way while it is still building the
    screen (SQLite and libpq answer without holding the interpreter lock); the
    future holds the result, or the exception for the screen to read again.
    """
    future: Future[T] = Future()

    def run() -> None:
        try:
            if database.is_closed():
                database.connect(reuse_if_open=True)
            future.set_result(read())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
            future.set_exception(exc)
        finally:
            close_database()

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class Interrupted(Exception):
    """The statement was stopped by `Interruptible.interrupt` (its result is not wanted)."""


class Interruptible:
    """The statement of whichever thread runs the latest read, stoppable from another thread.

    A list's count runs for tens of milliseconds on a large table; when the next
    keystroke supersedes it, stopping it gives the processor back to the read the
    person waits for. The stopped statement raises `Interrupted` in its thread
    (SQLite only; on PostgreSQL the statement runs to its end).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: tuple[int, object] | None = None
        self._stopped: tuple[int, object] | None = None

    @contextlib.contextmanager
    def running(self, generation: int) -> Iterator[None]:
        """Let `interrupt` stop what this thread runs inside, as the read of `generation`."""
        entry = (generation, database.connection())
        with self._lock:
            self._running = entry
        try:
            yield
        except peewee.DatabaseError as exc:
            if self._stopped is entry:
                raise Interrupted(str(exc)) from exc
            raise
        finally:
            with self._lock:
                if self._running is entry:
                    self._running = None

    def interrupt(self, before: int) -> None:
        """Stop the statement running for a generation older than `before`, if any."""
        with self._lock:
            entry = self._running
            if entry is None or entry[0] >= before:
                return
            # SQLite stops the statement at its next step, and a statement started after
            # the one stopped is not affected. (PostgreSQL's cancel request reaches the
            # server later, when the connection may run the next read: not used there.)
            if isinstance(entry[1], sqlite3.Connection):
                self._stopped = entry
                entry[1].interrupt()


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
