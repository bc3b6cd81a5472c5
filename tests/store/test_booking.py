"""Booking, visibility, the waitlist and promotion."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from store.availability import available_sessions
from store.booking import book, cancel_booking, enrol, promote, unbook, waitlist
from store.errors import RuleViolation
from store.models import Enrolment, Outbox
from store.people import get_person, set_person_active
from store.settings import load_settings, use_settings
from store.visibility import can_see
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")


def _positions(session_id: int) -> list[tuple[str, int]]:
    from store.sessions import get_session

    return [(e.person.email, e.waitlist_position) for e in waitlist(get_session(session_id))]


def test_booking_enrols_until_full_then_waitlists_in_order() -> None:
    created = session(max_attendees=2)
    results = []
    for name in ("a", "b", "c", "d"):
        person(f"{name}@example.org")
        results.append(book(created.id, f"{name}@example.org"))
    assert [(r.status, r.waitlist_position) for r in results] == [
        ("enrolled", None),
        ("enrolled", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    kinds = [o.kind for o in Outbox.select().order_by(Outbox.id)]
    assert kinds == ["confirmation", "confirmation", "waitlisted", "waitlisted"]


def test_no_waitlist_refuses_with_session_full_and_changes_nothing() -> None:
    created = session(max_attendees=1)
    person("a@example.org")
    person("b@example.org")
    book(created.id, "a@example.org")
    with pytest.raises(RuleViolation) as err:
        book(created.id, "b@example.org", allow_waitlist=False)
    assert "Session full" in str(err.value)
    assert Enrolment.select().count() == 1


def test_unlimited_sessions_never_fill() -> None:
    created = session(max_attendees=None)
    for i in range(30):
        person(f"p{i}@example.org")
        assert book(created.id, f"p{i}@example.org").status == "enrolled"


def test_cannot_book_twice_but_can_rebook_after_cancelling() -> None:
    created = session(max_attendees=5)
    person("a@example.org")
    book(created.id, "a@example.org")
    with pytest.raises(RuleViolation) as err:
        book(created.id, "A@example.org")
    assert err.value.field == "email"
    unbook(created.id, "a@example.org")
    again = book(created.id, "a@example.org")
    assert again.status == "enrolled"
    assert Enrolment.select().count() == 1


def test_visibility_is_and_across_dimensions_or_within() -> None:
    created = session(roles=["Manager", "Director"], departments=["Sales"])
    ann = person("ann@example.org", role="Manager", department="Sales")
    bob = person("bob@example.org", role="Director", department="sales", location="Paris")
    cat = person("cat@example.org", role="Manager", department="Finance")
    dan = person("dan@example.org", role="Associate", department="Sales")
    assert [can_see(p, created) for p in (ann, bob, cat, dan)] == [True, True, False, False]
    assert [s.id for s in available_sessions(ann)] == [created.id]
    assert available_sessions(cat) == []
    with pytest.raises(RuleViolation) as err:
        book(created.id, "cat@example.org")
    assert err.value.field == "session"
    # The admin's enrol ignores visibility.
    assert enrol(created.id, "cat@example.org").status == "enrolled"


def test_all_means_everyone() -> None:
    created = session(roles=["All"])
    someone = person("x@example.org", role="Anything")
    assert can_see(someone, created)


def test_available_excludes_booked_past_and_cancelled() -> None:
    from store.sessions import cancel_session

    open_one = session(title="Open")
    booked = session(title="Booked", start="12:00")
    gone = session(title="Gone", start="15:00")
    cancel_session(gone.id, "no room")
    person("a@example.org")
    book(booked.id, "a@example.org")
    assert [s.title for s in available_sessions(get_person("a@example.org"))] == ["Open"]
    with time_machine.travel(open_one.end + timedelta(days=1), tick=False):
        assert available_sessions(get_person("a@example.org")) == []


def test_past_and_started_sessions_cannot_be_booked() -> None:
    created = session()
    person("a@example.org")
    with time_machine.travel(created.start + timedelta(minutes=1), tick=False):
        with pytest.raises(RuleViolation) as err:
            book(created.id, "a@example.org")
        assert "already started" in str(err.value)
    with time_machine.travel(created.end + timedelta(minutes=1), tick=False):
        with pytest.raises(RuleViolation):
            book(created.id, "a@example.org", check_visibility=False)
    assert Enrolment.select().count() == 0


def test_inactive_people_cannot_book() -> None:
    created = session()
    a = person("a@example.org")
    set_person_active(a.id, False)
    with pytest.raises(RuleViolation):
        book(created.id, "a@example.org")


def test_freed_place_goes_to_the_first_in_line_and_positions_stay_gap_free() -> None:
    created = session(max_attendees=1)
    for name in ("a", "b", "c", "d"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    assert _positions(created.id) == [
        ("b@example.org", 1),
        ("c@example.org", 2),
        ("d@example.org", 3),
    ]
    unbook(created.id, "c@example.org")
    assert _positions(created.id) == [("b@example.org", 1), ("d@example.org", 2)]
    Outbox.delete().execute()
    unbook(created.id, "a@example.org")
    b = Enrolment.get(Enrolment.person == get_person("b@example.org"))
    assert (b.status, b.waitlist_position) == ("enrolled", None)
    assert _positions(created.id) == [("d@example.org", 1)]
    kinds = sorted((o.kind, o.recipient) for o in Outbox.select())
    assert kinds == [("promoted", "b@example.org"), ("removal", "a@example.org")]


def test_without_auto_promotion_the_admin_promotes() -> None:
    use_settings(
        load_settings(
            environ={"ROLLCALL_AUTO_PROMOTE": "false"}, organizer_email="training@example.test"
        )
    )
    created = session(max_attendees=1)
    for name in ("a", "b", "c"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    unbook(created.id, "a@example.org")
    assert _positions(created.id) == [("b@example.org", 1), ("c@example.org", 2)]
    # A newcomer does not jump the queue for the free place.
    person("z@example.org")
    assert book(created.id, "z@example.org").waitlist_position == 3
    promote(created.id, "c@example.org")
    assert _positions(created.id) == [("b@example.org", 1), ("z@example.org", 2)]
    with pytest.raises(RuleViolation) as err:
        promote(created.id, "b@example.org")
    assert "Session full" in str(err.value)


def test_promote_needs_a_waitlisted_person() -> None:
    created = session(max_attendees=2)
    person("a@example.org")
    book(created.id, "a@example.org")
    with pytest.raises(RuleViolation) as err:
        promote(created.id, "a@example.org")
    assert err.value.field == "email"


def test_unbook_without_booking_is_refused() -> None:
    created = session()
    person("a@example.org")
    with pytest.raises(RuleViolation):
        unbook(created.id, "a@example.org")


def test_removing_an_invited_person_raises_the_sequence() -> None:
    from store.models import Session

    created = session(max_attendees=5)
    person("a@example.org")
    person("b@example.org")
    book(created.id, "a@example.org")
    book(created.id, "b@example.org")
    unbook(created.id, "b@example.org")  # never invited: nothing to outrank
    assert Session.get_by_id(created.id).sequence == 0
    Enrolment.update(calendar="invited").execute()
    unbook(created.id, "a@example.org")
    assert Session.get_by_id(created.id).sequence == 1
    removal = Outbox.select().where(Outbox.kind == "removal").order_by(Outbox.id.desc()).get()
    assert '"sequence": 1' in removal.payload
    # Booking again, the new invitation carries a SEQUENCE above the CANCEL's.
    again = book(created.id, "a@example.org")
    confirmation = (
        Outbox.select()
        .where(Outbox.enrolment == again.enrolment.id)
        .order_by(Outbox.id.desc())
        .get()
    )
    assert '"sequence": 2' in confirmation.payload


def test_cancel_booking_says_who_took_the_freed_place() -> None:
    for name in ("ann", "bob", "cat"):
        person(f"{name}@example.org")
    created = session(max_attendees=1)
    book(created.id, "ann@example.org")
    book(created.id, "bob@example.org")
    book(created.id, "cat@example.org")
    # Leaving the waitlist frees no place: nobody moves up.
    assert cancel_booking(created.id, "cat@example.org").moved_up == []
    done = cancel_booking(created.id, "ann@example.org", reason="moved team")
    assert done.enrolment.status == "cancelled"
    assert [(e.person.email, e.status) for e in done.moved_up] == [("bob@example.org", "enrolled")]
