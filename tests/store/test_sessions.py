"""Sessions: validation, trainer clashes, editing, cancelling, deleting, status and series."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from store.booking import book, enrol
from store.errors import NotFound, RuleViolation, ValidationError
from store.models import Enrolment, Outbox, Series, Session
from store.recurrence import Repeat
from store.session_input import MaterialInput
from store.session_queries import session_status, sessions_query
from store.sessions import cancel_session, create_sessions, delete_session, edit_session
from tests.builders import future_day, person, session, session_input, trainer

pytestmark = pytest.mark.usefixtures("store")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": " "}, "title"),
        ({"date": "2026-02-30"}, "date"),
        ({"date": "31/12/2026"}, "date"),
        ({"start": "25:00"}, "start"),
        ({"start": "9.30"}, "start"),
        ({"duration_minutes": 0}, "duration"),
        ({"duration_minutes": "-5"}, "duration"),
        ({"duration_minutes": "ten"}, "duration"),
        ({"max_attendees": -1}, "max"),
        ({"max_attendees": "0"}, "max"),
        ({"location": None}, "location"),
        ({"online_url": "https://meet.example.org/x"}, "location"),
        ({"location": None, "online_url": "ftp://x"}, "online_url"),
        ({"trainer": "nobody@example.org"}, "trainer"),
        ({"materials": [MaterialInput("Agenda", "not a url")]}, "material"),
        ({"expiry_months": "-3"}, "expiry_months"),
    ],
)
def test_bad_session_input_names_the_field_and_changes_nothing(
    overrides: dict[str, object], field: str
) -> None:
    with pytest.raises((ValidationError, NotFound)) as err:
        create_sessions(session_input(**overrides))
    assert err.value.field == field
    assert Session.select().count() == 0


def test_session_is_stored_in_utc_from_the_local_zone() -> None:
    created = session(date=date(2027, 7, 1), start="09:30")
    assert created.start == datetime(2027, 7, 1, 8, 30, tzinfo=UTC)  # BST is UTC+1
    assert created.end - created.start == timedelta(minutes=60)
    assert created.uid.endswith("@example.test")
    assert created.course.title == "Fire Safety"


def test_a_start_time_skipped_by_the_clocks_is_refused() -> None:
    with pytest.raises(ValidationError) as err:
        create_sessions(session_input(date=date(2027, 3, 28), start="01:30"))
    assert err.value.field == "start"


def test_generated_meeting_link_is_unique_per_session() -> None:
    a = session(location=None, generate_link=True)
    b = session(location=None, generate_link=True, start="14:00")
    assert a.type == b.type == "online"
    assert a.online_url.startswith("https://meet.jit.si/rollcall-")
    assert a.online_url != b.online_url


def test_trainer_clash_is_refused_naming_the_other_session() -> None:
    trainer()
    first = session(trainer="trainer@example.test", title="Fire Safety")
    with pytest.raises(RuleViolation) as err:
        session(trainer="trainer@example.test", title="First Aid", start="10:00")
    assert err.value.field == "trainer"
    assert "Fire Safety" in str(err.value)
    assert f"session {first.id}" in str(err.value)
    assert Session.select().count() == 1
    # Back to back is fine, and a cancelled session no longer blocks the slot.
    session(trainer="trainer@example.test", start="10:30")
    cancel_session(first.id, "room flooded")
    session(trainer="trainer@example.test", start="09:00", duration_minutes=30)


def test_status_follows_the_clock() -> None:
    created = session(date=date(2030, 5, 6), start="10:00", duration_minutes=60)
    start = created.start
    assert session_status(created, start - timedelta(seconds=1)) == "scheduled"
    assert session_status(created, start) == "in_progress"
    assert session_status(created, start + timedelta(minutes=59)) == "in_progress"
    assert session_status(created, start + timedelta(minutes=60)) == "completed"
    with time_machine.travel(start + timedelta(minutes=5), tick=False):
        assert [s.id for s in sessions_query(status="in_progress")] == [created.id]
        assert list(sessions_query(status="scheduled")) == []


def test_edit_moving_the_session_raises_sequence_and_queues_updates() -> None:
    trainer()
    created = session(trainer="trainer@example.test", max_attendees=5)
    person("ann@example.org")
    book(created.id, "ann@example.org")
    Outbox.delete().execute()
    result = edit_session(created.id, {"start": "11:00"})
    assert result.significant
    assert result.changed == ["start"]
    assert Session.get_by_id(created.id).sequence == 1
    sent = sorted((o.kind, o.recipient) for o in Outbox.select())
    assert sent == [("update", "ann@example.org"), ("update", "trainer@example.test")]
    payload = json.loads(Outbox.select().first().payload)
    assert payload["session"]["sequence"] == 1
    # A new description moves nothing, but calendars should show it: an update.
    Outbox.delete().execute()
    result = edit_session(created.id, {"description": "Bring a pen"})
    assert not result.significant
    assert result.calendar_changed
    assert Session.get_by_id(created.id).sequence == 2
    sent = sorted((o.kind, o.recipient) for o in Outbox.select())
    assert sent == [("update", "ann@example.org"), ("update", "trainer@example.test")]
    # Internal notes are not in anyone's calendar: nothing is sent.
    Outbox.delete().execute()
    result = edit_session(created.id, {"notes": "Room key at reception"})
    assert not result.calendar_changed
    assert Session.get_by_id(created.id).sequence == 2
    assert Outbox.select().count() == 0


def test_capacity_cannot_go_below_the_enrolled_count() -> None:
    created = session(max_attendees=3)
    for name in ("a", "b"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    with pytest.raises(RuleViolation) as err:
        edit_session(created.id, {"max_attendees": 1})
    assert err.value.field == "max"
    assert Session.get_by_id(created.id).max_attendees == 3
    edit_session(created.id, {"max_attendees": 2})


def test_raising_capacity_promotes_from_the_waitlist() -> None:
    created = session(max_attendees=1)
    for name in ("a", "b", "c"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    result = edit_session(created.id, {"max_attendees": 2})
    assert [e.person.email for e in result.promoted] == ["b@example.org"]
    c = Enrolment.get(Enrolment.person == Enrolment.person.rel_model.get(email="c@example.org"))
    assert (c.status, c.waitlist_position) == ("waitlisted", 1)


def test_edit_switches_between_in_person_and_online() -> None:
    created = session()
    edit_session(created.id, {"online_url": "https://meet.example.org/abc"})
    again = Session.get_by_id(created.id)
    assert (again.type, again.location, again.online_url) == (
        "online",
        None,
        "https://meet.example.org/abc",
    )
    edit_session(created.id, {"location": "Room 9"})
    again = Session.get_by_id(created.id)
    assert (again.type, again.location, again.online_url) == ("in_person", "Room 9", None)


def test_bad_edit_changes_nothing() -> None:
    created = session()
    with pytest.raises(ValidationError) as err:
        edit_session(created.id, {"duration_minutes": 0, "title": "New"})
    assert err.value.field == "duration"
    assert Session.get_by_id(created.id).title == "Fire Safety"


def test_cancel_needs_a_reason_and_cancels_every_enrolment() -> None:
    created = session(max_attendees=1)
    for name in ("a", "b"):
        person(f"{name}@example.org")
        book(created.id, f"{name}@example.org")
    with pytest.raises(ValidationError) as err:
        cancel_session(created.id, "  ")
    assert err.value.field == "reason"
    assert Session.get_by_id(created.id).cancelled_at is None
    Outbox.delete().execute()
    cancel_session(created.id, "Trainer ill")
    again = Session.get_by_id(created.id)
    assert session_status(again) == "cancelled"
    assert again.cancel_reason == "Trainer ill"
    assert again.sequence == 1
    assert {e.status for e in Enrolment.select()} == {"cancelled"}
    assert Enrolment.select().where(Enrolment.waitlist_position.is_null(False)).count() == 0
    kinds = sorted((o.kind, o.recipient) for o in Outbox.select())
    assert kinds == [("cancellation", "a@example.org"), ("cancellation", "b@example.org")]
    with pytest.raises(RuleViolation):
        cancel_session(created.id, "again")
    with pytest.raises(RuleViolation):
        book(created.id, "a@example.org")


def test_delete_only_without_enrolments() -> None:
    created = session()
    person("a@example.org")
    enrol(created.id, "a@example.org")
    with pytest.raises(RuleViolation) as err:
        delete_session(created.id)
    assert "cancel it instead" in str(err.value)
    assert Session.select().count() == 1
    empty = session(start="15:00")
    delete_session(empty.id)
    assert Session.get_or_none(Session.id == empty.id) is None


def test_weekly_series_keeps_local_time_across_the_clock_change() -> None:
    created = create_sessions(
        session_input(date=date(2027, 3, 16), start="09:30"), Repeat("weekly", count=4)
    )
    assert len(created) == 4
    assert len({s.series_id for s in created}) == 1
    assert Series.get_by_id(created[0].series_id).rule == "FREQ=WEEKLY;COUNT=4"
    utc_hours = [s.start.hour for s in created]
    # 16 and 23 March are GMT (UTC+0); 30 March and 6 April are BST (UTC+1).
    assert utc_hours == [9, 9, 8, 8]
    assert {s.start.astimezone(created[0].start.tzinfo).minute for s in created} == {30}
    assert len({s.uid for s in created}) == 4


def test_autumn_change_and_monthly_until() -> None:
    created = create_sessions(
        session_input(date=date(2027, 9, 15), start="18:00"),
        Repeat("monthly", until=date(2027, 12, 31)),
    )
    assert [(s.start.month, s.start.hour) for s in created] == [
        (9, 17),
        (10, 17),
        (11, 18),
        (12, 18),
    ]


def test_daily_series_with_until() -> None:
    created = create_sessions(
        session_input(date=date(2027, 1, 4)), Repeat("daily", until=date(2027, 1, 8))
    )
    assert [s.start.day for s in created] == [4, 5, 6, 7, 8]


@pytest.mark.parametrize(
    ("repeat", "field"),
    [
        (Repeat("yearly", count=2), "repeat"),
        (Repeat("weekly"), "repeat"),
        (Repeat("weekly", count=2, until=date(2027, 1, 1)), "repeat"),
        (Repeat("weekly", count=0), "count"),
        (Repeat("weekly", until=date(2020, 1, 1)), "until"),
    ],
)
def test_bad_repeat_is_refused(repeat: Repeat, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        create_sessions(session_input(), repeat)
    assert err.value.field == field
    assert Session.select().count() == 0
    assert Series.select().count() == 0


def test_series_with_a_trainer_clash_creates_nothing() -> None:
    trainer()
    blocker = session(trainer="trainer@example.test", date=future_day(17))
    with pytest.raises(RuleViolation):
        create_sessions(
            session_input(trainer="trainer@example.test", date=future_day(3)),
            Repeat("weekly", count=3),
        )
    assert [s.id for s in Session.select()] == [blocker.id]
    assert Series.select().count() == 0
