"""Plain facts read from an inbound calendar reply: what the store needs to apply it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

NOT_CALENDAR = "not a calendar reply"
MALFORMED = "malformed calendar data"
TOO_LARGE = "message too large"
TOO_MANY_EVENTS = "too many events in the calendar data"
MALFORMED_MESSAGE = "malformed message"
CALENDAR_PROBLEMS = frozenset({MALFORMED, TOO_MANY_EVENTS})
"""Problems of messages that did carry calendar data (they are moved like replies)."""


@dataclass(frozen=True)
class ReplyAttendee:
    """One ATTENDEE of a VEVENT: the address and the parameters a reply carries."""

    address: str
    """The calendar address without ``mailto:``, lower-cased (may be empty)."""
    email: str | None = None
    """The ``EMAIL=`` parameter, lower-cased (iCloud puts the real address here)."""
    name: str | None = None
    """The ``CN`` parameter, sanitised for display."""
    partstat: str | None = None
    """Upper-cased PARTSTAT (``ACCEPTED``, ``DECLINED``, ...), None when absent."""
    sent_by: str | None = None
    """The ``SENT-BY`` address without ``mailto:``, lower-cased."""
    delegated_to: str | None = None
    """The first ``DELEGATED-TO`` address without ``mailto:``, lower-cased."""

    def addresses(self) -> tuple[str, ...]:
        """Every address this attendee can be matched by (value, then EMAIL=)."""
        found = [a for a in (self.address, self.email) if a]
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class ReplyItem:
    """One VEVENT of the calendar object, with the VCALENDAR METHOD."""

    method: str
    uid: str
    recurrence_id: str | None = None
    attendees: tuple[ReplyAttendee, ...] = ()
    """ATTENDEEs that are direct children of the VEVENT (never those inside VALARMs)."""
    organizer: str | None = None
    dtstamp: datetime | None = None
    """Aware UTC; None when missing or unreadable."""
    sequence: int = 0
    comment: str | None = None
    """COMMENT (or X-CALENDARSERVER-PRIVATE-COMMENT), unescaped and sanitised."""
    dtstart: datetime | None = None
    """DTSTART as aware UTC when it could be resolved (UTC, or a TZID zoneinfo knows)."""
    recurrence_start: datetime | None = None
    """RECURRENCE-ID as aware UTC when it could be resolved."""

    @property
    def attendee(self) -> ReplyAttendee | None:
        """The replying attendee when there is exactly one candidate (else the first)."""
        return self.attendees[0] if self.attendees else None


@dataclass(frozen=True)
class ReadMessage:
    """What the reader found in one message: headers, calendar items, or a problem."""

    message_id: str | None = None
    from_address: str | None = None
    sender_address: str | None = None
    date: datetime | None = None
    subject: str = ""
    size: int = 0
    items: tuple[ReplyItem, ...] = ()
    problem: str | None = None
    """Why nothing can be applied ("not a calendar reply", "malformed calendar data",
    "message too large", ...); None when `items` holds at least one VEVENT."""
    content_method: str | None = None
    """The ``method=`` parameter of the chosen calendar part, upper-cased."""
    notes: tuple[str, ...] = field(default=())
    """Repairs made while reading (for the log)."""
    references: tuple[str, ...] = ()
    """Message-IDs of In-Reply-To and References (a manager's answer must name its request)."""
    first_word: str | None = None
    """The first word the writer typed above any quoted text, for APPROVE/DECLINE answers."""

    @property
    def method(self) -> str | None:
        """The METHOD of the first item, else the Content-Type parameter."""
        if self.items:
            return self.items[0].method
        return self.content_method


def normalize_address(value: str | None) -> str:
    """An address for comparison: no ``mailto:``, no angle brackets, lower case, IDN as ASCII."""
    if not value:
        return ""
    text = value.strip().strip("<>\"'").strip()
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    text = text.lower()
    local, at, domain = text.rpartition("@")
    if at and domain and not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass
        text = f"{local}@{domain}"
    return text
