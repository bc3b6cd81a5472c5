"""Attendance: mark attended or no-show, completions with expiry, finalise."""

from __future__ import annotations

from datetime import date, datetime

from dateutil.relativedelta import relativedelta

from store.access import record, require
from store.booking import add_note
from store.clock import utcnow
from store.db import lock_for_update, write_transaction
from store.errors import RuleViolation, ValidationError
from store.models import Completion, Enrolment, Session
from store.people import get_person
from store.session_queries import session_status
from store.sessions import get_session
from store.settings import current_settings
from store.statuses import MARKED

MARKS = {"attended": "attended", "no-show": "no_show", "no_show": "no_show"}


def completion_dates(session: Session) -> tuple[date, date | None]:
    """The completion date (local day of the session) and its expiry, if the session sets one."""
    day = session.start.astimezone(current_settings().zone).date()
    expires = day + relativedelta(months=session.expiry_months) if session.expiry_months else None
    return day, expires


def marking_refusal(
    session: Session, now: datetime, opens_at: datetime | None = None
) -> str | None:
    """Why attendance of `session` cannot be marked at `now`, or None when it can.

    Marking opens at the start, or at `opens_at` (the kiosk's check-in window), and
    closes when the session is cancelled or its attendance finalised.
    """
    status = session_status(session, now)
    if status == "cancelled":
        return f"session {session.id} is cancelled"
    if session.finalised_at is not None:
        return f"attendance of session {session.id} is finalised and can no longer change"
    if status == "scheduled" and (opens_at is None or now < opens_at):
        return f"session {session.id} has not started yet; attendance opens at its start"
    return None


def _open_for_marking(
    session_id: int | str, now: datetime, opens_at: datetime | None = None
) -> Session:
    """The session locked for a mark; `opens_at` lets marking start before the start (kiosk)."""
    get_session(session_id)
    session = lock_for_update(Session.select().where(Session.id == int(session_id))).get()
    refusal = marking_refusal(session, now, opens_at)
    if refusal is not None:
        raise RuleViolation(refusal, field="session")
    return session


def mark(
    session_id: int | str,
    email: str,
    outcome: str,
    *,
    author: str = "admin",
    opens_at: datetime | None = None,
) -> Enrolment:
    """Mark an enrolled person attended or no-show; attended creates the completion.

    Reversible (mark again, or `unmark`) until the session is finalised.
    Marking opens at the start, or at `opens_at` (the kiosk's check-in window).
    """
    status = MARKS.get(outcome)
    if status is None:
        raise ValidationError(f"mark must be attended or no-show, got {outcome!r}", field="mark")
    return _change_mark(
        session_id,
        email,
        status,
        allowed=("enrolled", "attended", "no_show"),
        refusal="is not enrolled on",
        note=f"marked {status.replace('_', '-')}",
        author=author,
        opens_at=opens_at,
    )


def unmark(session_id: int | str, email: str, *, author: str = "admin") -> Enrolment:
    """Take back an attended / no-show mark (the person is enrolled again)."""
    return _change_mark(
        session_id,
        email,
        "enrolled",
        allowed=MARKED,
        refusal="has no attendance mark on",
        note="attendance mark removed",
        author=author,
    )


def _change_mark(
    session_id: int | str,
    email: str,
    status: str,
    *,
    allowed: tuple[str, ...],
    refusal: str,
    note: str,
    author: str,
    opens_at: datetime | None = None,
) -> Enrolment:
    now = utcnow()
    with write_transaction():
        session = _open_for_marking(session_id, now, opens_at)
        require("register", session=session)
        person = get_person(email)
        enrolment = Enrolment.get_or_none(
            (Enrolment.session == session) & (Enrolment.person == person)
        )
        if enrolment is None or enrolment.status not in allowed:
            raise RuleViolation(f"{person.email} {refusal} session {session.id}", field="email")
        if enrolment.status == status:
            return enrolment
        record("mark", session, person, {"status": enrolment.status}, {"status": status})
        enrolment.status = status
        enrolment.marked_at = None if status == "enrolled" else now
        enrolment.updated_at = now
        enrolment.save()
        add_note(enrolment, note, author)
        _sync_completion(session, enrolment)
        return enrolment


def _sync_completion(session: Session, enrolment: Enrolment) -> None:
    existing = Completion.select().where(
        (Completion.session == session) & (Completion.person == enrolment.person_id)
    )
    if enrolment.status != "attended":
        Completion.delete().where(Completion.id.in_(existing)).execute()
        return
    if existing.exists():
        return
    day, expires = completion_dates(session)
    Completion.create(
        person=enrolment.person_id,
        course=session.course_id,
        session=session,
        completed_on=day,
        expires_on=expires,
        source="attendance",
    )


def finalise(session_id: int | str, *, author: str = "admin") -> Session:
    """Close the register: marks can no longer change and the session is completed.

    Refused while someone enrolled is still unmarked; people still waitlisted
    are cancelled (they never got a place).
    """
    now = utcnow()
    with write_transaction():
        session = _open_for_marking(session_id, now)
        require("register", session=session)
        unmarked = (
            Enrolment.select()
            .where((Enrolment.session == session) & (Enrolment.status == "enrolled"))
            .count()
        )
        if unmarked:
            raise RuleViolation(
                f"{unmarked} attendee(s) of session {session.id} are not marked yet; "
                "mark each attended or no-show first",
                field="session",
            )
        waiting = Enrolment.select().where(
            (Enrolment.session == session) & (Enrolment.status == "waitlisted")
        )
        for enrolment in waiting:
            add_note(enrolment, "session finalised; waitlist place lapsed", author)
        (
            Enrolment.update(
                status="cancelled", waitlist_position=None, cancelled_at=now, updated_at=now
            )
            .where((Enrolment.session == session) & (Enrolment.status == "waitlisted"))
            .execute()
        )
        session.finalised_at = now
        session.updated_at = now
        session.save()
        record("finalise", session, after={"finalised_at": now, "waitlist_lapsed": len(waiting)})
        return session
