"""Which sessions a person may book: scheduled, visible to them, and not already theirs."""

from __future__ import annotations

from datetime import datetime

import peewee

from store.access import require_read
from store.clock import utcnow
from store.models import Enrolment, Person, Session
from store.session_queries import status_condition
from store.visibility import visible_to


def available_query(
    person: Person,
    now: datetime | None = None,
    start_from: datetime | None = None,
    start_before: datetime | None = None,
) -> peewee.ModelSelect:
    """Scheduled sessions `person` may see and is not already on, in start order."""
    require_read(person)
    now = now or utcnow()
    already = Enrolment.select(Enrolment.session).where(
        (Enrolment.person == person) & (Enrolment.status != "cancelled")
    )
    query = (
        Session.select()
        .where(status_condition("scheduled", now) & visible_to(person) & Session.id.not_in(already))
        .order_by(Session.start, Session.id)
    )
    if start_from is not None:
        query = query.where(Session.start >= start_from)
    if start_before is not None:
        query = query.where(Session.start < start_before)
    return query


def available_sessions(person: Person, now: datetime | None = None) -> list[Session]:
    """The sessions `person` can see and book (full ones included: they can join the waitlist)."""
    return list(available_query(person, now))
