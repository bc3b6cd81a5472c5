"""Attendance marking, completions with expiry, reversibility and finalising."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from store.attendance import finalise, mark, unmark
from store.booking import book
from store.errors import RuleViolation, ValidationError
from store.models import Completion, Enrolment, Session
from store.people import get_person
from store.session_queries import session_status
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def started() -> Session:
    """A session with two people booked and waitlisted, with the clock at its start."""
    created = session(max_attendees=2, expiry_months=12, date=date(2030, 1, 31))
    for name in ("a", "b", "c"):
        person(f"{name}@example.org")
    with time_machine.travel(created.start - timedelta(days=1), tick=False):
        for name in ("a", "b", "c"):
            book(created.id, f"{name}@example.org")
    return created


def test_attendance_opens_at_the_start(started: Session) -> None:
    with time_machine.travel(started.start - timedelta(minutes=1), tick=False):
        with pytest.raises(RuleViolation) as err:
            mark(started.id, "a@example.org", "attended")
        assert "not started" in str(err.value)


def test_attended_creates_a_completion_with_expiry_and_is_reversible(started: Session) -> None:
    with time_machine.travel(started.start + timedelta(minutes=10), tick=False):
        mark(started.id, "a@example.org", "attended")
        completion = Completion.get()
        assert completion.completed_on == date(2030, 1, 31)
        assert completion.expires_on == date(2031, 1, 31)
        assert completion.course_id == started.course_id
        mark(started.id, "a@example.org", "no-show")
        assert Completion.select().count() == 0
        mark(started.id, "a@example.org", "attended")
        unmark(started.id, "a@example.org")
        assert Enrolment.get(Enrolment.status == "enrolled") is not None
        assert Completion.select().count() == 0


def test_bad_marks_are_refused(started: Session) -> None:
    with time_machine.travel(started.start + timedelta(minutes=10), tick=False):
        with pytest.raises(ValidationError) as err:
            mark(started.id, "a@example.org", "present")
        assert err.value.field == "mark"
        with pytest.raises(RuleViolation):
            mark(started.id, "c@example.org", "attended")  # waitlisted, not enrolled


def test_finalise_needs_every_mark_then_locks_the_register(started: Session) -> None:
    with time_machine.travel(started.end + timedelta(hours=1), tick=False):
        mark(started.id, "a@example.org", "attended")
        with pytest.raises(RuleViolation) as err:
            finalise(started.id)
        assert "1 attendee" in str(err.value)
        mark(started.id, "b@example.org", "no-show")
        finalise(started.id)
        again = Session.get_by_id(started.id)
        assert session_status(again) == "completed"
        waiting = Enrolment.get(Enrolment.person == get_person("c@example.org"))
        assert waiting.status == "cancelled"
        with pytest.raises(RuleViolation) as err:
            mark(started.id, "b@example.org", "attended")
        assert "finalised" in str(err.value)
    with time_machine.travel(started.start - timedelta(days=1), tick=False):
        assert session_status(Session.get_by_id(started.id)) == "completed"


def test_completion_without_expiry(started: Session) -> None:
    Session.update(expiry_months=None).where(Session.id == started.id).execute()
    with time_machine.travel(started.start + timedelta(minutes=10), tick=False):
        mark(started.id, "a@example.org", "attended")
    assert Completion.get().expires_on is None
