"""Booking, the waitlist and promotion, safe against concurrent writers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from store import approvals, mail_queue, offers
from store.access import enrolment_state, record, require
from store.clock import utcnow
from store.db import lock_for_update, write_transaction
from store.errors import RuleViolation, ValidationError
from store.models import Enrolment, EnrolmentNote, Person, Session
from store.people import get_person
from store.session_queries import session_status
from store.sessions import count_occupying, get_session
from store.settings import current_settings
from store.statuses import ACTIVE, WAITING_ON_SOMEONE
from store.visibility import can_see


@dataclass(frozen=True)
class BookingResult:
    """Where a booking landed."""

    enrolment: Enrolment
    status: str
    waitlist_position: int | None


def _lock(session_id: int | str) -> Session:
    get_session(session_id)
    return lock_for_update(Session.select().where(Session.id == int(session_id))).get()


lock_session = _lock
"""Lock a session row for a read-check-write rule (inside `write_transaction`)."""


def _enrolment(session: Session, person: Person) -> Enrolment | None:
    return Enrolment.get_or_none((Enrolment.session == session) & (Enrolment.person == person))


def waitlist(session: Session) -> list[Enrolment]:
    """The waitlisted enrolments of a session, first in line first."""
    return list(
        Enrolment.select()
        .where((Enrolment.session == session) & (Enrolment.status == "waitlisted"))
        .order_by(Enrolment.waitlist_position, Enrolment.id)
    )


def _next_position(session: Session) -> int:
    top = (
        Enrolment.select(peewee.fn.MAX(Enrolment.waitlist_position))
        .where((Enrolment.session == session) & (Enrolment.status == "waitlisted"))
        .scalar()
    )
    return (top or 0) + 1


def insert_waitlisted(
    session: Session, enrolment: Enrolment, joined: datetime, now: datetime
) -> int:
    """Put an enrolment on the waitlist at the place its `joined` time gives it."""
    ahead = (
        Enrolment.select()
        .where(
            (Enrolment.session == session)
            & (Enrolment.status == "waitlisted")
            & (Enrolment.waitlisted_at <= joined)
        )
        .count()
    )
    position = ahead + 1
    (
        Enrolment.update(waitlist_position=Enrolment.waitlist_position + 1, updated_at=now)
        .where(
            (Enrolment.session == session)
            & (Enrolment.status == "waitlisted")
            & (Enrolment.waitlist_position >= position)
        )
        .execute()
    )
    enrolment.status, enrolment.waitlist_position = "waitlisted", position
    enrolment.waitlisted_at, enrolment.updated_at = joined, now
    enrolment.save()
    return position


def _close_gap(session: Session, position: int) -> None:
    """Move everyone behind `position` one place up, keeping positions 1..n."""
    (
        Enrolment.update(waitlist_position=Enrolment.waitlist_position - 1, updated_at=utcnow())
        .where(
            (Enrolment.session == session)
            & (Enrolment.status == "waitlisted")
            & (Enrolment.waitlist_position > position)
        )
        .execute()
    )


def bump_sequence(session: Session, now: datetime) -> None:
    """Raise the session's SEQUENCE so the next calendar message outranks the ones sent."""
    session.sequence += 1
    session.updated_at = now
    session.save()


def add_note(enrolment: Enrolment, text: str, author: str = "rollcall") -> EnrolmentNote:
    """Append an entry to an enrolment's notes log."""
    return EnrolmentNote.create(enrolment=enrolment, author=author, text=text)


NOTE_MAX = 2000


def write_note(enrolment_id: int, text: str) -> EnrolmentNote:
    """A person writes a note on an enrolment (admins; trainers on their own sessions)."""
    text = text.strip()
    if not text:
        raise ValidationError("the note is empty", field="note")
    if len(text) > NOTE_MAX:
        raise ValidationError(f"note is longer than {NOTE_MAX} characters", field="note")
    with write_transaction():
        enrolment = Enrolment.get_by_id(enrolment_id)
        actor = require("note", session=enrolment.session_id)
        record("note", enrolment.session_id, enrolment.person, after={"note": text})
        return add_note(enrolment, text, actor.name)


def book(
    session_id: int | str,
    email: str,
    *,
    check_visibility: bool = True,
    allow_waitlist: bool = True,
    author: str = "rollcall",
    now: datetime | None = None,
    after_start: bool = False,
) -> BookingResult:
    """Put a person on a session, or on its waitlist when it is full.

    The capacity check and the insert happen in one serialised transaction,
    so capacity holds however many processes book at once. `check_visibility`
    is the learner's path; the admin's `enrol` skips it. `after_start` lets
    the admin record training under way or held (and the kiosk seat a walk-in):
    a started session is then joined, never waitlisted, no mail is sent, and the
    enrolment is flagged as recorded after the fact.
    """
    now = now or utcnow()
    with write_transaction():
        session = _lock(session_id)
        person = get_person(email)
        action = "book" if check_visibility else "enrol"
        require(action, session=session, person=person)
        if not person.active:
            raise RuleViolation(f"{person.email} is deactivated and cannot book", field="email")
        status = session_status(session, now)
        if status == "cancelled":
            raise RuleViolation(f"session {session.id} is cancelled", field="session")
        started = status in ("in_progress", "completed")
        if started and not after_start:
            raise RuleViolation(
                f"session {session.id} has already started and cannot be booked", field="session"
            )
        if started and session.finalised_at is not None:
            raise RuleViolation(
                f"attendance of session {session.id} is finalised and can no longer change",
                field="session",
            )
        if check_visibility and not can_see(person, session):
            raise RuleViolation(
                f"session {session.id} is not open to {person.email} "
                "(role, department or location)",
                field="session",
            )
        enrolment = _enrolment(session, person)
        before = enrolment_state(enrolment)
        if enrolment is not None and enrolment.status != "cancelled":
            raise RuleViolation(
                f"{person.email} is already {enrolment.status.replace('_', ' ')} "
                f"on session {session.id}",
                field="email",
            )
        if check_visibility and approvals.requires_approval(session):
            fields = {"updated_at": now, "calendar": "not_invited", "cancelled_at": None}
            enrolment = approvals.open_request(session, person, enrolment, fields)
            add_note(enrolment, "booked: requested (waiting for the manager)", author)
            return BookingResult(enrolment, "requested", None)
        full = (
            session.max_attendees is not None and count_occupying(session) >= session.max_attendees
        )
        # A free place with people waiting belongs to the first in line, not a newcomer.
        queue = bool(waitlist(session))
        if full or queue:
            if not allow_waitlist or started:
                raise RuleViolation(f"Session full: session {session.id}", field="session")
            new_status, position = "waitlisted", _next_position(session)
        else:
            new_status, position = "enrolled", None
        fields = {
            "status": new_status,
            "waitlist_position": position,
            "waitlisted_at": now if position else None,
            "calendar": "not_invited",
            "invited_at": None,
            "responded_at": None,
            "response_comment": None,
            "response_sequence": None,
            "response_dtstamp": None,
            "reminder_sent_at": None,
            "cancelled_at": None,
            "marked_at": None,
            "recorded_after": started,
            "updated_at": now,
        }
        if enrolment is None:
            enrolment = Enrolment.create(session=session, person=person, created_at=now, **fields)
        else:
            if enrolment.calendar != "not_invited":
                # Their calendar holds our CANCEL; a new REQUEST must outrank it.
                session.sequence += 1
                session.updated_at = now
                session.save()
            Enrolment.update(created_at=now, **fields).where(Enrolment.id == enrolment.id).execute()
            enrolment = Enrolment.get_by_id(enrolment.id)
        if started:
            # Training under way or held: nothing to confirm or invite to.
            add_note(enrolment, f"booked: {new_status} (recorded after the start)", author)
            return BookingResult(enrolment, new_status, position)
        add_note(enrolment, f"booked: {new_status}", author)
        record(action, session, person, before, enrolment_state(enrolment))
        mail_queue.enqueue(
            "confirmation" if new_status == "enrolled" else "waitlisted",
            session,
            person,
            enrolment=enrolment,
        )
        return BookingResult(enrolment, new_status, position)


def enrol(session_id: int | str, email: str, *, author: str = "admin") -> BookingResult:
    """The admin puts a person on a session: visibility does not apply, capacity does.

    A session that has started or ended may be enrolled on too, to record
    training that happened (flagged `recorded_after`); learners cannot book it.
    """
    return book(session_id, email, check_visibility=False, author=author, after_start=True)


def join_to_mark(
    session_id: int | str,
    email: str,
    *,
    author: str,
    check_visibility: bool = True,
    now: datetime | None = None,
) -> BookingResult:
    """Seat someone on a session under way so their attendance can be marked.

    A free place or a refusal, never the waitlist: the kiosk's walk-in, and an
    attendance import's row for a person not yet on the session.
    """
    return book(
        session_id,
        email,
        check_visibility=check_visibility,
        allow_waitlist=False,
        after_start=True,
        author=author,
        now=now,
    )


def unbook(
    session_id: int | str, email: str, *, author: str = "rollcall", reason: str = ""
) -> Enrolment:
    """Cancel a person's booking (or waitlist place); a freed place goes to the waitlist."""
    return cancel_booking(session_id, email, author=author, reason=reason).enrolment


@dataclass(frozen=True)
class Cancelled:
    """A cancelled booking and who the freed place went to (promoted or offered it)."""

    enrolment: Enrolment
    moved_up: list[Enrolment]


def cancel_booking(
    session_id: int | str, email: str, *, author: str = "rollcall", reason: str = ""
) -> Cancelled:
    """`unbook`, saying who moved up into the freed place, so it can be announced by name."""
    now = utcnow()
    with write_transaction():
        session = _lock(session_id)
        person = get_person(email)
        require("unbook", session=session, person=person)
        enrolment = _enrolment(session, person)
        if enrolment is None or enrolment.status not in (*ACTIVE, *WAITING_ON_SOMEONE):
            raise RuleViolation(
                f"{person.email} has no booking on session {session.id} to cancel", field="email"
            )
        if session_status(session, now) == "completed":
            raise RuleViolation(f"session {session.id} has already taken place", field="session")
        return _cancel_enrolment(session, enrolment, now, author=author, reason=reason)


def _cancel_enrolment(
    session: Session, enrolment: Enrolment, now: datetime, *, author: str, reason: str
) -> Cancelled:
    was, position = enrolment.status, enrolment.waitlist_position
    enrolment.status = "cancelled"
    enrolment.waitlist_position = None
    enrolment.cancelled_at = now
    enrolment.updated_at = now
    enrolment.save()
    add_note(enrolment, f"cancelled{': ' + reason if reason else ''}", author)
    record(
        "unbook",
        session,
        enrolment.person,
        {"status": was, "waitlist_position": position},
        {"status": "cancelled", "reason": reason},
    )
    if was == "waitlisted" and position is not None:
        _close_gap(session, position)
    if enrolment.calendar != "not_invited":
        # The removal CANCEL must outrank every REQUEST sent before it, and a
        # later re-invitation must outrank the CANCEL (RFC 5546 2.1.4; U2 in docs/itip-rules.md).
        bump_sequence(session, now)
    mail_queue.enqueue(
        "removal",
        session,
        enrolment.person,
        enrolment=enrolment,
        extra={"was": was, "invited": enrolment.calendar != "not_invited", "reason": reason},
    )
    if was in WAITING_ON_SOMEONE:
        offers.close_open(enrolment, "passed", now)
        approvals.withdraw(enrolment, now)
    moved_up = fill_free_places(session) if was in ("enrolled", "offered") else []
    return Cancelled(enrolment, moved_up)


def cancel_enrolment_for_decline(enrolment_id: int, author: str = "rsvp") -> Enrolment | None:
    """Cancel an enrolment because its holder declined (when decline cancels is on)."""
    now = utcnow()
    with write_transaction():
        enrolment = Enrolment.get_or_none(Enrolment.id == enrolment_id)
        if enrolment is None or enrolment.status not in ACTIVE:
            return None
        session = _lock(enrolment.session_id)
        cancelled = _cancel_enrolment(session, enrolment, now, author=author, reason="declined")
        return cancelled.enrolment


def _promote(
    session: Session, enrolment: Enrolment, now: datetime, author: str, action: str = "promote"
) -> None:
    position = enrolment.waitlist_position
    enrolment.status = "enrolled"
    enrolment.waitlist_position = None
    enrolment.updated_at = now
    enrolment.save()
    add_note(enrolment, "promoted from the waitlist", author)
    record(
        action,
        session,
        enrolment.person,
        {"status": "waitlisted", "waitlist_position": position},
        {"status": "enrolled"},
    )
    if position is not None:
        _close_gap(session, position)
    mail_queue.enqueue("promoted", session, enrolment.person, enrolment=enrolment)


def fill_free_places(session: Session, *, author: str = "rollcall") -> list[Enrolment]:
    """With auto-promotion on, enrol the first in line while places are free.

    With offers on (`offer_hours`), the first in line is offered the place instead.
    """
    if offers.offer_hours_of(session) and session.cancelled_at is None:
        return offers.offer_free_places(session, author=author)
    if not current_settings().auto_promote or session.cancelled_at is not None:
        return []
    now = utcnow()
    if session_status(session, now) == "completed":
        return []
    promoted = []
    for enrolment in waitlist(session):
        if session.max_attendees is not None and count_occupying(session) >= session.max_attendees:
            break
        _promote(session, enrolment, now, author, "promote.auto")
        promoted.append(enrolment)
    return promoted


def promote(session_id: int | str, email: str, *, author: str = "admin") -> Enrolment:
    """Move a waitlisted person onto the session, if a place is free."""
    now = utcnow()
    with write_transaction():
        session = _lock(session_id)
        require("promote", session=session)
        person = get_person(email)
        enrolment = _enrolment(session, person)
        if enrolment is None or enrolment.status != "waitlisted":
            raise RuleViolation(
                f"{person.email} is not on the waitlist of session {session.id}", field="email"
            )
        if session_status(session, now) in ("completed", "cancelled"):
            raise RuleViolation(f"session {session.id} is no longer open", field="session")
        taken = count_occupying(session)
        if session.max_attendees is not None and taken >= session.max_attendees:
            raise RuleViolation(
                f"Session full: {taken} of {session.max_attendees} places are taken; "
                "raise max first",
                field="session",
            )
        _promote(session, enrolment, now, author)
        return enrolment


def free_places(session: Session) -> int | None:
    """Places left (None for unlimited)."""
    if session.max_attendees is None:
        return None
    return max(0, session.max_attendees - count_occupying(session))
