"""Recording past training, attendance CSV import and the kiosk check-in (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
import time_machine

from store.attendance import finalise, mark
from store.attendance_import import import_attendance_csv, preview_attendance_csv
from store.booking import book, enrol
from store.errors import RuleViolation, ValidationError
from store.kiosk import kiosk_check_in, kiosk_window
from store.models import Completion, Enrolment, Outbox, Person, Session
from store.people import PersonInput, add_person
from store.serialize import session_detail_dict
from store.settings import Settings, use_settings
from tests.builders import person, session

pytestmark = pytest.mark.usefixtures("store")


def _state() -> list[tuple[int, int, str, bool]]:
    return sorted(
        (e.session_id, e.person_id, e.status, e.recorded_after) for e in Enrolment.select()
    )


# --------------------------------------------------------------------------- past sessions


def test_admin_records_a_past_session_and_completions_follow() -> None:
    held = session(expiry_months=12, date=date(2030, 3, 4), max_attendees=2)
    person("ann@example.org")
    person("bob@example.org")
    with time_machine.travel(held.end + timedelta(days=7), tick=False):
        with pytest.raises(RuleViolation) as err:
            book(held.id, "ann@example.org")
        assert "already started" in str(err.value)
        result = enrol(held.id, "ann@example.org")
        assert result.status == "enrolled"
        assert result.enrolment.recorded_after is True
        mark(held.id, "ann@example.org", "attended")
        completion = Completion.get()
        assert (completion.completed_on, completion.expires_on) == (
            date(2030, 3, 4),
            date(2031, 3, 4),
        )
        shown = session_detail_dict(Session.get_by_id(held.id))
        assert shown["enrolments"][0]["recorded_after"] is True
        assert shown["status"] == "completed"
    # Nothing to confirm for training that already happened.
    assert Outbox.select().where(Outbox.kind == "confirmation").count() == 0


def test_a_booking_made_before_the_start_is_not_flagged() -> None:
    ahead = session()
    person("ann@example.org")
    enrol(ahead.id, "ann@example.org")
    shown = session_detail_dict(Session.get_by_id(ahead.id))
    assert shown["enrolments"][0]["recorded_after"] is False


def test_past_session_capacity_holds_and_nobody_is_waitlisted() -> None:
    held = session(max_attendees=1)
    person("ann@example.org")
    person("bob@example.org")
    with time_machine.travel(held.end + timedelta(days=1), tick=False):
        enrol(held.id, "ann@example.org")
        before = _state()
        with pytest.raises(RuleViolation) as err:
            enrol(held.id, "bob@example.org")
        assert "full" in str(err.value).lower()
        assert _state() == before


def test_finalised_register_refuses_late_enrolments() -> None:
    held = session()
    person("ann@example.org")
    person("bob@example.org")
    with time_machine.travel(held.end + timedelta(days=1), tick=False):
        enrol(held.id, "ann@example.org")
        mark(held.id, "ann@example.org", "attended")
        finalise(held.id)
        with pytest.raises(RuleViolation) as err:
            enrol(held.id, "bob@example.org")
        assert err.value.field == "session"
        assert "finalised" in str(err.value)


# --------------------------------------------------------------------------- attendance import


@pytest.fixture
def two_held() -> tuple[Session, Session]:
    """Two sessions that took place (ann and bob booked on the first), and the clock after them."""
    first = session(title="First Aid", date=date(2030, 5, 6), max_attendees=3)
    second = session(title="Fire Safety", date=date(2030, 5, 7), max_attendees=1)
    for name in ("ann", "bob", "cat", "dan"):
        person(f"{name}@example.org")
    with time_machine.travel(first.start - timedelta(days=2), tick=False):
        book(first.id, "ann@example.org")
        book(first.id, "bob@example.org")
    return first, second


def test_import_marks_and_enrols_after_the_fact(two_held: tuple[Session, Session]) -> None:
    first, second = two_held
    text = (
        "session_id,email,status\n"
        f"{first.id},ann@example.org,attended\n"
        f"{first.id},BOB@example.org,no-show\n"
        "\n"
        f"{first.id},cat@example.org,attended\n"
        f"{second.id},dan@example.org,no_show\n"
    )
    with time_machine.travel(second.end + timedelta(days=1), tick=False):
        preview = preview_attendance_csv(text)
        assert preview.ok, preview.errors
        assert [(r.line, r.enrol) for r in preview.rows] == [
            (2, False),
            (3, False),
            (5, True),
            (6, True),
        ]
        assert Completion.select().count() == 0  # a preview writes nothing
        import_attendance_csv(text)
    rows = {
        (e.session_id, e.person.email): (e.status, e.recorded_after) for e in Enrolment.select()
    }
    assert rows == {
        (first.id, "ann@example.org"): ("attended", False),
        (first.id, "bob@example.org"): ("no_show", False),
        (first.id, "cat@example.org"): ("attended", True),
        (second.id, "dan@example.org"): ("no_show", True),
    }
    assert sorted(c.person.email for c in Completion.select()) == [
        "ann@example.org",
        "cat@example.org",
    ]


def test_import_with_bad_lines_changes_nothing(two_held: tuple[Session, Session]) -> None:
    first, second = two_held
    ahead = session(title="Later", date=date(2031, 1, 1))
    text = (
        "session_id,email,status\n"
        f"{first.id},ann@example.org,attended\n"  # fine
        f"{first.id},nobody@example.org,attended\n"  # 3: unknown person
        f"{first.id},bob@example.org,present\n"  # 4: bad status
        f"x{first.id},bob@example.org,attended\n"  # 5: bad id
        f"{ahead.id},bob@example.org,attended\n"  # 6: not started
        f"{first.id},ann@example.org,no-show\n"  # 7: twice
        f"{second.id},cat@example.org,attended\n"  # fine: takes the one place
        f"{second.id},dan@example.org,attended\n"  # 9: full
        f"{first.id},bob@example.org\n"  # 10: a field short
    )
    before = _state()
    with time_machine.travel(second.end + timedelta(days=1), tick=False):
        preview = preview_attendance_csv(text)
        assert [line for line, _ in preview.errors] == [3, 4, 5, 6, 7, 9, 10]
        messages = dict(preview.errors)
        assert "nobody@example.org" in messages[3]
        assert messages[4].startswith("status")
        assert messages[5].startswith("session_id")
        assert "not started" in messages[6]
        assert "line 2" in messages[7]
        assert "full" in messages[9]
        with pytest.raises(ValidationError) as err:
            import_attendance_csv(text)
    assert err.value.field == "csv"
    assert "line 3" in str(err.value)
    assert "line 10" in str(err.value)
    assert "nothing imported" in str(err.value)
    assert _state() == before
    assert Completion.select().count() == 0


def test_import_header_is_checked(two_held: tuple[Session, Session]) -> None:
    preview = preview_attendance_csv("session,email,state\n1,a@example.org,attended\n")
    assert preview.errors
    assert preview.errors[0][0] == 1
    assert "session_id" in preview.errors[0][1]


# --------------------------------------------------------------------------- kiosk


@pytest.fixture
def door(settings: Settings) -> Session:
    """A session with Ann booked (badge A-17), Bob not booked, and room for one more."""
    use_settings(replace(settings, kiosk_opens_minutes=30, kiosk_closes_minutes=0))
    room = session(max_attendees=2, date=date(2030, 6, 3), departments=["Ops"])
    add_person(PersonInput("ann@example.org", "Ann Ångström", "Ops", staff_number="A-17"))
    add_person(PersonInput("bob@example.org", "Bob Brown", "Ops"))
    add_person(PersonInput("eve@example.org", "Eve Evans", "Sales"))
    with time_machine.travel(room.start - timedelta(days=1), tick=False):
        book(room.id, "ann@example.org")
    return room


def test_kiosk_window_and_early_message(door: Session) -> None:
    window = kiosk_window(door)
    assert window.opens == door.start - timedelta(minutes=30)
    assert window.closes == door.end
    with time_machine.travel(door.start - timedelta(minutes=31), tick=False):
        with pytest.raises(RuleViolation) as err:
            kiosk_check_in(door.id, "ann@example.org")
        assert err.value.field == "time"
        assert "opens at 09:00" in str(err.value)  # Europe/London, 09:30 start
    with time_machine.travel(door.end + timedelta(minutes=1), tick=False):
        with pytest.raises(RuleViolation) as err:
            kiosk_check_in(door.id, "ann@example.org")
        assert "closed" in str(err.value)
    assert Enrolment.get().status == "enrolled"


def test_kiosk_marks_by_email_or_badge_before_the_start(door: Session) -> None:
    with time_machine.travel(door.start - timedelta(minutes=10), tick=False):
        done = kiosk_check_in(door.id, "  ANN@example.org ")
        assert (done.outcome, done.name) == ("checked_in", "Ann Ångström")
        assert Enrolment.get().status == "attended"
        assert Completion.select().count() == 1
        again = kiosk_check_in(door.id, "a-17")
        assert again.outcome == "already"
    notes = [n.author for n in Enrolment.get().notes]
    assert "kiosk" in notes


def test_kiosk_refuses_strangers_and_offers_free_places(door: Session) -> None:
    with time_machine.travel(door.start + timedelta(minutes=5), tick=False):
        with pytest.raises(RuleViolation) as err:
            kiosk_check_in(door.id, "stranger@example.org")
        assert err.value.field == "identifier"
        with pytest.raises(ValidationError):
            kiosk_check_in(door.id, "   ")
        # Eve may not see the session (department Ops only): refused, not offered.
        with pytest.raises(RuleViolation) as err:
            kiosk_check_in(door.id, "eve@example.org")
        assert "not booked" in str(err.value)
        assert Enrolment.select().count() == 1
        offer = kiosk_check_in(door.id, "bob@example.org")
        assert offer.outcome == "can_join"
        assert Enrolment.select().count() == 1
        joined = kiosk_check_in(door.id, "bob@example.org", join=True)
        assert (joined.outcome, joined.joined) == ("checked_in", True)
    bob = Enrolment.get(Enrolment.person == Person.get(Person.email == "bob@example.org"))
    assert (bob.status, bob.recorded_after) == ("attended", True)


def test_kiosk_offers_nothing_when_full(door: Session) -> None:
    add_person(PersonInput("cat@example.org", "Cat", "Ops"))
    with time_machine.travel(door.start - timedelta(days=1), tick=False):
        book(door.id, "cat@example.org")
    with time_machine.travel(door.start, tick=False):
        with pytest.raises(RuleViolation):
            kiosk_check_in(door.id, "bob@example.org", join=True)
    assert Enrolment.select().count() == 2
