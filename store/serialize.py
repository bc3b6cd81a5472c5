"""JSON-ready dictionaries of sessions and enrolments, in the shapes of the CLI contract.

Lists are read page by page (`store.paging`): each page of sessions costs a fixed number of
queries (the sessions, their course and trainer, counts, visibility rules, materials), whatever
the number of rows, and only one page is held in memory at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import peewee

from store.clock import utcnow
from store.models import Course, Enrolment, Material, Person, Session, SessionVisibility, Trainer
from store.paging import in_ids, keyset_pages
from store.session_queries import counts_for, session_status
from store.visibility import DIMENSIONS


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset, or None."""
    return value.isoformat() if value is not None else None


@dataclass
class _Related:
    """What a page of sessions needs from other tables, each read in one query."""

    course: dict[int, str] = field(default_factory=dict)
    trainer: dict[int, str] = field(default_factory=dict)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)
    rules: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    materials: dict[int, list[dict[str, str]]] = field(default_factory=dict)


def _related(sessions: Sequence[Session]) -> _Related:
    ids = [s.id for s in sessions]
    found = _Related(counts=counts_for(ids))
    found.rules = {sid: {d: [] for d in DIMENSIONS} for sid in ids}
    found.materials = {sid: [] for sid in ids}
    names = (
        Session.select(Session.id, Course.title, Person.email)
        .join(Course)
        .switch(Session)
        .join(Trainer, peewee.JOIN.LEFT_OUTER)
        .join(Person, peewee.JOIN.LEFT_OUTER)
        .where(in_ids(Session.id, ids))
        .tuples()
    )
    for sid, title, email in names:
        found.course[sid] = title
        if email is not None:
            found.trainer[sid] = email
    rules = (
        SessionVisibility.select(
            SessionVisibility.session, SessionVisibility.dimension, SessionVisibility.value
        )
        .where(in_ids(SessionVisibility.session, ids))
        .order_by(SessionVisibility.id)
        .tuples()
    )
    for sid, dimension, value in rules:
        found.rules[sid][dimension].append(value)
    materials = (
        Material.select(Material.session, Material.name, Material.url)
        .where(in_ids(Material.session, ids))
        .order_by(Material.session, Material.position)
        .tuples()
    )
    for sid, name, url in materials:
        found.materials[sid].append({"name": name, "url": url})
    return found


def _as_dict(session: Session, related: _Related, now: datetime) -> dict[str, Any]:
    counts = related.counts.get(session.id, {})
    enrolled = counts.get("enrolled", 0)
    taken = enrolled + counts.get("attended", 0) + counts.get("no_show", 0)
    held = taken + counts.get("offered", 0)
    rules = related.rules[session.id]
    return {
        "id": session.id,
        "title": session.title,
        "course": related.course[session.id],
        "description": session.description,
        "start": iso(session.start),
        "end": iso(session.end),
        "duration_minutes": session.duration_minutes,
        "type": session.type,
        "location": session.location,
        "online_url": session.online_url,
        "trainer": related.trainer.get(session.id),
        "max_attendees": session.max_attendees,
        "enrolled": taken,
        "waitlisted": counts.get("waitlisted", 0),
        "remaining": (
            max(0, session.max_attendees - held) if session.max_attendees is not None else None
        ),
        "status": session_status(session, now),
        "cancel_reason": session.cancel_reason,
        "visibility": {
            "roles": rules["role"],
            "departments": rules["department"],
            "locations": rules["location"],
        },
        "materials": related.materials[session.id],
        "expiry_months": session.expiry_months,
        # Pages are read as named tuples (cheaper than models), where the column is `series`.
        "series_id": session.series_id if isinstance(session, Session) else session.series,
        "uid": session.uid,
        "sequence": session.sequence,
        "trainer_calendar": session.trainer_calendar,
        "trainer_responded_at": iso(session.trainer_responded_at),
        "offered": counts.get("offered", 0),
        "requested": counts.get("requested", 0),
        "approval": session.approval,
        "offer_hours": session.offer_hours,
    }


def session_dict(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """A session in the contract's shape."""
    return sessions_dicts([session], now)[0]


def sessions_dicts(
    sessions: Sequence[Session], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Sessions already read, in the contract's shape, with one query per related table."""
    if not sessions:
        return []
    related = _related(sessions)
    moment = now or utcnow()
    return [_as_dict(s, related, moment) for s in sessions]


def iter_session_dicts(
    query: peewee.ModelSelect,
    *,
    limit: int | None = None,
    offset: int | None = None,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """The sessions of `query` (any filter, start order) in the contract's shape, page by page."""
    moment = now or utcnow()
    rows = query.namedtuples()
    for page in keyset_pages(rows, (Session.start, Session.id), limit=limit, offset=offset):
        yield from sessions_dicts(page, moment)


def enrolment_dict(enrolment: Enrolment, person: Person | None = None) -> dict[str, Any]:
    """An enrolment in the contract's shape."""
    person = person or enrolment.person
    return {
        "email": person.email,
        "name": person.name,
        "status": enrolment.status,
        "calendar": enrolment.calendar,
        "responded_at": iso(enrolment.responded_at),
        "comment": enrolment.response_comment,
        "waitlist_position": enrolment.waitlist_position,
        "created_at": iso(enrolment.created_at),
        "recorded_after": bool(enrolment.recorded_after),
        "offer_expires_at": iso(enrolment.offer_expires_at),
    }


def session_detail_dict(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """`session_dict` plus the enrolments (status order, then waitlist position, then name)."""
    data = session_dict(session, now=now)
    rows = (
        Enrolment.select(Enrolment, Person)
        .join(Person)
        .where(Enrolment.session == session)
        .order_by(Enrolment.waitlist_position.asc(nulls="first"), Person.name, Enrolment.id)
    )
    data["enrolments"] = [enrolment_dict(e, e.person) for e in rows]
    return data
