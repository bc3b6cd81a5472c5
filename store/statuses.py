"""Every status set the rules share, in one place: sessions, enrolments, calendar answers, mail."""

from __future__ import annotations

SESSION_STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
"""A session's status: the first three follow the clock, `cancelled` is set by a person."""

SESSION_TYPES = ("in_person", "online")

ENROLMENT_STATUSES = (
    "enrolled",
    "waitlisted",
    "cancelled",
    "attended",
    "no_show",
    "requested",
    "offered",
)
"""Every status an enrolment can have."""

ACTIVE = ("enrolled", "waitlisted")
"""Enrolment statuses of people still expecting to come."""

OCCUPYING = ("enrolled", "attended", "no_show")
"""Enrolment statuses that take a place."""

WAITING_ON_SOMEONE = ("requested", "offered")
"""Bookings waiting for the manager or for the offered person's answer (cancellable too)."""

HOLDING = (*OCCUPYING, "offered")
"""Enrolment statuses counted against capacity: an offered place is held for its holder."""

MARKED = ("attended", "no_show")
"""Enrolment statuses the register has recorded."""

CALENDAR_STATES = ("not_invited", "invited", "accepted", "tentative", "declined")
"""An enrolment's calendar state, from the invitation and the latest reply."""

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
"""Where an outbox row is on its way to the SMTP server."""

APPROVAL_MODES = ("none", "manager")
"""Whether a session's (or course's) bookings wait for the learner's manager."""

REQUEST_STATUSES = ("pending", "approved", "declined", "expired", "withdrawn")
"""Where a manager-approval request stands."""

OFFER_OUTCOMES = ("open", "taken", "passed")
"""An offered place: still held, taken by its holder, or passed to the next in line."""
