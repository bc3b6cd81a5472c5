"""Attendance from a CSV file (session_id,email,status): checked by line, then all rows or none."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from store import validate
from store.attendance import MARKS, mark, marking_refusal
from store.booking import free_places, join_to_mark
from store.clock import utcnow
from store.csvfile import data_rows, open_csv
from store.db import write_transaction
from store.errors import RollcallError, ValidationError
from store.models import Enrolment, Session
from store.people import get_person
from store.sessions import get_session

IMPORT_HEADER = ("session_id", "email", "status")


@dataclass(frozen=True)
class AttendanceRow:
    """One checked line: who, on which session, marked how, and whether they get enrolled."""

    line: int
    session_id: int
    session_title: str
    email: str
    name: str
    status: str
    """``attended`` or ``no_show``."""
    enrol: bool
    """Not on the session yet: the import enrols them (recorded after the fact)."""


@dataclass
class AttendanceImport:
    """What an attendance import did (or would do): its rows and its errors by line."""

    rows: list[AttendanceRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no line has an error."""
        return not self.errors


def _check_session(raw: str, cache: dict[str, Session]) -> Session:
    text = validate.clean_text(raw)
    if text in cache:
        return cache[text]
    if not text.isdigit():
        raise ValidationError(f"session_id must be a number, got {raw!r}", field="session_id")
    session = get_session(text, field="session_id")
    refusal = marking_refusal(session, utcnow())
    if refusal is not None:
        raise ValidationError(refusal, field="session_id")
    cache[text] = session
    return session


def preview_attendance_csv(text: str) -> AttendanceImport:
    """Check an attendance CSV (header session_id,email,status) without writing.

    A person not on the session is enrolled by the import, as the admin's
    `enrol` would, while places are left; errors carry their line number.
    """
    result = AttendanceImport()
    opened = open_csv(text, IMPORT_HEADER, (), result.errors)
    if opened is None:
        return result
    reader, header = opened
    sessions: dict[str, Session] = {}
    seen: dict[tuple[int, str], int] = {}
    joining: Counter[int] = Counter()
    for line, values in data_rows(reader, header, result.errors):
        try:
            session = _check_session(values["session_id"], sessions)
            person = get_person(validate.email_address(values["email"]))
            raw_status = validate.clean_text(values["status"]).lower()
            status = MARKS.get(raw_status)
            if status is None:
                raise ValidationError(
                    f"status must be attended, no-show or no_show, got {values['status']!r}",
                    field="status",
                )
            key = (session.id, person.email.lower())
            if key in seen:
                raise ValidationError(
                    f"{person.email} on session {session.id} is also on line {seen[key]}",
                    field="email",
                )
            enrolment = Enrolment.get_or_none(
                (Enrolment.session == session) & (Enrolment.person == person)
            )
            current = enrolment.status if enrolment is not None else "cancelled"
            if current == "waitlisted":
                raise ValidationError(
                    f"{person.email} is on the waitlist of session {session.id}; promote first",
                    field="email",
                )
            enrol = current == "cancelled"
            if enrol:
                if not person.active:
                    raise ValidationError(f"{person.email} is deactivated", field="email")
                free = free_places(session)
                if free is not None and joining[session.id] >= free:
                    raise ValidationError(
                        f"session {session.id} is full; {person.email} cannot be added",
                        field="session_id",
                    )
                joining[session.id] += 1
        except RollcallError as exc:
            result.errors.append((line, str(exc)))
            continue
        seen[key] = line
        result.rows.append(
            AttendanceRow(line, session.id, session.title, person.email, person.name, status, enrol)
        )
    return result


def import_attendance_csv(text: str, *, author: str = "admin") -> AttendanceImport:
    """Import an attendance CSV: every row or none. Raises `ValidationError` listing bad lines."""
    result = preview_attendance_csv(text)
    if not result.ok:
        lines = "; ".join(f"line {n}: {msg}" for n, msg in result.errors)
        raise ValidationError(f"import refused, nothing imported: {lines}", field="csv")
    with write_transaction():
        for row in result.rows:
            try:
                if row.enrol:
                    join_to_mark(row.session_id, row.email, author=author, check_visibility=False)
                mark(row.session_id, row.email, row.status, author=author)
            except RollcallError as exc:
                # Something changed since the preview: the whole import rolls back.
                raise ValidationError(
                    f"import refused, nothing imported: line {row.line}: {exc}", field="csv"
                ) from exc
    return result
