"""Read models for the screens: pages of rows, change stamps and pick lists (read-only)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Self, Unpack

import peewee

from store import textkey, validate
from store.clock import utcnow
from store.models import (
    Enrolment,
    EnrolmentNote,
    Material,
    Outbox,
    Person,
    Session,
    Trainer,
)
from store.rows import picked
from store.session_queries import NO_TRAINER as NO_TRAINER
from store.session_queries import SessionFilters, counts_for, filter_sessions, session_status
from store.visibility import rules_of


@dataclass(frozen=True)
class SessionRow:
    """One line of the calendar list."""

    id: int
    title: str
    start: datetime
    end: datetime
    type: str
    trainer: str
    max_attendees: int | None
    taken: int
    waitlisted: int
    status: str
    trainer_calendar: str = "not_invited"
    """The trainer's answer to their invitation (an enrolment's calendar states)."""
    location: str | None = None
    """The place of an in-person session (None for an online one)."""

    @property
    def place(self) -> str:
        """Where it happens: the place, or "online"."""
        return "online" if self.type == "online" else (self.location or "")

    @property
    def full(self) -> bool:
        """True when every place is taken."""
        return self.max_attendees is not None and self.taken >= self.max_attendees


@dataclass(frozen=True)
class SessionPage:
    """A window of the calendar list and how many rows match in all."""

    offset: int
    rows: list[SessionRow]
    total: int
    exact: bool = True
    """False when `total` is only a lower bound: the page was read without counting."""


def session_page(
    *,
    offset: int = 0,
    limit: int = 100,
    now: datetime | None = None,
    count: bool = True,
    **filters: Unpack[SessionFilters],
) -> SessionPage:
    """Sessions in start order from `offset`, with counts, trainer name and status.

    Only `limit` rows are read, so the cost stays flat however many sessions exist.
    With ``count=False`` the matching rows are not counted (a search's count scans
    every session, the window usually stops early): `total` is then exact only when
    the window reached the end, else a lower bound and `exact` is False; the caller
    counts afterwards with `count_sessions`.
    """
    now = now or utcnow()
    base = filter_sessions(Session.select(Session.id), now, filters)
    if count:
        total = base.count()
        offset = max(0, min(offset, max(0, total - 1)))
    trainer_person = Person.alias("trainer_person")
    # The window is cut from the (start, id) index alone; joining only its rows spares
    # joining every row the offset skips (PostgreSQL joined 49,000 rows for 60).
    window = (
        base.order_by(Session.start, Session.id).offset(offset).limit(limit if count else limit + 1)
    )
    query = (
        Session.select(
            Session.id,
            Session.title,
            Session.start,
            Session.end,
            Session.type,
            Session.location,
            Session.max_attendees,
            Session.cancelled_at,
            Session.finalised_at,
            Session.trainer_calendar,
            trainer_person.name.alias("trainer_name"),
        )
        .join(Trainer, peewee.JOIN.LEFT_OUTER, on=(Session.trainer == Trainer.id))
        .join(trainer_person, peewee.JOIN.LEFT_OUTER, on=(Trainer.person == trainer_person.id))
        .where(Session.id.in_(window))
        .order_by(Session.start, Session.id)
    )
    sessions = list(query.objects())
    exact = True
    if not count:
        # One row past the window tells whether anything follows it.
        exact = len(sessions) <= limit
        sessions = sessions[:limit]
        total = offset + len(sessions) + (0 if exact else 1)
    counts = counts_for([s.id for s in sessions])
    rows = []
    for s in sessions:
        c = counts[s.id]
        rows.append(
            SessionRow(
                **picked(s, "id", "title", "start", "end", "type", "max_attendees"),
                trainer=getattr(s, "trainer_name", None) or "",
                taken=c.get("enrolled", 0) + c.get("attended", 0) + c.get("no_show", 0),
                waitlisted=c.get("waitlisted", 0),
                status=session_status(s, now),
                **picked(s, "trainer_calendar", "location"),
            )
        )
    return SessionPage(offset=offset, rows=rows, total=total, exact=exact)


def count_sessions(*, now: datetime | None = None, **filters: Unpack[SessionFilters]) -> int:
    """How many sessions match the filters of `session_page`."""
    return int(filter_sessions(Session.select(Session.id), now or utcnow(), filters).count())


def index_of_session(
    session_id: int, *, now: datetime | None = None, **filters: Unpack[SessionFilters]
) -> int | None:
    """The row number of a session in the filtered list (None when filtered out)."""
    now = now or utcnow()
    target = Session.get_or_none(Session.id == session_id)
    if target is None:
        return None
    base = filter_sessions(Session.select(Session.id), now, filters)
    if not base.where(Session.id == session_id).exists():
        return None
    before = base.where(
        (Session.start < target.start)
        | ((Session.start == target.start) & (Session.id < target.id))
    )
    return int(before.count())


def first_upcoming_index(now: datetime | None = None) -> int:
    """Row number of the first session that has not ended (where the home list starts)."""
    now = now or utcnow()
    return int(Session.select(Session.id).where(Session.end <= now).count())


def first_window(size: int, now: datetime | None = None) -> tuple[SessionPage, int]:
    """The unfiltered list's window of `size` rows around its first session not ended.

    Returns the page and the row of that session: what the home list shows first.
    """
    now = now or utcnow()
    cursor = first_upcoming_index(now)
    offset = max(0, cursor - size // 3)
    # A window at the top needs no count to be placed (the caller counts afterwards).
    return session_page(offset=offset, limit=size, now=now, count=offset > 0), cursor


@dataclass(frozen=True)
class AttendeeRow:
    """One enrolment as the session page lists it."""

    enrolment_id: int
    email: str
    name: str
    department: str
    status: str
    calendar: str
    invited_at: datetime | None
    responded_at: datetime | None
    comment: str | None
    waitlist_position: int | None
    notes: int
    offer_expires_at: datetime | None = None
    """While offered: when the held place passes to the next in line."""
    mail_waiting: bool = False
    """Mail to this person about the session waits in the outbox: no server accepted it yet."""


@dataclass(frozen=True)
class SessionOutline:
    """What a session is, when it runs and where: shown by its page and the learner's calendar."""

    title: str
    description: str
    start: datetime
    end: datetime
    type: str
    location: str | None
    online_url: str | None


def outline_of(session: Session) -> dict[str, Any]:
    """The `SessionOutline` fields of `session`, as keyword arguments."""
    return picked(session, *(f.name for f in fields(SessionOutline)))


@dataclass(frozen=True)
class SessionDetail(SessionOutline):
    """Everything the session page shows."""

    id: int
    course: str
    trainer: str
    max_attendees: int | None
    expiry_months: int | None
    status: str
    trainer_calendar: str
    trainer_responded_at: datetime | None
    trainer_comment: str | None
    cancel_reason: str | None
    finalised: bool
    visibility: dict[str, list[str]]
    materials: list[tuple[str, str]]
    attendees: list[AttendeeRow]
    waitlist: list[AttendeeRow]
    stamp: tuple[str, int]
    trainer_person_id: int | None = None
    """The trainer's person (who may take this register), if any."""

    @property
    def taken(self) -> int:
        """Places taken (enrolled, attended, no-show, or held for an offer)."""
        return sum(1 for a in self.attendees if a.status != "requested")


ATTENDEE_ORDER = {"enrolled": 0, "attended": 1, "no_show": 2}


def session_detail(session_id: int, now: datetime | None = None) -> SessionDetail | None:
    """The session, its materials and its people in a handful of queries; None if gone."""
    now = now or utcnow()
    session = Session.get_or_none(Session.id == session_id)
    if session is None:
        return None
    trainer = ""
    if session.trainer_id:
        trainer = session.trainer.person.name
    note_counts = (
        EnrolmentNote.select(peewee.fn.COUNT(EnrolmentNote.id))
        .where(EnrolmentNote.enrolment == Enrolment.id)
        .alias("note_count")
    )
    rows = (
        Enrolment.select(
            Enrolment.id,
            Enrolment.status,
            Enrolment.calendar,
            Enrolment.invited_at,
            Enrolment.responded_at,
            Enrolment.response_comment,
            Enrolment.waitlist_position,
            Enrolment.offer_expires_at,
            Person.email,
            Person.name,
            Person.department,
            note_counts,
        )
        .join(Person)
        .where((Enrolment.session == session_id) & (Enrolment.status != "cancelled"))
        .order_by(Person.name, Enrolment.id)
        .objects()
    )
    unsent = {
        enrolment_id
        for (enrolment_id,) in Outbox.select(Outbox.enrolment)
        .where(
            (Outbox.session == session_id)
            & Outbox.enrolment.is_null(False)
            & (Outbox.status != "sent")
        )
        .distinct()
        .tuples()
    }
    attendees: list[AttendeeRow] = []
    waiting: list[AttendeeRow] = []
    for e in rows:
        row = AttendeeRow(
            enrolment_id=e.id,
            email=e.email,
            name=e.name,
            department=e.department,
            status=e.status,
            calendar=e.calendar,
            invited_at=e.invited_at,
            responded_at=e.responded_at,
            comment=e.response_comment,
            waitlist_position=e.waitlist_position,
            notes=e.note_count,
            offer_expires_at=e.offer_expires_at,
            mail_waiting=e.id in unsent,
        )
        (waiting if e.status == "waitlisted" else attendees).append(row)
    waiting.sort(key=lambda r: (r.waitlist_position or 0, r.enrolment_id))
    materials = [
        (m.name, m.url)
        for m in Material.select().where(Material.session == session).order_by(Material.position)
    ]
    return SessionDetail(
        **outline_of(session),
        id=session.id,
        course=session.course.title,
        trainer=trainer,
        **picked(session, "max_attendees", "expiry_months", "trainer_calendar"),
        status=session_status(session, now),
        trainer_responded_at=session.trainer_responded_at,
        trainer_comment=session.trainer_response_comment,
        cancel_reason=session.cancel_reason,
        finalised=session.finalised_at is not None,
        visibility=rules_of(session),
        materials=materials,
        attendees=attendees,
        waitlist=waiting,
        stamp=session_stamp(session_id),
        trainer_person_id=session.trainer.person_id if session.trainer_id else None,
    )


def session_stamp(session_id: int) -> tuple[str, int]:
    """A cheap fingerprint of a session and its enrolments; it changes when either does."""
    latest, count = (
        Enrolment.select(peewee.fn.MAX(Enrolment.updated_at), peewee.fn.COUNT(Enrolment.id))
        .where(Enrolment.session == session_id)
        .tuples()
        .get()
    )
    notes = (
        EnrolmentNote.select(peewee.fn.COUNT(EnrolmentNote.id))
        .join(Enrolment)
        .where(Enrolment.session == session_id)
        .scalar()
    )
    updated = Session.select(Session.updated_at).where(Session.id == session_id).scalar()
    return (f"{latest}|{updated}", int(count or 0) * 1_000_003 + int(notes or 0))


def enrolment_notes(enrolment_id: int) -> list[tuple[datetime, str, str]]:
    """An enrolment's notes log, oldest first: (when, author, text)."""
    return [
        (n.created_at, n.author, n.text)
        for n in EnrolmentNote.select()
        .where(EnrolmentNote.enrolment == enrolment_id)
        .order_by(EnrolmentNote.created_at, EnrolmentNote.id)
    ]


@dataclass(frozen=True)
class TrainerChoice:
    """A registered trainer as pick lists show it."""

    id: int
    email: str
    name: str
    active: bool
    upcoming: int


def trainer_choices(
    *, active_only: bool = True, search: str = "", count_upcoming: bool = True
) -> list[TrainerChoice]:
    """Registered trainers by name, with how many sessions each has coming up.

    With ``count_upcoming=False`` `upcoming` is 0: a pick list that shows names only skips
    counting (it reads every coming session of every trainer).
    """
    now = utcnow()
    upcoming = (
        Session.select(peewee.fn.COUNT(Session.id))
        .where(
            (Session.trainer == Trainer.id) & (Session.start > now) & Session.cancelled_at.is_null()
        )
        .alias("upcoming")
        if count_upcoming
        else peewee.Value(0).alias("upcoming")
    )
    query = (
        Trainer.select(Trainer.id, Trainer.active, Person.email, Person.name, upcoming)
        .join(Person)
        .order_by(Person.name, Trainer.id)
    )
    if active_only:
        query = query.where(Trainer.active == True)  # noqa: E712
    text = validate.clean_text(search)
    if text:
        query = query.where(textkey.contains(Person.search_key, text))
    return [
        TrainerChoice(id=t.id, email=t.email, name=t.name, active=t.active, upcoming=t.upcoming)
        for t in query.objects()
    ]


def known_values(dimension: str) -> list[str]:
    """Distinct job roles, departments or locations of people and visibility rules."""
    column = {
        "role": Person.job_role,
        "department": Person.department,
        "location": Person.location,
    }[dimension]
    values = {v for (v,) in Person.select(column).distinct().tuples() if v}
    from store.models import SessionVisibility

    values |= {
        v
        for (v,) in SessionVisibility.select(SessionVisibility.value)
        .where(SessionVisibility.dimension == dimension)
        .distinct()
        .tuples()
    }
    return sorted(values, key=textkey.fold)


@dataclass(frozen=True)
class PersonRow:
    """One line of the people list."""

    id: int
    email: str
    name: str
    department: str
    role: str
    location: str
    active: bool
    trainer: bool

    @classmethod
    def of(cls, p: Person, *, trainer: bool = False, **more: Any) -> Self:
        """The row of person `p`; `trainer` says whether they train (an active trainer).

        `more` are the fields a subclass adds (the person page's).
        """
        return cls(
            id=p.id,
            email=p.email,
            name=p.name,
            department=p.department,
            role=p.job_role,
            location=p.location,
            active=p.active,
            trainer=trainer,
            **more,
        )


def people_page(
    search: str = "", *, offset: int = 0, limit: int = 200, active_only: bool = False
) -> tuple[list[PersonRow], int]:
    """A window of people by name matching `search`, and how many match in all."""
    from store.people import people_query

    base = people_query(search, active_only=active_only)
    total = base.count()
    query = (
        base.select(Person, Trainer.id.alias("trainer_id"), Trainer.active.alias("trainer_active"))
        .join(Trainer, peewee.JOIN.LEFT_OUTER, on=(Trainer.person == Person.id))
        .offset(max(0, offset))
        .limit(limit)
        .objects()
    )
    rows = [
        PersonRow.of(p, trainer=bool(getattr(p, "trainer_id", None)) and bool(p.trainer_active))
        for p in query
    ]
    return rows, total


def people_to_add(session_id: int, search: str, limit: int = 50) -> list[PersonRow]:
    """Active people matching `search` (name, email, department) not already on the session."""
    from store.people import people_query

    already = Enrolment.select(Enrolment.person).where(
        (Enrolment.session == session_id) & (Enrolment.status != "cancelled")
    )
    query = people_query(search, active_only=True).where(Person.id.not_in(already)).limit(limit)
    return [PersonRow.of(p) for p in query]


@dataclass(frozen=True)
class Declined:
    """Someone who declined the session's invitation (their place may be gone already)."""

    name: str
    email: str
    responded_at: datetime | None
    status: str
    """``cancelled`` when the decline gave the place up (``decline_cancels``)."""


def declined_of(session_id: int) -> list[Declined]:
    """Everyone who declined the invitation to a session, most recent answer first."""
    query = (
        Enrolment.select(Enrolment.status, Enrolment.responded_at, Person.name, Person.email)
        .join(Person)
        .where((Enrolment.session == session_id) & (Enrolment.calendar == "declined"))
        .order_by(Enrolment.responded_at.desc(nulls="LAST"), Enrolment.id)
    )
    return [Declined(e.person.name, e.person.email, e.responded_at, e.status) for e in query]


@dataclass(frozen=True)
class TrainerDecline:
    """An upcoming session whose trainer declined and that still has them assigned."""

    session_id: int
    title: str
    start: datetime
    trainer: str


def trainer_declines(now: datetime | None = None) -> list[TrainerDecline]:
    """Sessions not yet started, not cancelled, whose trainer declined: someone must step in."""
    now = now or utcnow()
    rows = (
        Session.select(Session.id, Session.title, Session.start, Person.name)
        .join(Trainer, on=(Session.trainer == Trainer.id))
        .join(Person, on=(Trainer.person == Person.id))
        .where(
            (Session.trainer_calendar == "declined")
            & (Session.start > now)
            & Session.cancelled_at.is_null()
        )
        .order_by(Session.start, Session.id)
        .limit(50)
        .tuples()
    )
    return [
        TrainerDecline(sid, title, Session.start.python_value(start), name)
        for sid, title, start, name in rows
    ]
