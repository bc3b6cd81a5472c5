"""Completions: e-learning import and marking, renewals due, and booking the next session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import peewee

from store import validate
from store.access import record as audit
from store.access import require
from store.booking import BookingResult, enrol
from store.clock import utcnow
from store.csvfile import data_rows, open_csv
from store.db import in_batches, write_transaction
from store.errors import NotFound, RuleViolation, ValidationError
from store.models import Completion, Course, ElearningItem, Enrolment, Person, Session
from store.pathways import elearning_item, find_course, today
from store.people import find_person, get_person
from store.rows import json_fields
from store.session_queries import status_condition
from store.statuses import ACTIVE

IMPORT_HEADER = ("email", "item", "completed_on")
OPTIONAL_COLUMNS = ("expires_on",)


@dataclass(frozen=True)
class CompletionRow:
    """One checked line of a completions CSV."""

    line: int
    email: str
    item: str
    completed_on: date
    expires_on: date | None


@dataclass
class CompletionImport:
    """What a completions import did (or would do): rows, skipped repeats, errors by line."""

    rows: list[CompletionRow] = field(default_factory=list)
    added: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line has an error."""
        return not self.errors


def preview_completions_csv(text: str) -> CompletionImport:
    """Check a completions CSV (header email,item,completed_on[,expires_on]) without writing."""
    result = CompletionImport()
    opened = open_csv(text, IMPORT_HEADER, OPTIONAL_COLUMNS, result.errors)
    if opened is None:
        return result
    reader, header = opened
    for line, values in data_rows(reader, header, result.errors):
        try:
            email = validate.email_address(values["email"])
            if find_person(email) is None:
                raise NotFound(f"no person with email {email!r}", field="email")
            item = validate.required_text(values["item"], "item", max_length=300)
            done = validate.parse_date(values["completed_on"], "completed_on")
            if done > today():
                raise ValidationError(f"completed_on {done} is in the future", field="completed_on")
            raw_expiry = values.get("expires_on", "").strip()
            expires = validate.parse_date(raw_expiry, "expires_on") if raw_expiry else None
            if expires is not None and expires < done:
                raise ValidationError(
                    f"expires_on {expires} is before completed_on {done}", field="expires_on"
                )
        except (ValidationError, NotFound) as exc:
            result.errors.append((line, str(exc)))
            continue
        result.rows.append(CompletionRow(line, email, item, done, expires))
    return result


def _same_completion(person: Person, item: ElearningItem, done: date) -> peewee.ModelSelect:
    """The completions of `item` by `person` on the day `done`."""
    return Completion.select().where(
        (Completion.person == person)
        & (Completion.elearning == item)
        & (Completion.completed_on == done)
    )


def _add_elearning(
    person: Person, item: ElearningItem, done: date, expires: date | None, source: str
) -> bool:
    """Record one completion unless the same one is already there; True if added."""
    if _same_completion(person, item, done).exists():
        return False
    Completion.create(
        person=person, elearning=item, completed_on=done, expires_on=expires, source=source
    )
    return True


def import_completions_csv(text: str) -> CompletionImport:
    """Import e-learning completions: all rows or none; `ValidationError` lists bad lines.

    Items not seen before are created (they live in the e-learning system);
    a row repeating a completion already stored is skipped, so re-importing
    the same export is harmless.
    """
    result = preview_completions_csv(text)
    if not result.ok:
        lines = "; ".join(f"line {n}: {msg}" for n, msg in result.errors)
        raise ValidationError(f"import refused, nothing imported: {lines}", field="csv")
    for batch in in_batches(result.rows):
        with write_transaction():
            require("completions")
            added = result.added
            for row in batch:
                person = get_person(row.email)
                item = elearning_item(row.item, "item")
                if _add_elearning(person, item, row.completed_on, row.expires_on, "import"):
                    result.added += 1
                else:
                    result.skipped += 1
            added = result.added - added
            audit("completion.import", after={"added": added, "skipped": len(batch) - added})
    return result


def mark_elearning_done(
    email: str,
    item: str,
    completed_on: date | str | None = None,
    expires_on: date | str | None = None,
) -> Completion:
    """Record by hand that a person completed an e-learning item (default: today)."""
    done = validate.parse_date(completed_on, "date") if completed_on else today()
    if done > today():
        raise ValidationError(f"date {done} is in the future", field="date")
    expires = validate.parse_date(expires_on, "expires") if expires_on else None
    if expires is not None and expires < done:
        raise ValidationError(f"expires {expires} is before the completion date", field="expires")
    with write_transaction():
        require("completions")
        person = get_person(email)
        record = elearning_item(item, "item")
        _add_elearning(person, record, done, expires, "manual")
        audit("completion.add", person=person, after={"item": record.name, "completed_on": done})
        return _same_completion(person, record, done).get()


@dataclass(frozen=True)
class DueRow:
    """A person whose latest completion of a course or item has expired or expires soon."""

    person_id: int
    email: str
    name: str
    department: str
    kind: str  # course | elearning
    item_id: int
    item: str
    expires_on: date
    days_left: int
    booked_session: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return json_fields(
            self, "email", "name", "department", "kind", "item", "expires_on", "days_left"
        ) | {
            "status": "expired" if self.days_left < 0 else "expiring",
            "booked_session": self.booked_session,
        }


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def due_for_renewal(
    days: int = 30,
    *,
    email: str | None = None,
    course: str | None = None,
    include_expired: bool = True,
    on: date | None = None,
    limit: int | None = None,
    manager: int | None = None,
) -> list[DueRow]:
    """Who must renew: the latest completion per person and course/item expired or expiring.

    Grouped in SQL: a person counts once per course, by their newest expiry,
    and not at all while any completion of that course never expires.
    `manager` keeps the people who report to that person.
    """
    if days < 0:
        raise ValidationError(f"days must be zero or more, got {days}", field="days")
    on = on or today()
    cutoff = on + timedelta(days=days)
    rows: list[DueRow] = []
    person_filter = None
    if email is not None:
        person_filter = get_person(email).id
    course_filter = find_course(course).id if course is not None else None
    for kind, column, model, label in (
        ("course", Completion.course, Course, Course.title),
        ("elearning", Completion.elearning, ElearningItem, ElearningItem.name),
    ):
        if course_filter is not None and kind == "elearning":
            continue
        latest = peewee.fn.MAX(Completion.expires_on)
        query = (
            Completion.select(
                Completion.person.alias("pid"),
                column.alias("iid"),
                latest.alias("latest"),
            )
            .where(column.is_null(False))
            .group_by(Completion.person, column)
            .having(
                (peewee.fn.COUNT(Completion.id) == peewee.fn.COUNT(Completion.expires_on))
                & (latest <= cutoff)
                & ((latest >= on) if not include_expired else peewee.SQL("1=1"))
            )
        )
        if manager is not None:
            team = Person.select(Person.id).where(Person.manager == manager)
            query = query.where(Completion.person.in_(team))
        if person_filter is not None:
            query = query.where(Completion.person == person_filter)
        elif not include_expired:
            # Only people with a completion expiring in the window can be listed: found
            # through the expiry index, so the grouping reads a few rows, not all.
            early = (Completion.expires_on <= cutoff) & (Completion.expires_on >= on)
            query = query.where(
                Completion.person.in_(Completion.select(Completion.person).where(early))
            )
        if course_filter is not None:
            query = query.where(Completion.course == course_filter)
        grouped = query.alias("g")
        outer = (
            Person.select(
                Person.id.alias("person_id"),
                Person.email,
                Person.name,
                Person.department,
                model.id.alias("item_id"),
                label.alias("item"),
                grouped.c.latest.alias("latest"),
            )
            .join(grouped, on=(grouped.c.pid == Person.id))
            .join(model, on=(model.id == grouped.c.iid))
            .order_by(grouped.c.latest, Person.name)
            .dicts()
        )
        if limit is not None:
            outer = outer.limit(limit)
        for r in outer:
            expires = _as_date(r.pop("latest"))
            rows.append(
                DueRow(
                    **r,
                    kind=kind,
                    expires_on=expires,
                    days_left=(expires - on).days,
                    booked_session=None,
                )
            )
    rows.sort(key=lambda r: (r.expires_on, r.name, r.item))
    if limit is not None:
        rows = rows[:limit]
    return _with_bookings(rows)


def _with_bookings(rows: list[DueRow]) -> list[DueRow]:
    """Fill in the next scheduled session each person is already booked on for the course."""
    course_rows = [r for r in rows if r.kind == "course"]
    if not course_rows:
        return rows
    people = {r.person_id for r in course_rows}
    courses = {r.item_id for r in course_rows}
    booked: dict[tuple[int, int], int] = {}
    query = (
        Enrolment.select(Enrolment.person, Session.course, Session.id)
        .join(Session)
        .where(
            Enrolment.person.in_(people)
            & Session.course.in_(courses)
            & Enrolment.status.in_(ACTIVE)
            & status_condition("scheduled", utcnow())
        )
        .order_by(Session.start.desc())
        .tuples()
    )
    for pid, cid, sid in query:
        booked[(pid, cid)] = sid  # descending order: the earliest wins
    out = []
    for r in rows:
        sid = booked.get((r.person_id, r.item_id)) if r.kind == "course" else None
        out.append(r if sid is None else DueRow(**{**r.__dict__, "booked_session": sid}))
    return out


def next_session(course: str | Course, email: str | None = None) -> Session | None:
    """The next scheduled session of a course: the first with a free place, else the first."""
    record = course if isinstance(course, Course) else find_course(course)
    query = (
        Session.select()
        .where((Session.course == record) & status_condition("scheduled", utcnow()))
        .order_by(Session.start, Session.id)
    )
    if email is not None:
        person = get_person(email)
        already = Enrolment.select(Enrolment.session).where(
            (Enrolment.person == person) & (Enrolment.status != "cancelled")
        )
        query = query.where(Session.id.not_in(already))
    from store.session_queries import counts_for

    candidates = list(query.limit(50))
    if not candidates:
        return None
    counts = counts_for([s.id for s in candidates])
    for s in candidates:
        counts_of = counts.get(s.id, {})
        free = s.max_attendees is None or counts_of.get("enrolled", 0) < s.max_attendees
        if free and not counts_of.get("waitlisted"):
            return s
    return candidates[0]


def book_next_session(email: str, course: str) -> tuple[Session, BookingResult]:
    """The admin books a person onto the next session of a course (waitlist when all are full)."""
    session = next_session(course, email)
    if session is None:
        raise RuleViolation(
            f"no scheduled session of {find_course(course).title!r} to book {email} onto",
            field="course",
        )
    return session, enrol(session.id, email)
