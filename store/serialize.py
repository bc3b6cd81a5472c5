"""JSON-ready dictionaries of sessions and enrolments, in the shapes of the CLI contract."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.models import Enrolment, Material, Person, Session
from store.session_queries import counts_for, session_status
from store.visibility import rules_of


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset, or None."""
    return value.isoformat() if value is not None else None


def session_dict(
    session: Session, counts: dict[str, int] | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """A session in the contract's shape (pass `counts` to avoid a query per session)."""
    if counts is None:
        counts = counts_for([session.id])[session.id]
    enrolled = counts.get("enrolled", 0)
    taken = enrolled + counts.get("attended", 0) + counts.get("no_show", 0)
    held = taken + counts.get("offered", 0)
    rules = rules_of(session)
    materials = Material.select().where(Material.session == session).order_by(Material.position)
    return {
        "id": session.id,
        "title": session.title,
        "course": session.course.title,
        "description": session.description,
        "start": iso(session.start),
        "end": iso(session.end),
        "duration_minutes": session.duration_minutes,
        "type": session.type,
        "location": session.location,
        "online_url": session.online_url,
        "trainer": session.trainer.person.email if session.trainer_id else None,
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
        "materials": [{"name": m.name, "url": m.url} for m in materials],
        "expiry_months": session.expiry_months,
        "series_id": session.series_id,
        "uid": session.uid,
        "sequence": session.sequence,
        "trainer_calendar": session.trainer_calendar,
        "trainer_responded_at": iso(session.trainer_responded_at),
        "offered": counts.get("offered", 0),
        "requested": counts.get("requested", 0),
        "approval": session.approval,
        "offer_hours": session.offer_hours,
    }


def sessions_dicts(sessions: list[Session], now: datetime | None = None) -> list[dict[str, Any]]:
    """Many sessions, counting enrolments in one query."""
    counts = counts_for([s.id for s in sessions])
    return [session_dict(s, counts[s.id], now) for s in sessions]


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
