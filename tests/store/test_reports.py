"""Report figures against values worked out by hand, and renewals, on SQLite and PostgreSQL.

The data set: Ann and Bob (Sales), Cat (Engineering); Fire Safety on Monday
7 September 2026 (trainer Tom, 4 places) attended by Ann and Cat with Bob a
no-show; First Aid on Monday 5 October 2026 (no trainer, 2 places) attended
by Cat with Ann a no-show and Dan cancelled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from store.completions import (
    book_next_session,
    due_for_renewal,
    import_completions_csv,
    mark_elearning_done,
)
from store.errors import RuleViolation, ValidationError
from store.models import Completion, Course, ElearningItem, Enrolment, Person, Session
from store.pathways import today
from store.people import PersonInput, add_person, add_trainer
from store.reports import (
    attendance_over_time,
    expiring,
    fill_rate,
    no_shows,
    response_times,
    responses,
    run_report,
    to_csv,
)
from store.session_input import SessionInput
from store.sessions import create_sessions


@pytest.fixture
def data(store: str) -> dict[str, Any]:
    """The small hand-checked data set."""
    people = {
        key: add_person(PersonInput(email=f"{key}@example.org", name=key.title(), department=dept))
        for key, dept in (("ann", "Sales"), ("bob", "Sales"), ("cat", "Engineering"), ("dan", ""))
    }
    add_trainer("tom@example.org", "Tom")
    [fire] = create_sessions(
        SessionInput(
            title="Fire Safety",
            date="2026-09-07",
            start="10:00",
            duration_minutes=60,
            location="R1",
            trainer="tom@example.org",
            max_attendees=4,
            expiry_months=12,
        )
    )
    [aid] = create_sessions(
        SessionInput(
            title="First Aid",
            date="2026-10-05",
            start="10:00",
            duration_minutes=60,
            location="R2",
            max_attendees=2,
        )
    )
    create_sessions(  # unlimited: no fill rate
        SessionInput(
            title="First Aid", date="2026-10-06", start="10:00", duration_minutes=60, location="R2"
        )
    )
    invited = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    rows = [
        (fire, "ann", "attended", "accepted", invited + timedelta(hours=2)),
        (fire, "bob", "no_show", "declined", invited + timedelta(hours=30)),
        (fire, "cat", "attended", "invited", None),
        (aid, "ann", "no_show", "not_invited", None),
        (aid, "cat", "attended", "not_invited", None),
        (aid, "dan", "cancelled", "not_invited", None),
    ]
    for session, who, status, calendar, answered in rows:
        Enrolment.create(
            session=session,
            person=people[who],
            status=status,
            calendar=calendar,
            invited_at=invited if calendar != "not_invited" else None,
            responded_at=answered,
        )
    return {"people": people, "fire": fire, "aid": aid}


def test_no_show_rates_by_person_department_course_and_trainer(data: dict[str, Any]) -> None:
    by_person = no_shows("person")
    assert [(r["email"], r["marked"], r["no_shows"], r["rate"]) for r in by_person] == [
        ("bob@example.org", 1, 1, 100.0),
        ("ann@example.org", 2, 1, 50.0),
        ("cat@example.org", 2, 0, 0.0),
    ]
    assert [(r["department"], r["marked"], r["rate"]) for r in no_shows("department")] == [
        ("Sales", 3, 66.7),
        ("Engineering", 2, 0.0),
    ]
    assert [(r["course"], r["attended"], r["rate"]) for r in no_shows("course")] == [
        ("First Aid", 1, 50.0),
        ("Fire Safety", 2, 33.3),
    ]
    assert [(r["trainer"], r["rate"]) for r in no_shows("trainer")] == [
        ("(no trainer)", 50.0),
        ("tom@example.org", 33.3),
    ]
    assert [r["email"] for r in no_shows("person", min_marked=2)] == [
        "ann@example.org",
        "cat@example.org",
    ]
    assert no_shows("course", since=date(2026, 10, 1))[0]["course"] == "First Aid"
    assert len(no_shows("course", until=date(2026, 9, 30))) == 1


def test_attendance_rate_by_month_and_week(data: dict[str, Any]) -> None:
    assert attendance_over_time("month") == [
        {
            "period": "2026-09",
            "sessions": 1,
            "marked": 3,
            "attended": 2,
            "no_shows": 1,
            "rate": 66.7,
        },
        {
            "period": "2026-10",
            "sessions": 1,
            "marked": 2,
            "attended": 1,
            "no_shows": 1,
            "rate": 50.0,
        },
    ]
    assert [r["period"] for r in attendance_over_time("week")] == ["2026-09-07", "2026-10-05"]


def test_invitation_responses_and_times(data: dict[str, Any]) -> None:
    assert responses("course") == [
        {
            "course": "Fire Safety",
            "invited": 3,
            "responded": 2,
            "accepted": 1,
            "tentative": 0,
            "declined": 1,
            "no_answer": 1,
            "response_rate": 66.7,
            "avg_hours": 16.0,
        }
    ]
    assert responses("overall")[0]["invited"] == 3
    assert response_times() == [
        {"bucket": "< 1 h", "responses": 0},
        {"bucket": "1-4 h", "responses": 1},
        {"bucket": "4-24 h", "responses": 0},
        {"bucket": "1-3 days", "responses": 1},
        {"bucket": "> 3 days", "responses": 0},
    ]


def test_fill_rate_counts_capped_live_sessions(data: dict[str, Any]) -> None:
    assert fill_rate("course") == [
        {
            "course": "Fire Safety",
            "sessions": 1,
            "full_sessions": 0,
            "places": 4,
            "taken": 3,
            "rate": 75.0,
        },
        {
            "course": "First Aid",
            "sessions": 1,
            "full_sessions": 1,
            "places": 2,
            "taken": 2,
            "rate": 100.0,
        },
    ]
    assert [(r["month"], r["rate"]) for r in fill_rate("month")] == [
        ("2026-09", 75.0),
        ("2026-10", 100.0),
    ]


def _completion(person: Person, expires: date | None, *, course: str = "Fire Safety") -> None:
    Completion.create(
        person=person,
        course=Course.get(Course.title == course),
        completed_on=today() - timedelta(days=30),
        expires_on=expires,
        source="attendance",
    )


def test_due_for_renewal_and_expiring(data: dict[str, Any]) -> None:
    p = data["people"]
    _completion(p["ann"], today() + timedelta(days=10))
    _completion(p["bob"], today() - timedelta(days=5))
    _completion(p["cat"], today() + timedelta(days=10))
    _completion(p["cat"], None)  # a completion that never expires: nothing is due
    _completion(p["cat"], today() - timedelta(days=400), course="First Aid")
    _completion(p["cat"], today() + timedelta(days=100), course="First Aid")  # renewed
    mark_elearning_done("ann@example.org", "Induction", expires_on=today() + timedelta(days=20))
    due = due_for_renewal(30)
    assert [(r.email, r.item, r.days_left) for r in due] == [
        ("bob@example.org", "Fire Safety", -5),
        ("ann@example.org", "Fire Safety", 10),
        ("ann@example.org", "Induction", 20),
    ]
    assert [r["status"] for r in (d.as_dict() for d in due)] == ["expired", "expiring", "expiring"]
    assert [r["email"] for r in expiring(30)] == ["ann@example.org", "ann@example.org"]
    assert [r.item for r in due_for_renewal(30, email="ann@example.org")] == [
        "Fire Safety",
        "Induction",
    ]
    assert [r.email for r in due_for_renewal(30, course="fire safety")] == [
        "bob@example.org",
        "ann@example.org",
    ]
    assert len(due_for_renewal(200)) == 4  # Cat's renewed First Aid now falls in the window
    with pytest.raises(ValidationError) as bad:
        due_for_renewal(-1)
    assert bad.value.field == "days"


def test_book_next_session_takes_the_first_with_a_place(data: dict[str, Any]) -> None:
    start = today() + timedelta(days=7)
    [first] = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=start,
            start="09:00",
            duration_minutes=60,
            location="R1",
            max_attendees=1,
        )
    )
    [second] = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=start + timedelta(days=7),
            start="09:00",
            duration_minutes=60,
            location="R1",
            max_attendees=1,
        )
    )
    session, result = book_next_session("bob@example.org", "Fire Safety")
    assert (session.id, result.status) == (first.id, "enrolled")
    session, result = book_next_session("ann@example.org", "Fire Safety")
    assert (session.id, result.status) == (second.id, "enrolled")
    session, result = book_next_session("cat@example.org", "Fire Safety")
    assert (session.id, result.status, result.waitlist_position) == (first.id, "waitlisted", 1)
    with pytest.raises(RuleViolation) as none_left:
        book_next_session("dan@example.org", "First Aid")
    assert none_left.value.field == "course"
    due = due_for_renewal(30)
    assert due == []  # nobody holds a completion yet
    _completion(data["people"]["bob"], today())
    assert due_for_renewal(30)[0].booked_session == first.id


def test_import_completions_all_or_nothing(data: dict[str, Any]) -> None:
    good = (
        "email,item,completed_on\n"
        "ann@example.org,Induction,2026-01-05\n"
        "BOB@example.org,GDPR,2026-02-01\n"
    )
    result = import_completions_csv(good)
    assert (result.added, result.skipped) == (2, 0)
    assert {i.name for i in ElearningItem.select()} == {"Induction", "GDPR"}
    again = import_completions_csv(good)
    assert (again.added, again.skipped) == (0, 2)
    bad = (
        "email,item,completed_on\n"
        "cat@example.org,Induction,2026-01-05\n"
        "nobody@example.org,Induction,2026-01-05\n"
        "cat@example.org,,2026-01-05\n"
        "cat@example.org,Induction,05/01/2026\n"
    )
    with pytest.raises(ValidationError) as refused:
        import_completions_csv(bad)
    message = str(refused.value)
    assert refused.value.field == "csv"
    assert "line 3: email" in message
    assert "line 4: item" in message
    assert "line 5: completed_on" in message
    assert "line 2" not in message
    assert Completion.select().count() == 2
    with pytest.raises(ValidationError) as header:
        import_completions_csv("email,course,date\n")
    assert "line 1: header" in str(header.value)


def test_run_report_and_csv(data: dict[str, Any]) -> None:
    rows = run_report("no-shows-department")
    assert to_csv(rows) == (
        "department,marked,attended,no_shows,rate\nSales,3,1,2,66.7\nEngineering,2,2,0,0.0\n"
    )
    assert to_csv([]) == ""
    with pytest.raises(ValidationError) as unknown:
        run_report("nope")
    assert unknown.value.field == "report"
    with pytest.raises(ValidationError) as days:
        run_report("attendance", days=3)
    assert days.value.field == "days"
    assert Session.select().count() == 3
