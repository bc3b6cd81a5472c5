"""Every table's columns in one table, by table: heading, row key and width.

Widths are fixed so a list is drawn at its final widths from its first row on;
None lets a last column take what its cells need.
"""

from __future__ import annotations

Column = tuple[str, str, int | None]
"""A table column: title, key, width (None: as wide as its cells)."""

_ON_SESSIONS: list[Column] = [
    ("Date", "date", 16),
    ("Session", "title", 30),
    ("Person", "name", 24),
]

COLUMNS: dict[str, list[Column]] = {
    "attendees": [  # the session page: who is on it
        ("Name", "name", 22),
        ("Department", "department", 12),
        ("Status", "status", 10),
        ("Cal", "calendar", 3),
        ("Responded", "responded", 12),
        ("Notes", "notes", 5),
    ],
    "waitlist": [  # the session page: who waits, in order
        ("#", "position", 3),
        ("Name", "name", 22),
        ("Department", "department", 12),
        ("Cal", "calendar", 3),
        ("Replied", "replied", 12),
    ],
    "people": [
        ("Name", "name", 22),
        ("Email", "email", 30),
        ("Department", "department", 12),
        ("Role", "role", 11),
        ("Location", "location", 11),
        ("", "flags", 9),
    ],
    "trainers": [
        ("Name", "name", 22),
        ("Email", "email", 30),
        ("Coming", "upcoming", 6),
        ("", "active", 9),
    ],
    "people-picker": [
        ("Name", "name", 22),
        ("Email", "email", 30),
        ("Department", "department", 14),
    ],
    "outbox": [
        ("Status", "status", 8),
        ("Recipient", "recipient", 26),
        ("Subject", "subject", 32),
        ("Tries", "attempts", 5),
        ("Why it waits", "error", 30),
        ("Sent", "sent", 12),
    ],
    "inbox": [
        ("Received", "received", 12),
        ("From", "from", 24),
        ("Outcome", "outcome", 16),
        ("Reason", "reason", 26),
        ("Session", "session", 7),
        ("Email", "email", 24),
        ("Calendar", "calendar", 10),
        ("Comment", "comment", 24),
    ],
    "audit": [
        ("When", "at", 19),
        ("Actor", "actor", 22),
        ("Action", "action", 16),
        ("Session", "session", 7),
        ("Person", "person", 24),
        ("Before → after", "change", None),
    ],
    "requests": [
        ("Date", "date", 16),
        ("Session", "title", 28),
        ("Learner", "learner", 22),
        ("Manager", "manager", 26),
        ("Asked", "asked", 14),
    ],
    "team-members": [
        ("Name", "name", 26),
        ("Email", "email", 30),
        ("Department", "department", 16),
        ("Booked", "booked", 6),
        ("Attended", "attended", 8),
        ("No-shows", "no_shows", 8),
        ("Due", "due", 4),
    ],
    "team-bookings": [*_ON_SESSIONS, ("Status", "status", 18), ("Reply", "calendar", None)],
    "team-attendance": [*_ON_SESSIONS, ("Marked", "status", None)],
    "team-due": [
        ("Expires", "expires", 11),
        ("Course or item", "item", 30),
        ("Person", "name", 24),
        ("Booked on", "booked", None),
    ],
}
