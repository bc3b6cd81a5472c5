"""The person page's read model: who they are and everything the training record says.

A fixed number of queries whatever the number of bookings, completions or
notes (each list is one query, capped at `limit` rows); no Textual import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import peewee

from store.access import require_read
from store.clock import utcnow
from store.errors import NotFound
from store.models import (
    Completion,
    Course,
    ElearningItem,
    Enrolment,
    EnrolmentNote,
    Person,
    Session,
    Trainer,
)
from store.read_models import PersonRow


@dataclass(frozen=True)
class BookingLine:
    """One of the person's enrolments on a session."""

    session_id: int
    title: str
    start: datetime
    end: datetime
    place: str
    status: str
    """enrolled | waitlisted | attended | no_show | cancelled (the enrolment's status)."""
    waitlist_position: int | None
    calendar: str
    session_cancelled: bool


@dataclass(frozen=True)
class CompletionLine:
    """A completion of a course or an e-learning item, with its expiry."""

    what: str
    completed_on: date
    expires_on: date | None
    source: str
    expired: bool


@dataclass(frozen=True)
class NoteLine:
    """A note written on one of the person's enrolments."""

    session_title: str
    session_start: datetime
    author: str
    text: str
    written_at: datetime


@dataclass(frozen=True)
class PersonPage(PersonRow):
    """Everything the person page shows: their row of the people list and their record."""

    manager: str
    """"Name <email>" of their manager, or empty."""
    notes: str
    upcoming: list[BookingLine] = field(default_factory=list)
    """Enrolled on sessions not over yet, soonest first."""
    waitlists: list[BookingLine] = field(default_factory=list)
    """Waiting for a place on sessions not over yet, soonest first."""
    past: list[BookingLine] = field(default_factory=list)
    """Every other enrolment (over, cancelled, attended, no-show), latest first."""
    completions: list[CompletionLine] = field(default_factory=list)
    """Latest first."""
    pathways: list[dict[str, Any]] = field(default_factory=list)
    """`store.pathways.progress` for every pathway."""
    notes_about: list[NoteLine] = field(default_factory=list)
    """Notes on their enrolments, latest first."""


def _person(ref: int | str) -> Person:
    query = Person.select()
    if isinstance(ref, int) or str(ref).isdigit():
        found = query.where(Person.id == int(ref)).first()
    else:
        from store.people import get_person

        return get_person(str(ref))
    if found is None:
        raise NotFound(f"no person {ref}", field="person")
    return found


def _place(session: Session) -> str:
    return session.location or ("online" if session.online_url else "")


def person_page(person: int | str, *, now: datetime | None = None, limit: int = 200) -> PersonPage:
    """The person page of `person` (an id or an email), read in a fixed number of queries."""
    from store.pathways import progress

    found = _person(person)
    require_read(found)
    now = now or utcnow()
    manager_row = (
        Person.select(Person.name, Person.email).where(Person.id == found.manager_id).first()
        if found.manager_id
        else None
    )
    trainer = Trainer.select(Trainer.active).where(Trainer.person == found.id).first()
    enrolments = (
        Enrolment.select(Enrolment, Session)
        .join(Session)
        .where(Enrolment.person == found.id)
        .order_by(Session.start.desc(), Session.id.desc())
        .limit(limit)
    )
    upcoming: list[BookingLine] = []
    waitlists: list[BookingLine] = []
    past: list[BookingLine] = []
    for e in enrolments:
        s = e.session
        line = BookingLine(
            session_id=s.id,
            title=s.title,
            start=s.start,
            end=s.end,
            place=_place(s),
            status=e.status,
            waitlist_position=e.waitlist_position,
            calendar=e.calendar,
            session_cancelled=s.cancelled_at is not None,
        )
        live = s.end > now and s.cancelled_at is None
        if live and e.status == "enrolled":
            upcoming.append(line)
        elif live and e.status == "waitlisted":
            waitlists.append(line)
        else:
            past.append(line)
    upcoming.reverse()
    waitlists.reverse()
    today = now.date()
    completions = (
        Completion.select(Completion, Course.title, ElearningItem.name)
        .join(Course, peewee.JOIN.LEFT_OUTER, on=(Completion.course == Course.id))
        .switch(Completion)
        .join(ElearningItem, peewee.JOIN.LEFT_OUTER, on=(Completion.elearning == ElearningItem.id))
        .where(Completion.person == found.id)
        .order_by(Completion.completed_on.desc(), Completion.id.desc())
        .limit(limit)
        .objects()
    )
    done = [
        CompletionLine(
            what=getattr(c, "title", None) or getattr(c, "name", None) or "",
            completed_on=c.completed_on,
            expires_on=c.expires_on,
            source=c.source,
            expired=c.expires_on is not None and c.expires_on < today,
        )
        for c in completions
    ]
    notes = (
        EnrolmentNote.select(
            Session.title.alias("session_title"),
            Session.start.alias("session_start"),
            EnrolmentNote.author,
            EnrolmentNote.text,
            EnrolmentNote.created_at.alias("written_at"),
        )
        .join(Enrolment)
        .join(Session)
        .where(Enrolment.person == found.id)
        .order_by(EnrolmentNote.created_at.desc(), EnrolmentNote.id.desc())
        .limit(limit)
        .dicts()
    )
    notes_about = [NoteLine(**n) for n in notes]
    return PersonPage.of(
        found,
        trainer=trainer is not None and bool(trainer.active),
        manager=f"{manager_row.name} <{manager_row.email}>" if manager_row else "",
        notes=found.notes,
        upcoming=upcoming,
        waitlists=waitlists,
        past=past,
        completions=done,
        pathways=progress(found, on=today),
        notes_about=notes_about,
    )
