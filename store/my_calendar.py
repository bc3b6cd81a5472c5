"""A learner's "My calendar" rows: open sessions and own bookings, and why each can be booked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.availability import available_query
from store.clock import utcnow
from store.models import Course, Enrolment, Material, Person, Session
from store.read_models import SessionOutline, outline_of
from store.rows import picked
from store.session_queries import counts_for, session_status
from store.settings import current_settings
from store.statuses import ACTIVE, WAITING_ON_SOMEONE
from store.visibility import can_see

DEFAULT_LIMIT = 300
"""How many open sessions the view lists at once (the nearest first)."""


@dataclass(frozen=True)
class CalendarRow(SessionOutline):
    """One session as the learner sees it."""

    session_id: int
    trainer: str | None
    max_attendees: int | None
    enrolled: int
    waitlisted: int
    status: str
    cancel_reason: str | None
    my_status: str | None
    """enrolled | waitlisted | attended | no_show, or None when not booked."""
    my_position: int | None
    can_book: bool
    can_cancel: bool
    reason: str
    """Why it cannot be booked (or what booking would do), for the detail panel."""
    materials: list[tuple[str, str]] = field(default_factory=list)
    course: str = ""
    offer_expires_at: datetime | None = None
    """While a place is offered to the learner: the deadline to accept it."""

    @property
    def places_left(self) -> int | None:
        """Free places, or None when unlimited."""
        if self.max_attendees is None:
            return None
        return max(0, self.max_attendees - self.enrolled)

    @property
    def places_text(self) -> str:
        """ "Session full", "3 places left" or "Open"."""
        left = self.places_left
        if left is None:
            return "Open"
        if left == 0 or self.waitlisted:
            return "Session full"
        return f"{left} place{'s' if left != 1 else ''} left"

    @property
    def booking_text(self) -> str:
        """The learner's own booking in words."""
        if self.my_status == "waitlisted":
            return f"Waitlist #{self.my_position}"
        return {
            "enrolled": "Booked",
            "attended": "Attended",
            "no_show": "No-show",
            "offered": "Offered",
            "requested": "Requested",
        }.get(self.my_status or "", "")


def same_course_booking(rows: list[CalendarRow], row: CalendarRow) -> CalendarRow | None:
    """Another session of `row`'s course the learner already holds or waits for, if any.

    Booking a second date of one course is usually a slip (two clicks, or a date
    moved): the learner view asks before it, naming the other session.
    """
    for other in rows:
        if (
            other.session_id != row.session_id
            and other.course == row.course
            and other.status == "scheduled"
            and other.my_status in (*ACTIVE, *WAITING_ON_SOMEONE)
        ):
            return other
    return None


def _trainer_names(trainer_ids: set[int]) -> dict[int, str]:
    from store.people import trainers_by_id

    return trainers_by_id(trainer_ids)


def my_calendar(
    person: Person, *, now: datetime | None = None, limit: int = DEFAULT_LIMIT
) -> list[CalendarRow]:
    """The person's own upcoming (and just-past) bookings and the open sessions they can see.

    Invisible sessions never appear unless the person is booked on one (an admin
    enrolled them), and then only as their booking, with the reason it is closed.
    """
    now = now or utcnow()
    open_sessions = list(available_query(person, now).limit(limit))
    mine = list(
        Enrolment.select(Enrolment, Session)
        .join(Session)
        .where(
            (Enrolment.person == person)
            & Enrolment.status.in_(
                ("enrolled", "waitlisted", "attended", "no_show", *WAITING_ON_SOMEONE)
            )
            & (Session.end >= now.replace(hour=0, minute=0, second=0, microsecond=0))
        )
        .order_by(Session.start)
        .limit(limit)
    )
    sessions = {s.id: s for s in open_sessions}
    booking = {e.session.id: e for e in mine}
    for e in mine:
        sessions.setdefault(e.session.id, e.session)
    ids = list(sessions)
    counts = counts_for(ids)
    trainers = _trainer_names({s.trainer_id for s in sessions.values() if s.trainer_id})
    materials: dict[int, list[tuple[str, str]]] = {}
    if ids:
        for m in (
            Material.select()
            .where(Material.session.in_(ids))
            .order_by(Material.session, Material.position)
        ):
            materials.setdefault(m.session_id, []).append((m.name, m.url))
    course_ids = {s.course_id for s in sessions.values()}
    courses = dict(Course.select(Course.id, Course.title).where(Course.id.in_(course_ids)).tuples())
    rows = []
    for s in sorted(sessions.values(), key=lambda x: (x.start, x.id)):
        c = counts.get(s.id, {})
        e = booking.get(s.id)
        status = session_status(s, now)
        my_status = e.status if e else None
        full = s.max_attendees is not None and (
            c.get("enrolled", 0) >= s.max_attendees or c.get("waitlisted", 0) > 0
        )
        can_book = False
        if status == "cancelled":
            reason = f"Cancelled: {s.cancel_reason or 'no reason given'}"
        elif status != "scheduled":
            reason = "Already started or over: it can no longer be booked"
        elif my_status == "enrolled":
            reason = "You are booked on this session"
        elif my_status == "offered" and e is not None and e.offer_expires_at is not None:
            when = e.offer_expires_at.astimezone(current_settings().zone)
            reason = f"A place is held for you until {when:%a %d %b %H:%M}: press a to accept"
        elif my_status == "requested":
            reason = "Waiting for your manager's approval"
        elif my_status == "waitlisted":
            reason = f"You are number {e.waitlist_position if e else '?'} on the waitlist"
        elif e is None and s.id not in {o.id for o in open_sessions} and not can_see(person, s):
            reason = "Not open to you (role, department or location)"
        elif full:
            can_book = True
            reason = "Session full: booking puts you on the waitlist"
        else:
            can_book = True
            reason = "Open for booking"
        rows.append(
            CalendarRow(
                **outline_of(s),
                session_id=s.id,
                **picked(s, "max_attendees", "cancel_reason"),
                trainer=trainers.get(s.trainer_id) if s.trainer_id else None,
                enrolled=c.get("enrolled", 0),
                waitlisted=c.get("waitlisted", 0),
                status=status,
                my_status=my_status,
                my_position=e.waitlist_position if e else None,
                can_book=can_book,
                can_cancel=status == "scheduled" and my_status in (*ACTIVE, *WAITING_ON_SOMEONE),
                reason=reason,
                materials=materials.get(s.id, []),
                course=courses.get(s.course_id, ""),
                offer_expires_at=e.offer_expires_at if e else None,
            )
        )
    return rows
