"""A manager's team (read only), on both backends: who reports to them, their bookings to come,
last year's attendance, renewals due, and that nobody else's team is shown to them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from store.access import Actor, NotAllowed, acting_as, person_actor
from store.approvals import pending_requests, set_manager, set_session_policy
from store.booking import book, enrol
from store.clock import utcnow
from store.errors import ValidationError
from store.models import Completion, Course, Enrolment, Person, Session
from store.people import get_person
from store.team import team, team_manager
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")


@pytest.fixture
def crew(store: str) -> None:
    """Bea manages Ann and Bob; Dan manages Cat."""
    person("bea@example.org", "Bea Boss")
    person("dan@example.org", "Dan Lead")
    for name in ("ann", "bob", "cat"):
        person(f"{name}@example.org", f"{name.title()} Member")
    set_manager("ann@example.org", "bea@example.org")
    set_manager("bob@example.org", "bea@example.org")
    set_manager("cat@example.org", "dan@example.org")


def _past_session(title: str, days_ago: int) -> Session:
    """A session that took place `days_ago` days ago (written directly: rules refuse the past)."""
    created = session(title=title)
    start = utcnow() - timedelta(days=days_ago)
    Session.update(start=start, end=start + timedelta(hours=1)).where(
        Session.id == created.id
    ).execute()
    return Session.get_by_id(created.id)


def _marked(session_row: Session, email: str, status: str) -> None:
    Enrolment.create(session=session_row, person=get_person(email), status=status)


@pytest.mark.usefixtures("crew")
def test_team_lists_bookings_attendance_and_renewals_of_the_managers_people_only() -> None:
    soon = session(title="Fire Safety", max_attendees=1)
    book(soon.id, "ann@example.org")
    book(soon.id, "bob@example.org")  # full: waitlisted
    enrol(soon.id, "cat@example.org")  # Dan's, not Bea's
    old = _past_session("First Aid", 30)
    _marked(old, "ann@example.org", "attended")
    _marked(old, "bob@example.org", "no_show")
    _marked(old, "cat@example.org", "attended")
    ancient = _past_session("Manual Handling", 500)
    _marked(ancient, "ann@example.org", "attended")
    course = Course.get(Course.title == "First Aid")
    Completion.create(
        person=get_person("bob@example.org"),
        course=course,
        completed_on=(utcnow() - timedelta(days=400)).date(),
        expires_on=(utcnow() - timedelta(days=35)).date(),
        source="manual",
    )

    result = team(team_manager("bea@example.org"))

    assert result.manager == "bea@example.org"
    assert [(m.email, m.booked, m.attended, m.no_shows, m.due) for m in result.members] == [
        ("ann@example.org", 1, 1, 0, 0),
        ("bob@example.org", 1, 0, 1, 1),
    ]
    assert [(b.email, b.status, b.waitlist_position) for b in result.bookings] == [
        ("ann@example.org", "enrolled", None),
        ("bob@example.org", "waitlisted", 1),
    ]
    # Last year's attendance only: the session 500 days ago is left out.
    assert [(a.email, a.title, a.status) for a in result.attendance] == [
        ("ann@example.org", "First Aid", "attended"),
        ("bob@example.org", "First Aid", "no_show"),
    ]
    assert [(d.email, d.item) for d in result.due] == [("bob@example.org", "First Aid")]
    shown = result.as_dict()
    assert shown["members"][1]["no_shows"] == 1
    assert shown["bookings"][1]["status"] == "waitlisted"


@pytest.mark.usefixtures("crew")
def test_a_manager_sees_their_own_team_and_no_one_elses() -> None:
    bea = person_actor(get_person("bea@example.org"))
    with acting_as(bea):
        assert team_manager(None).email == "bea@example.org"
        assert [m.email for m in team(team_manager(None)).members] == [
            "ann@example.org",
            "bob@example.org",
        ]
        with pytest.raises(NotAllowed, match="only your own team"):
            team_manager("dan@example.org")
    # An admin may look at any manager's team; without a person, they must name one.
    with acting_as(Actor("root", "admin")):
        assert team_manager("dan@example.org").email == "dan@example.org"
        with pytest.raises(ValidationError, match="manager"):
            team_manager(None)


@pytest.mark.usefixtures("crew")
def test_a_manager_reads_only_the_requests_addressed_to_them() -> None:
    planned = session(title="Leadership")
    set_session_policy(planned.id, approval="manager")
    book(planned.id, "ann@example.org")
    book(planned.id, "cat@example.org")
    assert {r.learner.email for r in pending_requests()} == {"ann@example.org", "cat@example.org"}
    with acting_as(person_actor(get_person("dan@example.org"))):
        assert [r.learner.email for r in pending_requests()] == ["cat@example.org"]
        with pytest.raises(NotAllowed):
            pending_requests("bea@example.org")
    assert Person.select().count() == 5
