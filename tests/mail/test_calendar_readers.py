"""Every kind of message, in three zones and around DST changes, read by real clients' parsers.

Each message goes through the real SMTP server into Dovecot and is read back
over IMAP; every calendar part is then read by ical.js (Thunderbird and
Nextcloud, run with node), vobject and icalendar, and all three must find the
session's own start and end instants.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from icalendar import Calendar

from mail.sender import send_outbox
from store import booking, outbox
from store.errors import ValidationError
from store.local_time import span_text
from store.models import Session
from store.session_input import describe_when
from store.sessions import cancel_session, edit_session
from store.settings import Settings, use_settings
from tests.builders import person, session, trainer
from tests.mail.checks import parse

pytestmark = pytest.mark.mailserver

READER = Path(__file__).resolve().parent.parent / "js" / "read_times.mjs"


@dataclass(frozen=True)
class Case:
    """A session to send every kind of message for: when it starts and how long it lasts."""

    label: str
    day: date
    start: str
    minutes: int


CASES: dict[str, list[Case]] = {
    "Europe/London": [
        Case("winter", date(2027, 1, 15), "09:30", 60),
        Case("summer", date(2027, 7, 15), "09:30", 60),
        Case("across the spring change", date(2027, 3, 28), "00:30", 120),
        Case("24 hours across the autumn change", date(2027, 10, 30), "12:00", 24 * 60),
        Case("repeated hour, first", date(2027, 10, 31), "01:30 BST", 60),
        Case("repeated hour, second", date(2027, 10, 31), "01:30 GMT", 60),
    ],
    "America/New_York": [
        Case("winter", date(2027, 1, 15), "09:30", 60),
        Case("summer", date(2027, 7, 15), "09:30", 60),
        Case("across the spring change", date(2027, 3, 14), "01:00", 120),
        Case("24 hours across the autumn change", date(2027, 11, 6), "12:00", 24 * 60),
        Case("repeated hour, first", date(2027, 11, 7), "01:30 EDT", 60),
        Case("repeated hour, second", date(2027, 11, 7), "01:30 EST", 60),
    ],
    "Australia/Sydney": [
        Case("summer", date(2027, 1, 15), "09:30", 60),
        Case("winter", date(2027, 7, 15), "09:30", 60),
        Case("across the spring change", date(2027, 10, 3), "01:00", 120),
        Case("24 hours across the autumn change", date(2027, 4, 3), "12:00", 24 * 60),
        Case("repeated hour, first", date(2027, 4, 4), "02:30 AEDT", 60),
        Case("repeated hour, second", date(2027, 4, 4), "02:30 AEST", 60),
    ],
}

GAPS = {
    "Europe/London": (date(2027, 3, 28), "01:30"),
    "America/New_York": (date(2027, 3, 14), "02:30"),
    "Australia/Sydney": (date(2027, 10, 3), "02:30"),
}
"""A local time the clocks skip, in each zone."""

CALENDAR_METHODS = {
    "confirmation": "REQUEST",
    "update": "REQUEST",
    "trainer_assignment": "REQUEST",
    "cancellation": "CANCEL",
    "removal": "CANCEL",
}


def ical_js(files: list[Path]) -> dict[str, dict[str, Any]]:
    """What ical.js reads from each file: method, UID, SEQUENCE, start and end (UTC seconds)."""
    node = shutil.which("node")
    if node is None or not (READER.parent / "node_modules" / "ical.js").exists():
        pytest.fail("node and tests/js/node_modules/ical.js are needed: run bash scripts/test")
    out = subprocess.run(
        [node, str(READER), *map(str, files)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, dict[str, Any]] = json.loads(out.stdout)
    return result


def vobject_times(data: bytes) -> tuple[datetime, datetime]:
    """Start and end as vobject (the reader of many Python clients) reads them."""
    event = vobject.readOne(data.decode("utf-8")).vevent
    return event.dtstart.value.astimezone(UTC), event.dtend.value.astimezone(UTC)


def icalendar_times(data: bytes) -> tuple[datetime, datetime, str]:
    """Start, end and method as the icalendar library reads them."""
    cal = Calendar.from_ical(data)
    event = next(iter(cal.walk("VEVENT")))
    start = event.decoded("DTSTART").astimezone(UTC)
    end = event.decoded("DTEND").astimezone(UTC)
    return start, end, str(cal["METHOD"])


def send_every_kind(zone: str, case: Case, learners: tuple[str, str], tutor: str) -> Session:
    """One session of `case`: a trainer invitation, confirmations, an update, a removal,
    a reminder and a cancellation to everyone."""
    stay, leave = learners
    made = session(
        title=f"Fire Safety ({zone}, {case.label})",
        date=case.day,
        start=case.start,
        duration_minutes=case.minutes,
        trainer=tutor,
    )
    booking.book(made.id, stay)
    booking.book(made.id, leave)
    edit_session(made.id, {"description": "Bring a pen"})
    booking.unbook(made.id, leave)
    outbox.queue_reminders(hours=24 * 800)
    cancel_session(made.id, "Room flooded")
    return Session.get_by_id(made.id)


def test_every_message_reads_to_the_same_instants_in_every_client(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
    tmp_path: Path,
) -> None:
    sessions: dict[str, Session] = {}
    zones: dict[str, ZoneInfo] = {}
    learners = (person(new_address("ann"), "Ann Ångström"), person(new_address("bob"), "Bob"))
    mailboxes = [p.email for p in learners]
    for zone, cases in CASES.items():
        use_settings(dataclasses.replace(mail_settings, timezone=zone))
        for case in cases:
            tutor = trainer(new_address("tess"), "Tess Trainer").person.email
            mailboxes.append(tutor)
            made = send_every_kind(zone, case, (learners[0].email, learners[1].email), tutor)
            sessions[made.uid] = made
            zones[made.uid] = ZoneInfo(zone)
        # A time the clocks skip is refused, naming the field, and creates nothing.
        count = Session.select().count()
        with pytest.raises(ValidationError) as refused:
            session(date=GAPS[zone][0], start=GAPS[zone][1])
        assert refused.value.field == "start"
        assert "does not exist" in refused.value.message
        assert Session.select().count() == count
    use_settings(mail_settings)

    report = send_outbox(mail_settings)
    assert (report.failed, report.pending) == (0, 0)

    files: list[Path] = []
    expected: dict[str, tuple[Session, str, str]] = {}
    reminders = 0
    for address in mailboxes:
        for fetched in mail_servers.messages(address):
            msg = parse(fetched.obj.as_bytes())
            kind = msg["X-Rollcall-Kind"]
            parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
            if kind == "reminder":
                # No calendar part: the body states the local times, zone named when needed.
                reminders += 1
                assert not parts
                text = msg.get_body(("plain",))
                assert text is not None
                made = next(s for s in sessions.values() if f"{s.title}," in msg["Subject"])
                local = span_text(made.start, made.end, zones[made.uid])
                assert local.split("-")[0] in " ".join(text.get_content().split())
                continue
            assert kind in CALENDAR_METHODS, kind
            assert len(parts) == 1, kind
            data = parts[0].get_payload(decode=True)
            assert isinstance(data, bytes)
            uid = Calendar.from_ical(data).walk("VEVENT")[0]["UID"]
            path = tmp_path / f"{len(files)}.ics"
            path.write_bytes(data)
            files.append(path)
            expected[str(path)] = (sessions[str(uid)], kind, address)

    # Per case, with a calendar part: ann's confirmation, update and cancellation;
    # bob's confirmation, update and removal; the trainer's invitation, update and
    # cancellation. And ann's reminder.
    assert reminders == len(sessions)
    assert len(files) == len(sessions) * 9
    read_by_js = ical_js(files)
    for path in files:
        made, kind, address = expected[str(path)]
        data = path.read_bytes()
        want = (made.start.astimezone(UTC), made.end.astimezone(UTC))
        assert want[1] - want[0] == (made.end - made.start)
        assert (want[1] - want[0]).total_seconds() == made.duration_minutes * 60
        js = read_by_js[str(path)]
        label = f"{made.title} {kind} to {address}"
        assert js["method"] == CALENDAR_METHODS[kind], label
        assert (js["start"], js["end"]) == (want[0].timestamp(), want[1].timestamp()), label
        assert vobject_times(data) == want, label
        start, end, method = icalendar_times(data)
        assert (start, end) == want, label
        assert method == CALENDAR_METHODS[kind], label
        assert js["rsvp"] == ("TRUE" if method == "REQUEST" else None), label


@pytest.mark.parametrize(
    ("zone", "day", "start", "utc_hour"),
    [
        ("Europe/London", date(2027, 10, 31), "01:30 BST", 0),
        ("Europe/London", date(2027, 10, 31), "01:30 GMT", 1),
        ("Europe/London", date(2027, 10, 31), "01:30+00:00", 1),
        ("America/New_York", date(2027, 11, 7), "01:30 EDT", 5),
        ("America/New_York", date(2027, 11, 7), "01:30 EST", 6),
        ("Australia/Sydney", date(2027, 4, 4), "02:30 AEDT", 15),
        ("Australia/Sydney", date(2027, 4, 4), "02:30 AEST", 16),
    ],
)
def test_a_repeated_hour_is_chosen_by_its_zone_and_keeps_its_length(
    store: str, settings: Settings, zone: str, day: date, start: str, utc_hour: int
) -> None:
    use_settings(dataclasses.replace(settings, timezone=zone))
    try:
        made = session(date=day, start=start, duration_minutes=60)
        assert made.start.astimezone(UTC).hour == utc_hour
        assert (made.end - made.start).total_seconds() == 3600
        # Messages name the zone of each end, never "01:30-01:30".
        when = describe_when(made.start, made.end, ZoneInfo(zone))
        begin, finish = when.split(" ", 4)[-1].split("-")
        assert begin != finish
        if start[-1].isalpha():
            assert begin == start
    finally:
        use_settings(settings)


def test_a_repeated_hour_without_its_zone_is_refused_naming_both(
    store: str, settings: Settings
) -> None:
    use_settings(dataclasses.replace(settings, timezone="Europe/London"))
    try:
        before = Session.select().count()
        with pytest.raises(ValidationError) as refused:
            session(date=date(2027, 10, 31), start="01:30")
        assert refused.value.field == "start"
        assert "01:30 BST" in refused.value.message
        assert "01:30 GMT" in refused.value.message
        assert Session.select().count() == before
    finally:
        use_settings(settings)
