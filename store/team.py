"""A manager's team, read only: the bookings, attendance and renewals of the people who
report to them (SPEC §6, the manager role)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import peewee

from store.access import NotAllowed, current_actor, refusal
from store.clock import utcnow
from store.completions import DueRow, due_for_renewal
from store.errors import ValidationError
from store.models import Enrolment, Person, Session
from store.people import get_person
from store.rows import json_fields, picked
from store.statuses import ACTIVE, MARKED, WAITING_ON_SOMEONE

ATTENDANCE_DAYS = 365
"""How far back the team's attendance goes."""
DUE_DAYS = 60
"""Renewals expired or expiring within this many days."""
BOOKED = (*ACTIVE, *WAITING_ON_SOMEONE)
"""A booking still open: enrolled, waitlisted, waiting for a manager or holding an offer."""


@dataclass(frozen=True)
class TeamMember:
    """One person who reports to the manager, with their training in numbers."""

    person_id: int
    name: str
    email: str
    department: str
    booked: int
    """Sessions to come they are booked, waitlisted, requested or offered on."""
    attended: int
    no_shows: int
    """Both over the last `ATTENDANCE_DAYS` days."""
    due: int
    """Courses and e-learning due for renewal (expired or within `DUE_DAYS` days)."""


@dataclass(frozen=True)
class TeamBooking:
    """A team member on a session: a booking to come, or attendance already marked."""

    email: str
    name: str
    session_id: int
    title: str
    start: datetime
    status: str
    calendar: str
    waitlist_position: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return json_fields(self)


@dataclass(frozen=True)
class Team:
    """Everything the manager's Team area shows."""

    manager: str
    members: list[TeamMember]
    bookings: list[TeamBooking]
    attendance: list[TeamBooking]
    due: list[DueRow]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (`rollcall team --json`)."""
        return {
            "manager": self.manager,
            "members": [
                json_fields(
                    m, "email", "name", "department", "booked", "attended", "no_shows", "due"
                )
                for m in self.members
            ],
            "bookings": [b.as_dict() for b in self.bookings],
            "attendance": [a.as_dict() for a in self.attendance],
            "due": [d.as_dict() for d in self.due],
        }


def team_manager(email: str | None = None) -> Person:
    """The manager whose team to show: the acting person, or the one an admin names.

    Anyone but an admin sees their own team only.
    """
    actor = current_actor()
    if email is None or not email.strip():
        if actor.person_id is None:
            raise ValidationError("manager: give the manager's email", field="manager")
        return Person.get_by_id(actor.person_id)
    person = get_person(email, field="manager")
    if actor.role != "admin" and person.id != actor.person_id:
        raise NotAllowed(f"{refusal(actor)}: only your own team")
    return person


def _team_sessions(manager: Person, statuses: tuple[str, ...]) -> peewee.ModelSelect:
    return (
        Enrolment.select(
            Person.name,
            Person.email,
            Session.id.alias("session_id"),
            Session.title,
            Session.start,
            Enrolment.status,
            Enrolment.calendar,
            Enrolment.waitlist_position,
        )
        .join(Person)
        .switch(Enrolment)
        .join(Session)
        .where((Person.manager == manager.id) & Enrolment.status.in_(statuses))
    )


def _bookings(query: peewee.ModelSelect) -> list[TeamBooking]:
    return [TeamBooking(**r) for r in query.dicts()]


def team(manager: Person, *, now: datetime | None = None) -> Team:
    """The people who report to `manager`, their bookings to come, last year's attendance
    and their renewals due, in a fixed number of queries."""
    now = now or utcnow()
    since = now - timedelta(days=ATTENDANCE_DAYS)
    people = list(
        Person.select().where(Person.manager == manager.id).order_by(Person.name, Person.id)
    )
    bookings = _bookings(
        _team_sessions(manager, BOOKED)
        .where((Session.end > now) & Session.cancelled_at.is_null())
        .order_by(Session.start, Person.name)
    )
    attendance = _bookings(
        _team_sessions(manager, MARKED)
        .where(Session.start >= since)
        .order_by(Session.start.desc(), Person.name)
    )
    due = due_for_renewal(DUE_DAYS, manager=manager.id)
    booked = Counter(b.email for b in bookings)
    marked = Counter((a.email, a.status) for a in attendance)
    renewals = Counter(d.email for d in due)
    members = [
        TeamMember(
            person_id=p.id,
            **picked(p, "name", "email", "department"),
            booked=booked[p.email],
            attended=marked[(p.email, "attended")],
            no_shows=marked[(p.email, "no_show")],
            due=renewals[p.email],
        )
        for p in people
    ]
    return Team(manager.email, members, bookings, attendance, due)
