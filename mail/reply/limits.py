"""Bounds on what one message may make the reader do, and the calendar content types."""

from __future__ import annotations

MAX_EVENTS = 50
"""VEVENTs read from one calendar object; more is treated as hostile."""

MAX_PARTS = 200
"""MIME leaves looked at in one message."""

MAX_DEPTH = 20
"""MIME nesting followed before giving up on a branch."""


CALENDAR_TYPES = frozenset(
    {"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ics"}
)
"""Content types that carry iCalendar data whatever their file name."""
