"""Interest lists (SPEC §7): people waiting for a date of a course.

A learner, an admin, or the renewal list puts a person on a course's list;
when a session of the course is added, those people are booked in order of
interest while places last and the session is open to them; the others are
told a date came and went full, and stay on the list for the next one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from store import mail_queue
from store.access import record, require
from store.db import write_transaction
from store.errors import NotFound, RollcallError, RuleViolation, ValidationError
from store.models import Course, Person, Session
from store.people import get_person
from store.serialize import iso
from store.textkey import fold
from store.visibility import can_see
from store.workflow_models import Interest

if TYPE_CHECKING:
    from store.sessions import EditResult

SOURCES = ("learner", "admin", "renewal")


def get_course(title: str) -> Course:
    """The course with this title (case-insensitive); `NotFound` naming ``course``."""
    key = " ".join(str(title).split())
    if not key:
        raise ValidationError("a course title is required", field="course")
    course = Course.get_or_none(Course.title_key == fold(key))
    if course is None:
        raise NotFound(f"no course titled {title!r}", field="course")
    return course


def add_interest(course_title: str, email: str, *, source: str = "admin") -> Interest:
    """Put a person on a course's interest list (once)."""
    if source not in SOURCES:
        raise ValidationError(f"expected one of {', '.join(SOURCES)}", field="source")
    with write_transaction():
        course = get_course(course_title)
        person = get_person(email)
        require("interest", person=person)
        if not person.active:
            raise RuleViolation(f"{person.email} is deactivated", field="email")
        existing = Interest.get_or_none((Interest.course == course) & (Interest.person == person))
        if existing is not None:
            raise RuleViolation(
                f"{person.email} is already on the interest list of {course.title}", field="email"
            )
        entry = Interest.create(course=course, person=person, source=source)
        record("interest.add", person=person, after={"course": course.title, "source": source})
        return entry


def remove_interest(course_title: str, email: str) -> None:
    """Take a person off a course's interest list."""
    with write_transaction():
        course = get_course(course_title)
        person = get_person(email)
        require("interest", person=person)
        deleted = (
            Interest.delete()
            .where((Interest.course == course) & (Interest.person == person))
            .execute()
        )
        if not deleted:
            raise RuleViolation(
                f"{person.email} is not on the interest list of {course.title}", field="email"
            )
        record("interest.remove", person=person, before={"course": course.title})


def interest_list(course_title: str | None = None) -> list[Interest]:
    """Interest entries in order of interest (one course, or every course)."""
    query = Interest.select(Interest, Person, Course).join(Person).switch(Interest).join(Course)
    if course_title:
        query = query.where(Interest.course == get_course(course_title))
    return list(query.order_by(Course.title, Interest.created_at, Interest.id))


def interests_of(person: Person) -> set[int]:
    """Course ids a person is waiting for."""
    rows = Interest.select(Interest.course).where(Interest.person == person)
    return {row.course_id for row in rows}


def interest_titles(person: Person) -> list[str]:
    """Titles of the courses a person is waiting for, in the order they asked."""
    rows = (
        Course.select(Course.title)
        .join(Interest)
        .where(Interest.person == person)
        .order_by(Interest.created_at, Interest.id)
    )
    return [row.title for row in rows]


def interest_dict(entry: Interest) -> dict[str, Any]:
    """An entry as `interest list --json` shows it."""
    return {
        "course": entry.course.title,
        "email": entry.person.email,
        "name": entry.person.name,
        "source": entry.source,
        "created_at": iso(entry.created_at),
    }


def invite_interested(session_ids: list[int]) -> dict[str, list[str]]:
    """Book the people waiting for the course of each new session, in order of interest.

    Each booking is the learner's own (visibility and approval apply); a person
    booked (or requested) leaves the list, a person the session was full for is
    told and stays. Returns the emails booked and told.
    """
    from store.booking import book

    booked: list[str] = []
    told: list[str] = []
    for session_id in session_ids:
        session = Session.get_by_id(session_id)
        waiting = list(
            Interest.select()
            .where(Interest.course == session.course_id)
            .order_by(Interest.created_at, Interest.id)
        )
        for entry in waiting:
            person = entry.person
            if not person.active or not can_see(person, session):
                continue
            try:
                with write_transaction():
                    book(session.id, person.email, allow_waitlist=False, author="interest list")
                    entry.delete_instance()
                booked.append(person.email)
            except RollcallError as exc:
                if exc.field != "session" or "full" not in exc.message.lower():
                    continue
                with write_transaction():
                    mail_queue.enqueue("interest_full", session, person)
                told.append(person.email)
    return {"booked": booked, "told": told}


def create_with_policy(
    create: Callable[[], list[Session]], approval: str | None, offer_hours: str | None
) -> list[Session]:
    """Create sessions and set their approval and offer policy in one transaction, then
    book the people waiting for their course."""
    from store.approvals import clean_approval, clean_offer_hours, set_session_policy

    if approval is not None:
        clean_approval(approval)
    clean_offer_hours(offer_hours)
    with write_transaction():
        created = create()
        if approval is not None or offer_hours is not None:
            for session in created:
                set_session_policy(session.id, approval=approval, offer_hours=offer_hours)
    invite_interested([s.id for s in created])
    return created


def edit_with_policy(
    session_id: int | str,
    values: dict[str, Any],
    approval: str | None,
    offer_hours: str | None,
    *,
    allow_clash: bool = False,
) -> EditResult:
    """Edit a session and its approval and offer policy in one transaction.

    `allow_clash` lets it share its place with an overlapping session.
    """
    from store.approvals import set_session_policy
    from store.sessions import EditResult, edit_session, get_session

    with write_transaction():
        if approval is not None or offer_hours is not None:
            set_session_policy(session_id, approval=approval, offer_hours=offer_hours)
        if values:
            return edit_session(session_id, values, allow_clash=allow_clash)
        return EditResult(get_session(session_id))
