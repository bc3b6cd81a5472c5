"""Capacity holds when offers, approvals and direct bookings race in separate processes."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any

from store.approvals import set_manager, set_session_policy
from store.booking import book, unbook
from store.models import Enrolment
from store.sessions import count_occupying, get_session
from tests.builders import person, session


def _act(url: str, action: str, args: tuple[Any, ...], barrier: Barrier, results: Any) -> None:
    from store import approvals, booking, offers
    from store.db import open_database
    from store.settings import load_settings, use_settings

    use_settings(load_settings(environ={"ROLLCALL_TIMEZONE": "Europe/London"}))
    open_database(url, migrate=False)
    rules: dict[str, Callable[..., Any]] = {
        "accept": offers.accept_offer,
        "book": booking.book,
        "approve": approvals.approve,
        "unbook": booking.unbook,
    }
    barrier.wait(timeout=60)
    try:
        outcome = rules[action](*args)
        results.put((action, args[1], getattr(outcome, "status", "done")))
    except Exception as exc:  # every failure goes to the parent, which asserts on it
        results.put((action, args[1], f"error: {exc!r}"))


def _race(url: str, actions: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, str, str]]:
    from store.db import close_database

    close_database()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(actions))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=_act, args=(url, action, args, barrier, results))
        for action, args in actions
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    return outcomes


def _statuses(session_id: int) -> dict[str, str]:
    rows = Enrolment.select().where(Enrolment.session == session_id)
    return {e.person.email: e.status for e in rows}


def test_two_offers_and_direct_bookings_race_for_the_last_places(store: str) -> None:
    created = session(max_attendees=3)
    set_session_policy(created.id, offer_hours=12)
    for name in ("h1", "h2", "h3", "w1", "w2", "n1", "n2"):
        person(f"{name}@example.org")
    for name in ("h1", "h2", "h3", "w1", "w2"):
        book(created.id, f"{name}@example.org")
    unbook(created.id, "h1@example.org")
    unbook(created.id, "h2@example.org")
    assert [s for s in _statuses(created.id).values() if s == "offered"] == ["offered"] * 2
    outcomes = _race(
        store,
        [
            ("accept", (created.id, "w1@example.org")),
            ("accept", (created.id, "w2@example.org")),
            ("book", (created.id, "n1@example.org")),
            ("book", (created.id, "n2@example.org")),
            ("unbook", (created.id, "h3@example.org")),
        ],
    )
    assert not [o for o in outcomes if o[2].startswith("error")], outcomes
    from store.db import open_database

    open_database(store)
    statuses = _statuses(created.id)
    assert statuses["w1@example.org"] == statuses["w2@example.org"] == "enrolled"
    assert count_occupying(get_session(created.id)) <= 3
    held = [s for s in statuses.values() if s in ("enrolled", "offered")]
    assert len(held) == 3  # h3's place went to a newcomer, as an offer or a booking
    positions = sorted(
        e.waitlist_position
        for e in Enrolment.select().where(
            (Enrolment.session == created.id) & (Enrolment.status == "waitlisted")
        )
    )
    assert positions == list(range(1, len(positions) + 1))


def test_an_approval_races_with_bookings_for_the_last_place(store: str) -> None:
    created = session(max_attendees=1)
    person("boss@example.org")
    person("ann@example.org")
    set_manager("ann@example.org", "boss@example.org")
    set_session_policy(created.id, approval="manager")
    assert book(created.id, "ann@example.org").status == "requested"
    set_session_policy(created.id, approval="none")
    for name in ("n1", "n2", "n3"):
        person(f"{name}@example.org")
    outcomes = _race(
        store,
        [
            ("approve", (created.id, "ann@example.org")),
            ("book", (created.id, "n1@example.org")),
            ("book", (created.id, "n2@example.org")),
            ("book", (created.id, "n3@example.org")),
        ],
    )
    assert not [o for o in outcomes if o[2].startswith("error")], outcomes
    from store.db import open_database

    open_database(store)
    statuses = _statuses(created.id)
    assert sorted(statuses.values()) == ["enrolled", "waitlisted", "waitlisted", "waitlisted"]
    positions = sorted(
        e.waitlist_position for e in Enrolment.select().where(Enrolment.status == "waitlisted")
    )
    assert positions == [1, 2, 3]
    # Ann asked first: if she did not get the place, she is first in line.
    if statuses["ann@example.org"] == "waitlisted":
        ann = Enrolment.get(Enrolment.status == "waitlisted", Enrolment.waitlist_position == 1)
        assert ann.person.email == "ann@example.org"
