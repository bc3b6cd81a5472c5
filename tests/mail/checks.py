"""Checks every iMIP message we send must pass (notes/itip.md section 9)."""

from __future__ import annotations

import email
from datetime import UTC
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr

from icalendar import Calendar, Event


def parse(raw: bytes) -> EmailMessage:
    """Parse raw message bytes with the modern email API."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def calendar_data(msg: EmailMessage) -> list[tuple[str, bytes]]:
    """Every calendar leaf (text/calendar, application/ics or a .ics file), decoded."""
    found = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        name = (part.get_filename() or "").lower()
        if kind in ("text/calendar", "application/ics") or name.endswith(".ics"):
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            found.append((kind, data))
    return found


def check_plain(msg: EmailMessage, *, to: str, organizer: str) -> None:
    """A notice without a calendar: alternative of text and HTML, right From/To."""
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert parseaddr(msg["To"])[1] == to
    assert parseaddr(msg["From"])[1] == organizer
    assert not calendar_data(msg)


def check_imip(msg: EmailMessage, *, method: str, to: str, organizer: str) -> Calendar:
    """S1-S7 and C1-C8: structure, CRLF, one ATTENDEE == To, ORGANIZER == From, UTC times."""
    assert parseaddr(msg["To"])[1] == to
    assert len(msg["To"].addresses) == 1
    assert msg["Cc"] is None
    assert msg["Bcc"] is None
    assert parseaddr(msg["From"])[1] == organizer
    assert msg["Message-ID"]
    assert msg["Date"]
    assert msg.get_content_type() == "multipart/mixed"
    alternative, attachment = list(msg.iter_parts())
    assert alternative.get_content_type() == "multipart/alternative"
    leaves = list(alternative.iter_parts())
    assert [p.get_content_type() for p in leaves] == ["text/plain", "text/html", "text/calendar"]
    inline = leaves[2]
    assert str(inline.get_param("method")).upper() == method
    assert str(inline.get_param("charset")).upper() == "UTF-8"
    assert inline["Content-Transfer-Encoding"].lower() == "base64"
    assert inline["Content-Disposition"] is None
    assert inline["Content-ID"] is None
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "invite.ics"
    data = inline.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert data == attachment.get_payload(decode=True)

    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF in the iCalendar data"
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
    data.decode("utf-8")

    cal = Calendar.from_ical(data)
    assert cal["VERSION"] == "2.0"
    assert cal["PRODID"]
    assert str(cal["METHOD"]).upper() == method
    events = list(cal.walk("VEVENT"))
    assert len(events) == 1
    event = events[0]
    for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "SEQUENCE"):
        assert key in event, key
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert event.decoded("DTSTAMP").utcoffset() == UTC.utcoffset(None)
    assert event.to_ical().count(b"DTSTAMP:") == 1
    assert b"Z\r\n" in event.to_ical()
    attendee = event["ATTENDEE"]
    assert not isinstance(attendee, list), "more than one ATTENDEE"
    assert str(attendee).lower() == f"mailto:{to}".lower()
    if method == "REQUEST":
        assert attendee.params["RSVP"] == "TRUE"
        assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    else:
        # A cancellation asks for no answer.
        assert "RSVP" not in attendee.params
        assert "PARTSTAT" not in attendee.params
    assert attendee.params["CN"]
    assert attendee.params["ROLE"] in ("REQ-PARTICIPANT", "CHAIR")
    organizer_prop = event["ORGANIZER"]
    assert str(organizer_prop).lower() == f"mailto:{organizer}".lower()
    assert organizer_prop.params["CN"]
    # Times are UTC instants: no TZID, no VTIMEZONE (see mail/ical.py).
    assert not list(cal.walk("VTIMEZONE"))
    for key in ("DTSTART", "DTEND"):
        assert "TZID" not in event[key].params
        assert event.decoded(key).utcoffset() == UTC.utcoffset(None)
    assert event.decoded("DTEND") > event.decoded("DTSTART")
    if method == "REQUEST":
        assert event["STATUS"] == "CONFIRMED"
        assert event["TRANSP"] == "OPAQUE"
        assert event["X-MICROSOFT-CDO-BUSYSTATUS"] == "BUSY"
        assert event["X-MICROSOFT-DISALLOW-COUNTER"] == "TRUE"
    # Round trip: what we parse serialises back to the same bytes.
    assert Calendar.from_ical(cal.to_ical()).to_ical() == cal.to_ical()
    return cal


def event_of(cal: Calendar) -> Event:
    """The one VEVENT."""
    event = next(iter(cal.walk("VEVENT")))
    assert isinstance(event, Event)
    return event
