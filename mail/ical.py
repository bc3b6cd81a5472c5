"""Pure iCalendar (iTIP) builders: an outbox payload snapshot in, iCalendar bytes out.

The rules these follow are in docs/itip-rules.md (S/C/U rules): one ATTENDEE
per object (the recipient), ORGANIZER equal to the From address, a stable UID
per session, SEQUENCE from the session's counter, DTSTAMP in UTC.

Times are written in UTC (``DTSTART:20270715T083000Z``), never with a TZID and
a VTIMEZONE (rule C5 allows either). A session is a single event, not a
recurring one, so a time zone definition would only say what the UTC instant
already says, and VTIMEZONEs are where calendar clients disagree: ical.js
(Thunderbird, Nextcloud) and libical read RDATE-based observances an hour off
in summer, Outlook desktop shifts such events, and a local time in the autumn's
repeated hour names two instants. A UTC instant is read the same by every
client, which shows it in the reader's own zone; the message body states the
local time in the site's zone, with the zone abbreviation around a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText
from icalendar.parser import Contentline

PRODID = "-//rollcall//rollcall training calendar//EN"

REQUEST = "REQUEST"
CANCEL = "CANCEL"

INVITING_KINDS = (
    "confirmation",
    "promoted",
    "invitation",
    "update",
    "trainer_assignment",
    "offer",
)
"""Kinds that always carry a REQUEST (a "message" carries one when asked to)."""


@dataclass(frozen=True)
class CalendarPart:
    """The iCalendar object of a message and its iTIP method."""

    method: str
    data: bytes
    """UTF-8 iCalendar text with CRLF line ends, folded at 75 octets."""


def _when(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        # Snapshots are written from aware UTC values; a naive one can only mean UTC.
        moment = moment.replace(tzinfo=UTC)
    return moment


def is_trainer(payload: dict[str, Any]) -> bool:
    """True when the recipient of `payload` is the session's trainer."""
    session = payload.get("session") or {}
    trainer = session.get("trainer") or {}
    recipient = payload["recipient"]["email"]
    return bool(trainer) and str(trainer.get("email", "")).lower() == recipient.lower()


def method_for(payload: dict[str, Any]) -> str | None:
    """The iTIP method the message for `payload` carries, or None for a plain notice."""
    kind = payload["kind"]
    if payload.get("session") is None:
        return None
    if kind in INVITING_KINDS:
        return REQUEST
    if kind == "message":
        return REQUEST if payload.get("with_calendar") else None
    if kind == "trainer_removal":
        return CANCEL
    if kind in ("cancellation", "removal", "offer_passed"):
        # Only someone who was sent the event gets its CANCEL: a confirmation carries
        # the invitation, so anyone enrolled holds it (and the trainer, who has no
        # "was"); a waitlisted person holds it only if an invitation was sent.
        was = payload.get("was")
        if (kind == "cancellation" and was is None) or was == "enrolled" or payload.get("invited"):
            return CANCEL
        return None
    return None


def description_text(session: dict[str, Any]) -> str:
    """The plain-text DESCRIPTION: the session's description, meeting link and pre-read."""
    parts: list[str] = []
    if session.get("description"):
        parts.append(str(session["description"]).strip())
    if session.get("online_url"):
        parts.append(f"Meeting link: {session['online_url']}")
    materials = session.get("materials") or []
    if materials:
        lines = ["Pre-read:"] + [f"- {m['name']}: {m['url']}" for m in materials]
        parts.append("\n".join(lines))
    trainer = session.get("trainer")
    if trainer:
        parts.append(f"Trainer: {trainer.get('name') or trainer['email']}")
    return "\n\n".join(parts)


def _address(email: str, params: dict[str, str]) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    for key, value in params.items():
        address.params[key] = value
    return address


def _attendee_params(name: str, role: str, method: str) -> dict[str, str]:
    params = {"CN": name, "CUTYPE": "INDIVIDUAL", "ROLE": role}
    if method == REQUEST:
        # Only an invitation asks for an answer; a cancellation needs none (U4, U5).
        params |= {"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"}
    return params


def _event(payload: dict[str, Any], method: str, dtstamp: datetime) -> Event:
    session = payload["session"]
    recipient = payload["recipient"]
    organizer = payload["organizer"]
    kind = payload["kind"]
    start = _when(session["start"]).astimezone(UTC)
    end = _when(session["end"]).astimezone(UTC)
    # The store raises the session's SEQUENCE for every change it mails (moves,
    # cancellations, removals), so the snapshot already holds the value to send.
    sequence = int(session.get("sequence") or 0)

    event = Event()
    event.add("uid", session["uid"])
    event.add("sequence", sequence)
    event.add("dtstamp", dtstamp.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", session["title"])
    location = session.get("location") or session.get("online_url")
    if location:
        event.add("location", location)
    if session.get("online_url"):
        event.add("url", session["online_url"])
    description = description_text(session)
    if description:
        event.add("description", description)
    event.add(
        "organizer",
        _address(organizer["email"], {"CN": organizer.get("name") or organizer["email"]}),
    )
    trainer = is_trainer(payload)
    event.add(
        "attendee",
        _address(
            recipient["email"],
            _attendee_params(
                recipient.get("name") or recipient["email"],
                "CHAIR" if trainer else "REQ-PARTICIPANT",
                method,
            ),
        ),
    )
    if method == REQUEST:
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("x-microsoft-cdo-busystatus", "BUSY")
        event.add("x-microsoft-cdo-intendedstatus", "BUSY")
        event.add("x-microsoft-disallow-counter", "TRUE")
    else:
        if kind == "cancellation":
            event.add("status", "CANCELLED")
        reason = payload.get("reason") or session.get("cancel_reason")
        if reason:
            event.add("comment", vText(str(reason)))
    return event


_STAMP_MARK = datetime(1901, 1, 1, tzinfo=UTC)
_STAMP_LINE = b"DTSTAMP:19010101T000000Z\r\n"
_ATTENDEE_MARK = "mailto:attendee@rollcall.invalid"
_ATTENDEE_LINE = b"ATTENDEE:" + _ATTENDEE_MARK.encode() + b"\r\n"


def build_calendar(
    payload: dict[str, Any], dtstamp: datetime, method: str | None = None
) -> CalendarPart | None:
    """Build the iCalendar object for an outbox payload, or None when the kind has none.

    `dtstamp` is when the change was made (the outbox row's creation time), so a
    retried message states the same DTSTAMP. `method` overrides `method_for`.
    """
    method = method or method_for(payload)
    if method is None:
        return None
    # Everything but the recipient and DTSTAMP is shared by a session's whole batch:
    # build that once and splice the two per-recipient lines in.
    shared = {k: v for k, v in payload.items() if k not in ("recipient", "enrolment")}
    role = "CHAIR" if is_trainer(payload) else "REQ-PARTICIPANT"
    key = json.dumps([shared, method, role], sort_keys=True, default=str)
    template = _template(key)
    recipient = payload["recipient"]
    attendee = _address(
        recipient["email"],
        _attendee_params(recipient.get("name") or recipient["email"], role, method),
    )
    line = Contentline.from_parts("ATTENDEE", attendee.params, attendee.to_ical().decode())
    stamp = dtstamp.astimezone(UTC).strftime("DTSTAMP:%Y%m%dT%H%M%SZ\r\n").encode()
    data = template.replace(_ATTENDEE_LINE, line.to_ical() + b"\r\n", 1).replace(
        _STAMP_LINE, stamp, 1
    )
    return CalendarPart(method=method, data=data)


@lru_cache(maxsize=256)
def _template(key: str) -> bytes:
    shared, method, role = json.loads(key)
    return _full_calendar(
        {**shared, "recipient": {"email": "attendee@rollcall.invalid", "name": ""}},
        method,
        _STAMP_MARK,
        attendee_mark=True,
    )


def _full_calendar(
    payload: dict[str, Any], method: str, dtstamp: datetime, *, attendee_mark: bool = False
) -> bytes:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = _event(payload, method, dtstamp)
    if attendee_mark:
        event.pop("ATTENDEE")
        event.add("attendee", vCalAddress(_ATTENDEE_MARK))
    cal.add_component(event)
    return bytes(cal.to_ical())


def request(payload: dict[str, Any], dtstamp: datetime) -> CalendarPart:
    """A METHOD:REQUEST for the recipient of `payload` (invitation, update, trainer)."""
    part = build_calendar(payload, dtstamp, REQUEST)
    assert part is not None
    return part


def cancel(payload: dict[str, Any], dtstamp: datetime) -> CalendarPart:
    """A METHOD:CANCEL for the recipient of `payload` (whole session or one attendee)."""
    part = build_calendar(payload, dtstamp, CANCEL)
    assert part is not None
    return part
