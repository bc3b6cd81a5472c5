"""Self check-in at the door: the window around the start and `kiosk_check_in`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from store import validate
from store.access import KIOSK, as_actor
from store.attendance import mark
from store.booking import free_places, join_to_mark, waitlist
from store.clock import utcnow
from store.db import write_transaction
from store.errors import RuleViolation, ValidationError
from store.models import Enrolment, Person, Session
from store.sessions import get_session
from store.settings import Settings, current_settings
from store.textkey import fold
from store.visibility import can_see

ACTOR = "kiosk"
"""Who the enrolment notes (and the audit, where there is one) name for kiosk changes."""


@dataclass(frozen=True)
class KioskWindow:
    """When the kiosk of a session accepts check-ins."""

    opens: datetime
    closes: datetime

    def state(self, now: datetime) -> str:
        """``early``, ``open`` or ``closed`` at `now`."""
        if now < self.opens:
            return "early"
        return "open" if now <= self.closes else "closed"


@dataclass(frozen=True)
class CheckIn:
    """What a check-in did: ``checked_in``, ``already`` (checked in before) or ``can_join``."""

    outcome: str
    name: str
    email: str
    joined: bool = False
    """The person was not on the session and joined it at the door."""


def kiosk_window(session: Session, settings: Settings | None = None) -> KioskWindow:
    """From `kiosk_opens_minutes` before the start to `kiosk_closes_minutes` after (or the end)."""
    settings = settings or current_settings()
    opens = session.start - timedelta(minutes=settings.kiosk_opens_minutes)
    if settings.kiosk_closes_minutes:
        closes = session.start + timedelta(minutes=settings.kiosk_closes_minutes)
    else:
        closes = session.end
    return KioskWindow(opens, closes)


def find_attendee(identifier: str) -> Person | None:
    """The person whose email or staff number this is (case and spaces ignored)."""
    key = validate.clean_text(identifier).lower()
    if not key:
        return None
    found = Person.get_or_none(Person.email_key == fold(key))
    if found is not None:
        return found
    matches = list(Person.select().where(peewee.fn.LOWER(Person.staff_number) == key).limit(2))
    # Two people sharing a number cannot be told apart at the door.
    return matches[0] if len(matches) == 1 else None


def open_kiosk_session(session_id: int | str) -> Session:
    """The session a kiosk may be opened for: not cancelled, register not finalised."""
    session = get_session(session_id)
    if session.cancelled_at is not None:
        raise RuleViolation(f"session {session.id} is cancelled", field="session")
    if session.finalised_at is not None:
        raise RuleViolation(
            f"attendance of session {session.id} is finalised; no check-in", field="session"
        )
    return session


def _can_join(session: Session, person: Person) -> bool:
    """Visibility and a free place, with nobody waiting for it (the booking rule's terms)."""
    if not person.active or not can_see(person, session):
        return False
    free = free_places(session)
    return (free is None or free > 0) and not waitlist(session)


@as_actor(KIOSK)
def kiosk_check_in(
    session_id: int | str, identifier: str, *, join: bool = False, now: datetime | None = None
) -> CheckIn:
    """Mark the person typed at the kiosk (email or staff number) attended.

    Inside the session's kiosk window only. Someone not enrolled is refused,
    or told they `can_join` when a place is free and the session is open to
    them; called again with ``join=True`` they book it (the learner's rule)
    and are marked attended, in one transaction. The audit log names the actor ``kiosk``.
    """
    now = now or utcnow()
    if not validate.clean_text(identifier):
        raise ValidationError("type your email or staff number", field="identifier")
    with write_transaction():
        session = open_kiosk_session(session_id)
        window = kiosk_window(session)
        state = window.state(now)
        zone = current_settings().zone
        if state == "early":
            opens = window.opens.astimezone(zone)
            raise RuleViolation(
                f"check-in opens at {opens:%H:%M} on {opens:%a} {opens.day} {opens:%b}",
                field="time",
            )
        if state == "closed":
            raise RuleViolation("check-in for this session has closed", field="time")
        person = find_attendee(identifier)
        if person is None:
            raise RuleViolation(
                "we could not find that email or staff number; please see the trainer",
                field="identifier",
            )
        enrolment = Enrolment.get_or_none(
            (Enrolment.session == session) & (Enrolment.person == person)
        )
        status = enrolment.status if enrolment is not None else "cancelled"
        if status == "attended":
            return CheckIn("already", person.name, person.email)
        joined = False
        if status == "waitlisted":
            raise RuleViolation(
                "you are on the waitlist for this session; please see the trainer",
                field="identifier",
            )
        if status == "cancelled":
            if not _can_join(session, person):
                raise RuleViolation(
                    "you are not booked on this session; please see the trainer",
                    field="identifier",
                )
            if not join:
                return CheckIn("can_join", person.name, person.email)
            join_to_mark(session.id, person.email, author=ACTOR, now=now)
            joined = True
        mark(session.id, person.email, "attended", author=ACTOR, opens_at=window.opens)
        return CheckIn("checked_in", person.name, person.email, joined=joined)
