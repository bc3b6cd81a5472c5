"""Capacity holds when many OS processes book the last places at the same moment."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier

from store.models import Enrolment
from tests.builders import person, session

WORKERS = 24
CAPACITY = 5
ALREADY = 3


def _book_one(url: str, session_id: int, email: str, barrier: Barrier, results: object) -> None:
    from store.booking import book
    from store.db import open_database
    from store.settings import load_settings, use_settings

    use_settings(load_settings(environ={"ROLLCALL_TIMEZONE": "Europe/London"}))
    open_database(url, migrate=False)
    barrier.wait(timeout=60)
    try:
        result = book(session_id, email)
        results.put((email, result.status, result.waitlist_position))  # type: ignore[attr-defined]
    except Exception as exc:  # report every failure to the parent, which asserts on it
        results.put((email, "error", repr(exc)))  # type: ignore[attr-defined]


def test_parallel_processes_never_exceed_capacity(store: str) -> None:
    created = session(max_attendees=CAPACITY)
    from store.booking import book

    for i in range(ALREADY):
        person(f"early{i}@example.org")
        book(created.id, f"early{i}@example.org")
    emails = [f"racer{i}@example.org" for i in range(WORKERS)]
    for email in emails:
        person(email)
    from store.db import close_database

    close_database()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_book_one, args=(store, created.id, email, barrier, results))
        for email in emails
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    errors = [o for o in outcomes if o[1] == "error"]
    assert errors == []
    enrolled = [o for o in outcomes if o[1] == "enrolled"]
    waitlisted = sorted(o[2] for o in outcomes if o[1] == "waitlisted")
    assert len(enrolled) == CAPACITY - ALREADY
    assert waitlisted == list(range(1, WORKERS - (CAPACITY - ALREADY) + 1))
    rows = Enrolment.select().where(Enrolment.session == created.id)
    assert sum(1 for e in rows if e.status == "enrolled") == CAPACITY
    positions = sorted(e.waitlist_position for e in rows if e.status == "waitlisted")
    assert positions == waitlisted
