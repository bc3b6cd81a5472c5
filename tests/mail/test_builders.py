"""The pure builders: payload snapshot in, iMIP message out, checked against itip.md."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from mail import ical
from mail.compose import build_message, message_bytes, render_bytes, subject_for
from tests.mail.checks import calendar_data, check_imip, check_plain, event_of, parse

ORGANIZER = "training@example.test"
STAMP = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def payload(kind: str = "invitation", **extra: Any) -> dict[str, Any]:
    """A snapshot like store.mail_queue writes: online session with trainer and materials."""
    data: dict[str, Any] = {
        "kind": kind,
        "session": {
            "id": 7,
            "uid": "rollcall-0123abcd@example.test",
            "sequence": 2,
            "title": "Fire Safety",
            "description": "Exits, alarms; and extinguishers, with a long line " + "é" * 60,
            "start": "2026-12-01T09:30:00+00:00",
            "end": "2026-12-01T10:30:00+00:00",
            "duration_minutes": 60,
            "type": "online",
            "location": None,
            "online_url": "https://meet.example.test/rollcall-abc",
            "trainer": {"email": "tess@example.test", "name": "Tess Trainer"},
            "materials": [{"name": "Agenda", "url": "https://docs.example.test/agenda"}],
            "cancel_reason": None,
            "cancelled": False,
            "visibility": {"role": [], "department": [], "location": []},
        },
        "recipient": {"email": "ann@example.test", "name": "Ann Åström, Jr."},
        "organizer": {"email": ORGANIZER, "name": "Training Team"},
        "timezone": "Europe/London",
    }
    data.update(extra)
    return data


def build(data: dict[str, Any]) -> Any:
    msg = build_message(data, message_id="<m1@example.test>", created_at=STAMP)
    return parse(message_bytes(msg))


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("invitation", {}),
        ("confirmation", {}),
        ("promoted", {}),
        ("update", {"changed": ["start"]}),
        ("trainer_assignment", {}),
        ("message", {"message": "Bring a pen.", "with_calendar": True}),
    ],
)
def test_every_request_passes_the_checklist(kind: str, extra: dict[str, Any]) -> None:
    data = payload(kind, **extra)
    if kind == "trainer_assignment":
        data["recipient"] = {"email": "tess@example.test", "name": "Tess Trainer"}
    msg = build(data)
    cal = check_imip(msg, method="REQUEST", to=data["recipient"]["email"], organizer=ORGANIZER)
    event = event_of(cal)
    assert str(event["UID"]) == "rollcall-0123abcd@example.test"
    assert event["SEQUENCE"] == 2
    role = "CHAIR" if kind == "trainer_assignment" else "REQ-PARTICIPANT"
    assert event["ATTENDEE"].params["ROLE"] == role
    assert event["ATTENDEE"].params["CUTYPE"] == "INDIVIDUAL"
    assert event["ORGANIZER"].params["CN"] == "Training Team"


def test_request_content_times_location_description() -> None:
    msg = build(payload())
    cal = check_imip(msg, method="REQUEST", to="ann@example.test", organizer=ORGANIZER)
    event = event_of(cal)
    assert b"DTSTART:20261201T093000Z" in calendar_data(msg)[0][1]
    assert event.decoded("DTSTART") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == STAMP
    assert str(event["URL"]) == "https://meet.example.test/rollcall-abc"
    assert str(event["LOCATION"]) == "https://meet.example.test/rollcall-abc"
    description = str(event["DESCRIPTION"])
    assert "Meeting link: https://meet.example.test/rollcall-abc" in description
    assert "- Agenda: https://docs.example.test/agenda" in description
    assert "Exits, alarms; and extinguishers" in description
    assert event["ATTENDEE"].params["CN"] == "Ann Åström, Jr."
    data = calendar_data(msg)[0][1]
    assert b"VTIMEZONE" not in data
    assert b"RDATE" not in data


def test_summer_session_keeps_local_wall_time() -> None:
    data = payload()
    data["session"]["start"] = "2026-07-01T08:30:00+00:00"
    data["session"]["end"] = "2026-07-01T09:30:00+00:00"
    msg = build(data)
    cal = check_imip(msg, method="REQUEST", to="ann@example.test", organizer=ORGANIZER)
    raw = calendar_data(msg)[0][1]
    # The instant is UTC; the subject and body give the local time.
    assert b"DTSTART:20260701T083000Z" in raw
    assert event_of(cal).decoded("DTSTART").astimezone(UTC).hour == 8
    assert subject_for(data) == "Invitation: Fire Safety, Wed 1 Jul 09:30"


def test_utc_zone_needs_no_vtimezone() -> None:
    data = payload(timezone="UTC")
    msg = build(data)
    cal = check_imip(msg, method="REQUEST", to="ann@example.test", organizer=ORGANIZER)
    assert not list(cal.walk("VTIMEZONE"))
    assert b"DTSTART:20261201T093000Z" in calendar_data(msg)[0][1]


def test_in_person_location() -> None:
    data = payload()
    data["session"].update(type="in_person", location="Room 1, Building B", online_url=None)
    cal = check_imip(build(data), method="REQUEST", to="ann@example.test", organizer=ORGANIZER)
    event = event_of(cal)
    assert str(event["LOCATION"]) == "Room 1, Building B"
    assert "URL" not in event


def test_update_keeps_uid_and_raises_sequence() -> None:
    first = payload("invitation")
    later = copy.deepcopy(first)
    later["kind"] = "update"
    later["changed"] = ["start"]
    later["session"]["sequence"] = first["session"]["sequence"] + 1
    later["session"]["start"] = "2026-12-02T09:30:00+00:00"
    later["session"]["end"] = "2026-12-02T10:30:00+00:00"
    a = event_of(
        check_imip(build(first), method="REQUEST", to="ann@example.test", organizer=ORGANIZER)
    )
    msg = build_message(
        later, message_id="<m2@example.test>", created_at=datetime(2026, 11, 21, tzinfo=UTC)
    )
    b = event_of(
        check_imip(
            parse(message_bytes(msg)), method="REQUEST", to="ann@example.test", organizer=ORGANIZER
        )
    )
    assert b["UID"] == a["UID"]
    assert b.decoded("SEQUENCE") == a.decoded("SEQUENCE") + 1
    assert b.decoded("DTSTAMP") > a.decoded("DTSTAMP")
    assert msg["Subject"] == "Updated invitation: Fire Safety, Wed 2 Dec 09:30"
    body = msg.get_body(("plain",))
    assert body is not None
    assert "date or time" in body.get_content()


def test_cancel_for_the_whole_session() -> None:
    data = payload("cancellation", reason="The trainer is ill")
    data["session"]["cancelled"] = True
    data["session"]["cancel_reason"] = "The trainer is ill"
    data["session"]["sequence"] = 3
    msg = build(data)
    cal = check_imip(msg, method="CANCEL", to="ann@example.test", organizer=ORGANIZER)
    event = event_of(cal)
    assert event["STATUS"] == "CANCELLED"
    assert str(event["COMMENT"]) == "The trainer is ill"
    assert event["SEQUENCE"] == 3
    assert str(event["UID"]) == "rollcall-0123abcd@example.test"
    assert "The trainer is ill" in msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == "Cancelled: Fire Safety, Tue 1 Dec 09:30"


def test_cancel_to_one_removed_attendee() -> None:
    data = payload("removal", was="enrolled", invited=True, reason="")
    msg = build(data)
    cal = check_imip(msg, method="CANCEL", to="ann@example.test", organizer=ORGANIZER)
    event = event_of(cal)
    assert "STATUS" not in event
    assert event["SEQUENCE"] == 2  # the store raised the session's counter for the removal
    assert msg["Subject"] == "Booking cancelled: Fire Safety, Tue 1 Dec 09:30"


def test_removal_of_a_waitlisted_person_has_no_calendar() -> None:
    msg = build(payload("removal", was="waitlisted", invited=False, reason=""))
    check_plain(msg, to="ann@example.test", organizer=ORGANIZER)


def test_trainer_removal_is_a_cancel_to_the_old_trainer() -> None:
    data = payload("trainer_removal")
    data["recipient"] = {"email": "old@example.test", "name": "Old Trainer"}
    cal = check_imip(build(data), method="CANCEL", to="old@example.test", organizer=ORGANIZER)
    assert event_of(cal)["SEQUENCE"] == 2


@pytest.mark.parametrize(
    ("kind", "extra", "subject"),
    [
        (
            "waitlisted",
            {"enrolment": {"id": 1, "status": "waitlisted", "waitlist_position": 2}},
            "Waitlisted: Fire Safety, Tue 1 Dec 09:30",
        ),
        ("reminder", {}, "Reminder: Fire Safety, Tue 1 Dec 09:30"),
        (
            "message",
            {
                "message": "Room change <b>soon</b>",
                "subject": "Note about Fire Safety",
                "with_calendar": False,
            },
            "Note about Fire Safety",
        ),
    ],
)
def test_notices_without_calendar(kind: str, extra: dict[str, Any], subject: str) -> None:
    msg = build(payload(kind, **extra))
    check_plain(msg, to="ann@example.test", organizer=ORGANIZER)
    assert msg["Subject"] == subject
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Tuesday 1 December 2026, 09:30-10:30 (Europe/London)" in text
    assert "https://docs.example.test/agenda" in text
    assert "https://docs.example.test/agenda" in html
    if kind == "waitlisted":
        assert "position 2" in text
    if kind == "message":
        assert "Room change <b>soon</b>" in text
        assert "Room change &lt;b&gt;soon&lt;/b&gt;" in html


def test_subjects_a_person_recognises() -> None:
    assert subject_for(payload("invitation")) == "Invitation: Fire Safety, Tue 1 Dec 09:30"
    assert subject_for(payload("confirmation")) == "Booking confirmed: Fire Safety, Tue 1 Dec 09:30"
    assert subject_for(payload("message", message="x")) == "Fire Safety, Tue 1 Dec 09:30"
    assert subject_for(payload("invitation", timezone="America/New_York")) == (
        "Invitation: Fire Safety, Tue 1 Dec 04:30"
    )


def test_methods_per_kind() -> None:
    assert ical.method_for(payload("confirmation")) == "REQUEST"
    assert ical.method_for(payload("waitlisted")) is None
    assert ical.method_for(payload("reminder")) is None
    assert ical.method_for(payload("cancellation")) == "CANCEL"
    assert ical.method_for(payload("message", with_calendar=False)) is None
    assert ical.method_for(payload("removal", was="enrolled")) == "CANCEL"


def test_headers_and_message_id() -> None:
    msg = build(payload())
    assert msg["Message-ID"] == "<m1@example.test>"
    assert msg["From"] == "Training Team <training@example.test>"
    assert msg["To"].addresses[0].display_name == "Ann Åström, Jr."
    raw = message_bytes(build_message(payload(), message_id="<m@x>", created_at=STAMP))
    raw.decode("ascii")  # 7-bit clean on the wire
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")


def test_non_ascii_and_long_subjects_survive_the_wire() -> None:
    for subject in ("Sécurité incendie: salle changée", "x" * 300, "looks =?like?= a word"):
        data = payload("message", message="Hi", subject=subject)
        raw = render_bytes(data, message_id="<m@x>", created_at=STAMP)
        raw.decode("ascii")
        assert parse(raw)["Subject"] == subject
