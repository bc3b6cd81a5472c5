"""Manager approval (SPEC §7): a booking that waits for the learner's manager.

A learner's booking on a session (or course) with ``approval = manager``
becomes ``requested`` and the manager is mailed; approving books the place
(or the waitlist at the request's time when the session filled meanwhile),
declining or an unanswered request by the expiry time cancels it. Each rule
is a plain function in one write transaction, so a role check or an audit
line can wrap it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from store import mail_queue, validate
from store.access import current_actor
from store.clock import utcnow
from store.db import lock_for_update, write_transaction
from store.errors import NotFound, RuleViolation, ValidationError
from store.models import Course, Enrolment, Person, Session
from store.people import PersonInput, add_person, get_person
from store.sessions import count_occupying, get_session
from store.settings import current_settings
from store.statuses import APPROVAL_MODES
from store.textkey import fold
from store.workflow_models import ApprovalRequest, Offer

APPROVE_WORDS = frozenset({"APPROVE", "APPROVED"})
DECLINE_WORDS = frozenset({"DECLINE", "DECLINED"})


def clean_approval(value: str, field: str = "approval") -> str:
    """`none` or `manager`; `ValidationError` naming `field` otherwise."""
    text = validate.clean_text(value).lower()
    if text not in APPROVAL_MODES:
        raise ValidationError(f"expected one of {', '.join(APPROVAL_MODES)}, got {value!r}", field)
    return text


def clean_offer_hours(value: int | str | None, field: str = "offer_hours") -> int | None:
    """Hours an offer is held (0 = off), None to follow the setting."""
    if value is None or value == "":
        return None
    try:
        hours = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"expected a whole number of hours, got {value!r}", field) from None
    if not 0 <= hours <= 24 * 60:
        raise ValidationError("must be between 0 and 1440 hours", field)
    return hours


def set_session_policy(
    session_id: int | str, *, approval: str | None = None, offer_hours: int | str | None = None
) -> Session:
    """Set whether a session needs the manager's approval and how long offers are held."""
    mode = clean_approval(approval) if approval is not None else None
    hours = clean_offer_hours(offer_hours)
    with write_transaction():
        session = get_session(session_id)
        if mode is not None:
            session.approval = mode
        if offer_hours is not None:
            session.offer_hours = hours
        session.updated_at = utcnow()
        session.save()
        return session


def set_course_approval(title: str, approval: str) -> Course:
    """Ask for the manager's approval on every session of a course (or stop asking)."""
    mode = clean_approval(approval)
    with write_transaction():
        course = Course.get_or_none(Course.title_key == fold(title.strip()))
        if course is None:
            raise NotFound(f"no course titled {title!r}", field="course")
        course.approval = mode
        course.save()
        return course


def set_manager(email: str, manager_email: str | None) -> Person:
    """Give a person a manager (an existing person other than themselves), or none."""
    with write_transaction():
        person = get_person(email)
        manager = None
        if manager_email:
            manager = get_person(manager_email, field="manager")
            if manager.id == person.id:
                raise RuleViolation(f"{person.email} cannot be their own manager", "manager")
        person.manager = manager
        person.updated_at = utcnow()
        person.save()
        return person


def add_person_with_manager(data: PersonInput, manager_email: str | None) -> Person:
    """Add a person and their manager in one transaction (a bad manager adds nobody)."""
    with write_transaction():
        person = add_person(data)
        if manager_email:
            person = set_manager(person.email, manager_email)
        return person


def requires_approval(session: Session) -> bool:
    """True when bookings on this session wait for the learner's manager."""
    if session.approval == "manager":
        return True
    return bool(
        Course.select()
        .where((Course.id == session.course_id) & (Course.approval == "manager"))
        .exists()
    )


def open_request(
    session: Session, person: Person, enrolment: Enrolment | None, fields: dict[str, Any]
) -> Enrolment:
    """Turn a learner's booking into a request to their manager (inside `book`'s transaction)."""
    if person.manager_id is None:
        raise RuleViolation(
            f"session {session.id} needs a manager's approval and {person.email} has no manager",
            field="manager",
        )
    manager = Person.get_by_id(person.manager_id)
    fields = {**fields, "status": "requested", "waitlist_position": None, "waitlisted_at": None}
    now = fields["updated_at"]
    if enrolment is None:
        enrolment = Enrolment.create(session=session, person=person, created_at=now, **fields)
    else:
        Enrolment.update(created_at=now, **fields).where(Enrolment.id == enrolment.id).execute()
        enrolment = Enrolment.get_by_id(enrolment.id)
    row = mail_queue.enqueue(
        "approval_request",
        session,
        manager,
        enrolment=enrolment,
        extra={"learner": {"email": person.email, "name": person.name}},
    )
    ApprovalRequest.create(
        enrolment=enrolment,
        session=session,
        learner=person,
        manager=manager,
        message_id=row.message_id if row is not None else None,
        requested_at=now,
    )
    return enrolment


@dataclass(frozen=True)
class Decision:
    """What a manager's decision did."""

    request: ApprovalRequest
    status: str
    """The enrolment's status after it: enrolled, waitlisted or cancelled."""
    waitlist_position: int | None = None


def _pending(session_id: int | str, email: str) -> tuple[Session, ApprovalRequest]:
    from store.booking import lock_session

    session = lock_session(session_id)
    person = get_person(email)
    request = lock_for_update(
        ApprovalRequest.select().where(
            (ApprovalRequest.session == session)
            & (ApprovalRequest.learner == person)
            & (ApprovalRequest.status == "pending")
        )
    ).first()
    if request is None:
        raise RuleViolation(
            f"{person.email} has no request waiting on session {session.id}", field="email"
        )
    return session, request


def _check_decider(request: ApprovalRequest, by: str | None) -> str:
    """The manager (or an admin, `by` None) may decide; anyone else is refused."""
    if by is None:
        return "admin"
    if request.manager_id is None or request.manager.email.lower() != by.strip().lower():
        raise RuleViolation(f"{by} is not the manager of {request.learner.email}", field="manager")
    return request.manager.email


def approve(
    session_id: int | str, email: str, *, by: str | None = None, note: str = ""
) -> Decision:
    """Approve a request: the place is booked, or the waitlist at the request's time if full.

    `by` is the deciding manager's email (None: an admin decides).
    """
    from store.booking import add_note, insert_waitlisted

    now = utcnow()
    with write_transaction():
        session, request = _pending(session_id, email)
        decider = _check_decider(request, by)
        enrolment = Enrolment.get_by_id(request.enrolment_id)
        if session.cancelled_at is not None or session.start <= now:
            raise RuleViolation(f"session {session.id} is no longer open", field="session")
        full = (
            session.max_attendees is not None and count_occupying(session) >= session.max_attendees
        )
        position = None
        if full:
            position = insert_waitlisted(session, enrolment, request.requested_at, now)
            status = "waitlisted"
        else:
            status = "enrolled"
            enrolment.status, enrolment.updated_at = status, now
            enrolment.save()
        _close(request, "approved", decider, note, now)
        add_note(enrolment, f"request approved by {decider}{_suffix(note)}", decider)
        mail_queue.enqueue(
            "request_approved",
            session,
            enrolment.person,
            enrolment=enrolment,
            extra={"note": note},
        )
        if status == "enrolled":
            mail_queue.enqueue("invitation", session, enrolment.person, enrolment=enrolment)
            enrolment.calendar, enrolment.invited_at = "invited", now
            enrolment.save()
        return Decision(request, status, position)


def decline(
    session_id: int | str, email: str, *, by: str | None = None, note: str = ""
) -> Decision:
    """Decline a request: the booking is cancelled and the learner told why."""
    now = utcnow()
    with write_transaction():
        session, request = _pending(session_id, email)
        decider = _check_decider(request, by)
        _finish(session, request, "declined", decider, note, now)
        return Decision(request, "cancelled")


def _finish(
    session: Session, request: ApprovalRequest, outcome: str, decider: str, note: str, now: datetime
) -> None:
    from store.booking import add_note

    enrolment = Enrolment.get_by_id(request.enrolment_id)
    enrolment.status, enrolment.cancelled_at, enrolment.updated_at = "cancelled", now, now
    enrolment.save()
    _close(request, outcome, decider, note, now)
    add_note(enrolment, f"request {outcome}{_suffix(note)}", decider)
    mail_queue.enqueue(
        f"request_{outcome}", session, enrolment.person, enrolment=enrolment, extra={"note": note}
    )


def _suffix(note: str) -> str:
    return f": {note}" if note else ""


def _close(request: ApprovalRequest, status: str, decider: str, note: str, now: datetime) -> None:
    request.status, request.decided_at, request.decided_by = status, now, decider
    request.note = note
    request.save()


def withdraw(enrolment: Enrolment, now: datetime) -> None:
    """Close the pending request of an enrolment the learner (or an admin) cancelled."""
    request = ApprovalRequest.get_or_none(
        (ApprovalRequest.enrolment == enrolment) & (ApprovalRequest.status == "pending")
    )
    if request is not None:
        _close(request, "withdrawn", "rollcall", "", now)


def close_for_cancelled_session(session: Session, now: datetime) -> None:
    """A cancelled session's pending requests are withdrawn and its open offers passed."""
    (
        ApprovalRequest.update(status="withdrawn", decided_at=now, decided_by="rollcall")
        .where((ApprovalRequest.session == session) & (ApprovalRequest.status == "pending"))
        .execute()
    )
    (
        Offer.update(outcome="passed", closed_at=now)
        .where((Offer.session == session) & (Offer.outcome == "open"))
        .execute()
    )
    (
        Enrolment.update(offer_expires_at=None)
        .where((Enrolment.session == session) & Enrolment.offer_expires_at.is_null(False))
        .execute()
    )


def expire_requests(now: datetime | None = None, hours: int | None = None) -> int:
    """Expire requests still pending `hours` (the setting) before their session starts."""
    now = now or utcnow()
    hours = current_settings().request_expiry_hours if hours is None else hours
    due = (
        ApprovalRequest.select(ApprovalRequest.id, ApprovalRequest.session)
        .join(Session, on=(ApprovalRequest.session == Session.id))
        .where(
            (ApprovalRequest.status == "pending") & (Session.start <= now + timedelta(hours=hours))
        )
        .order_by(ApprovalRequest.id)
    )
    count = 0
    for row in list(due):
        with write_transaction():
            from store.booking import lock_session

            session = lock_session(row.session_id)
            request = ApprovalRequest.get_by_id(row.id)
            if request.status != "pending":
                continue
            _finish(session, request, "expired", "rollcall", "", now)
            count += 1
    return count


# --------------------------------------------------------------------------- replies by mail


def read_answer(word: str | None) -> str | None:
    """APPROVE or DECLINE from the first word of a reply, else None."""
    if not word:
        return None
    key = word.strip().strip(".,;:!").upper()
    if key in APPROVE_WORDS:
        return "approve"
    if key in DECLINE_WORDS:
        return "decline"
    return None


@dataclass(frozen=True)
class ReplyOutcome:
    """How a manager's emailed answer was handled, for the inbound log."""

    outcome: str
    reason: str | None
    session_id: int | None = None
    email: str | None = None


def apply_answer(
    references: tuple[str, ...], sender: str | None, word: str | None
) -> ReplyOutcome | None:
    """Apply a manager's APPROVE/DECLINE reply; None when the message is not about a request.

    The reply must refer to the request's Message-ID (In-Reply-To/References)
    and come from the manager's address; anything else is refused with a reason.
    """
    answer = read_answer(word)
    request = None
    if references:
        request = (
            ApprovalRequest.select()
            .where(ApprovalRequest.message_id.in_(list(references)))
            .order_by(ApprovalRequest.id.desc())
            .first()
        )
    if request is None:
        if answer is None:
            return None
        return ReplyOutcome(
            "ignored", f"{answer} reply does not refer to a request email (In-Reply-To/References)"
        )
    learner = request.learner.email
    where = {"session_id": request.session_id, "email": learner}
    manager = request.manager.email.lower() if request.manager_id else None
    if manager is None or (sender or "").lower() != manager:
        return ReplyOutcome("ignored", f"sender {sender} is not the learner's manager", **where)
    if answer is None:
        return ReplyOutcome("ignored", "reply does not start with APPROVE or DECLINE", **where)
    if request.status != "pending":
        return ReplyOutcome("ignored", f"request is already {request.status}", **where)
    rule = approve if answer == "approve" else decline
    try:
        rule(request.session_id, learner, by=manager)
    except RuleViolation as exc:
        return ReplyOutcome("ignored", exc.message, **where)
    return ReplyOutcome("applied", f"request {answer}d by the manager", **where)


# --------------------------------------------------------------------------- reading


def pending_requests(manager_email: str | None = None) -> list[ApprovalRequest]:
    """Pending requests, oldest first; only one manager's team when `manager_email` is given.

    Anyone but an admin sees the requests addressed to them only.
    """
    from store.team import team_manager

    query = ApprovalRequest.select().where(ApprovalRequest.status == "pending")
    if manager_email or current_actor().role != "admin":
        query = query.where(ApprovalRequest.manager == team_manager(manager_email))
    return list(query.order_by(ApprovalRequest.requested_at, ApprovalRequest.id))


def request_dict(request: ApprovalRequest) -> dict[str, Any]:
    """A request as the `requests --json` contract shows it."""
    from store.serialize import iso

    session = request.session
    return {
        "session_id": session.id,
        "title": session.title,
        "start": iso(session.start),
        "email": request.learner.email,
        "name": request.learner.name,
        "manager": request.manager.email if request.manager_id else None,
        "status": request.status,
        "requested_at": iso(request.requested_at),
    }
