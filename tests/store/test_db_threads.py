"""Reads in threads of their own: started early, and stopped when a newer read replaces them."""

from __future__ import annotations

import threading
import time

import pytest

from store.db import (
    Interrupted,
    Interruptible,
    close_database,
    database,
    is_postgres,
    read_in_thread,
)
from store.errors import ValidationError

SLOW = {
    "sqlite": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) "
        "SELECT count(*) FROM n"
    ),
    "postgres": "SELECT 1 FROM pg_sleep(0.5)",
}


def test_a_read_in_a_thread_gives_its_result_or_its_error(store: str) -> None:
    assert (
        read_in_thread(lambda: database.execute_sql("SELECT 41 + 1").fetchone()[0], "t").result(
            timeout=10
        )
        == 42
    )

    def failing() -> int:
        raise ValidationError("no such thing", field="session")

    with pytest.raises(ValidationError):
        read_in_thread(failing, "t").result(timeout=10)
    # The main thread's own connection is untouched by the threads' closing theirs.
    assert database.execute_sql("SELECT 1").fetchone()[0] == 1


def test_a_superseded_statement_is_stopped_on_sqlite(store: str) -> None:
    """A newer generation stops the older one's statement (SQLite), the same or an older
    one does not, and the thread's next statement runs normally; on PostgreSQL the
    statement runs to its end."""
    counting = Interruptible()
    outcome: dict[str, object] = {}
    started = threading.Event()

    def run() -> None:
        database.connect(reuse_if_open=True)
        try:
            with counting.running(2):
                started.set()
                outcome["value"] = database.execute_sql(SLOW[backend]).fetchone()[0]
        except Interrupted:
            outcome["stopped"] = True
        outcome["next"] = database.execute_sql("SELECT 7").fetchone()[0]
        close_database()

    backend = "postgres" if is_postgres() else "sqlite"
    thread = threading.Thread(target=run)
    begun = time.monotonic()
    thread.start()
    assert started.wait(10)
    time.sleep(0.1)
    counting.interrupt(before=2)  # not newer: nothing happens
    assert thread.is_alive()
    counting.interrupt(before=3)
    thread.join(30)
    assert not thread.is_alive()
    if backend == "sqlite":
        assert outcome == {"stopped": True, "next": 7}
        assert time.monotonic() - begun < 5  # the count of 10^8 rows did not run to its end
    else:
        assert outcome == {"value": 1, "next": 7}
    counting.interrupt(before=9)  # nothing running: nothing to stop
