"""Offers driven by RSVP (SPEC §7): a freed place held for the first in line until a deadline.

With `offer_hours` on (the setting, or the session's own value), a freed place
is not handed over: the first waitlisted person becomes ``offered`` and gets an
invitation saying the place is theirs if they accept by the deadline. The
offered place counts against capacity. Accepting (calendar reply or the app)
enrols them; declining, or the deadline passing, gives the place to the next.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from store import mail_queue
from store.clock import utcnow
from store.db import write_transaction
from store.errors import RuleViolation
from store.models import Enrolment, Session
from store.people import get_person
from store.serialize import iso
from store.session_queries import session_status
from store.sessions import count_occupying
from store.settings import current_settings
from store.workflow_models import Offer


def offer_hours_of(session: Session) -> int:
    """Hours a freed place of `session` is held for an offer; 0 when offers are off."""
    if session.offer_hours is not None:
        return int(session.offer_hours)
    return current_settings().offer_hours


def offer_free_places(
    session: Session,
    *,
    author: str = "rollcall",
    freed_at: datetime | None = None,
    now: datetime | None = None,
) -> list[Enrolment]:
    """Offer each free place to the next in line (call inside the session's lock)."""
    from store.booking import waitlist

    now = now or utcnow()
    if session_status(session, now) != "scheduled":
        return []
    hours = offer_hours_of(session)
    made = []
    for enrolment in waitlist(session):
        if session.max_attendees is not None and count_occupying(session) >= session.max_attendees:
            break
        _make_offer(session, enrolment, now, freed_at or now, hours, author)
        made.append(enrolment)
    return made


def _make_offer(
    session: Session,
    enrolment: Enrolment,
    now: datetime,
    freed_at: datetime,
    hours: int,
    author: str,
) -> None:
    from store.booking import _close_gap, add_note

    position = enrolment.waitlist_position
    # The holder must have time to answer, but an offer never outlives the start.
    deadline = min(now + timedelta(hours=hours), session.start)
    enrolment.status, enrolment.waitlist_position = "offered", None
    enrolment.offer_expires_at, enrolment.updated_at = deadline, now
    enrolment.calendar, enrolment.invited_at = "invited", now
    enrolment.responded_at = enrolment.response_dtstamp = enrolment.response_sequence = None
    enrolment.save()
    if position is not None:
        _close_gap(session, position)
    Offer.create(
        enrolment=enrolment, session=session, offered_at=now, freed_at=freed_at, expires_at=deadline
    )
    add_note(enrolment, f"offered the place until {iso(deadline)}", author)
    mail_queue.enqueue(
        "offer", session, enrolment.person, enrolment=enrolment, extra=_deadline(deadline)
    )


def _deadline(deadline: datetime) -> dict[str, Any]:
    return {"offer_expires_at": iso(deadline)}


def _open_offer(enrolment: Enrolment) -> Offer | None:
    return (
        Offer.select()
        .where((Offer.enrolment == enrolment) & (Offer.outcome == "open"))
        .order_by(Offer.id.desc())
        .first()
    )


def _locked_offer(session_id: int | str, email: str) -> tuple[Session, Enrolment]:
    from store.booking import lock_session

    session = lock_session(session_id)
    person = get_person(email)
    enrolment = Enrolment.get_or_none((Enrolment.session == session) & (Enrolment.person == person))
    if enrolment is None or enrolment.status != "offered":
        raise RuleViolation(
            f"{person.email} has no offered place on session {session.id}", field="email"
        )
    return session, enrolment


def accept_offer(session_id: int | str, email: str, *, author: str = "learner") -> Enrolment:
    """The offered person takes the held place: they are enrolled."""
    now = utcnow()
    with write_transaction():
        session, enrolment = _locked_offer(session_id, email)
        if enrolment.offer_expires_at is not None and enrolment.offer_expires_at <= now:
            raise RuleViolation(
                f"the offer on session {session.id} expired at {iso(enrolment.offer_expires_at)}",
                field="session",
            )
        _take(enrolment, now, author)
        return enrolment


def close_open(enrolment: Enrolment, outcome: str, now: datetime) -> None:
    """Close the enrolment's open offer, if any (it was cancelled another way)."""
    offer = _open_offer(enrolment)
    if offer is not None:
        offer.outcome, offer.closed_at = outcome, now
        offer.save()
    if enrolment.offer_expires_at is not None:
        enrolment.offer_expires_at = None
        enrolment.save()


def _take(enrolment: Enrolment, now: datetime, author: str) -> None:
    from store.booking import add_note

    enrolment.status, enrolment.updated_at = "enrolled", now
    enrolment.save()
    close_open(enrolment, "taken", now)
    add_note(enrolment, "took the offered place", author)


def decline_offer(session_id: int | str, email: str, *, author: str = "learner") -> Enrolment:
    """The offered person turns the place down: it goes to the next in line."""
    now = utcnow()
    with write_transaction():
        session, enrolment = _locked_offer(session_id, email)
        _pass(session, enrolment, now, author, "declined")
        return enrolment


def _pass(session: Session, enrolment: Enrolment, now: datetime, author: str, why: str) -> None:
    from store.booking import add_note, bump_sequence

    offer = _open_offer(enrolment)
    freed_at = offer.freed_at if offer is not None else now
    close_open(enrolment, "passed", now)
    enrolment.status = "cancelled"
    enrolment.cancelled_at = enrolment.updated_at = now
    enrolment.save()
    add_note(enrolment, f"offer passed on ({why})", author)
    # Their calendar holds the offer's REQUEST: the CANCEL must outrank it.
    bump_sequence(session, now)
    mail_queue.enqueue(
        "offer_passed",
        session,
        enrolment.person,
        enrolment=enrolment,
        extra={"was": "offered", "invited": True, "reason": why},
    )
    offer_free_places(session, author=author, freed_at=freed_at, now=now)


def answer_from_calendar(enrolment_id: int, state: str) -> str | None:
    """Apply an offered person's calendar answer: accepted takes the place, declined passes it.

    Called by the reply step inside its transaction; returns a note for the log.
    """
    from store.booking import lock_session

    enrolment = Enrolment.get_or_none(Enrolment.id == enrolment_id)
    if enrolment is None or enrolment.status != "offered" or state not in ("accepted", "declined"):
        return None
    now = utcnow()
    session = lock_session(enrolment.session_id)
    enrolment = Enrolment.get_by_id(enrolment_id)
    if state == "accepted":
        if enrolment.offer_expires_at is not None and enrolment.offer_expires_at <= now:
            return "offer already expired"
        _take(enrolment, now, "rsvp")
        return "offered place taken"
    _pass(session, enrolment, now, "rsvp", "declined")
    return "offer declined, passed on"


def expire_offers(now: datetime | None = None) -> int:
    """Pass on every offer whose deadline has gone by (the worker's tick); returns how many."""
    from store.booking import lock_session

    now = now or utcnow()
    due = list(
        Enrolment.select(Enrolment.id, Enrolment.session)
        .where((Enrolment.status == "offered") & (Enrolment.offer_expires_at <= now))
        .order_by(Enrolment.offer_expires_at, Enrolment.id)
    )
    count = 0
    for row in due:
        with write_transaction():
            session = lock_session(row.session_id)
            enrolment = Enrolment.get_by_id(row.id)
            if enrolment.status != "offered":
                continue
            _pass(session, enrolment, now, "rollcall", "no answer by the deadline")
            count += 1
    return count
