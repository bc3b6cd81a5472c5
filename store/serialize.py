"""JSON-ready dictionaries of sessions and enrolments, in the shapes of the CLI contract.

Lists are read page by page (`store.session_json`): each page of sessions costs a fixed
number of queries (the sessions, then their enrolment counts, visibility rules, materials,
courses and trainers), whatever the number of rows, and only one page is held in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import peewee

from store.clock import utcnow
from store.models import Enrolment, Person, Session
from store.paging import in_ids
from store.session_json import session_texts


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the UTC offset, or None."""
    return value.isoformat() if value is not None else None


def iter_session_json(
    query: peewee.ModelSelect,
    *,
    limit: int | None = None,
    offset: int | None = None,
    now: datetime | None = None,
) -> Iterator[str]:
    """The sessions of `query` (any filter, start order) as JSON text in the contract's shape.

    Each is what `json.dumps(..., ensure_ascii=False, indent=2)` writes for it, indented one
    level (an item of a JSON array); see `store.session_json`.
    """
    return session_texts(query, now or utcnow(), limit=limit, offset=offset)


def iter_session_dicts(
    query: peewee.ModelSelect,
    *,
    limit: int | None = None,
    offset: int | None = None,
    now: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """The sessions of `query` (any filter, start order) in the contract's shape, page by page.

    Read from the JSON text of `iter_session_json`, so both say the same.
    """
    loads = json.loads
    for text in iter_session_json(query, limit=limit, offset=offset, now=now):
        yield loads(text)


def session_dict(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """A session in the contract's shape, as stored."""
    return sessions_dicts([session], now)[0]


def sessions_dicts(
    sessions: Sequence[Session], now: datetime | None = None
) -> list[dict[str, Any]]:
    """Sessions (as stored, in the order given) in the contract's shape."""
    ids = [s.id for s in sessions]
    if not ids:
        return []
    found = {
        row["id"]: row
        for row in iter_session_dicts(Session.select().where(in_ids(Session.id, ids)), now=now)
    }
    return [found[sid] for sid in ids]


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
