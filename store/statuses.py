"""Every status set the rules share, in one place: sessions, enrolments, calendar answers, mail."""

from __future__ import annotations

SESSION_STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
"""A session's status: the first three follow the clock, `cancelled` is set by a person."""

SESSION_TYPES = ("in_person", "online")

ENROLMENT_STATUSES = ("enrolled", "waitlisted", "cancelled", "attended", "no_show")
"""Every status an enrolment can have."""

ACTIVE = ("enrolled", "waitlisted")
"""Enrolment statuses of people still expecting to come."""

OCCUPYING = ("enrolled", "attended", "no_show")
"""Enrolment statuses that take a place."""

MARKED = ("attended", "no_show")
"""Enrolment statuses the register has recorded."""

CALENDAR_STATES = ("not_invited", "invited", "accepted", "tentative", "declined")
"""An enrolment's calendar state, from the invitation and the latest reply."""

OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")
"""Where an outbox row is on its way to the SMTP server."""
