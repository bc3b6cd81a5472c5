"""Sessions: create (also as a recurring series), edit, cancel, delete, status, queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from store import notify, validate
from store.access import record, require
from store.clock import utcnow
from store.db import lock_for_update, write_transaction
from store.errors import NotFound, RuleViolation, ValidationError
from store.models import Course, Enrolment, Material, Series, Session, Trainer
from store.people import get_trainer
from store.recurrence import Repeat, occurrences
from store.settings import current_settings
from store.visibility import DIMENSIONS, replace_rules, rules_of

STATUSES = ("scheduled", "in_progress", "completed", "cancelled")
TYPES = ("in_person", "online")
OCCUPYING = ("enrolled", "attended", "no_show")
"""Enrolment statuses that take a place."""
ACTIVE = ("enrolled", "waitlisted")
"""Enrolment statuses of people still expecting to come."""
MAX_DURATION = 7 * 24 * 60


@dataclass(frozen=True)
class MaterialInput:
    """A pre-read material: what it is called and where it is."""

    name: str
    url: str


def parse_material(text: str, field: str = "material") -> MaterialInput:
    """Read a material written ``NAME=URL``."""
    name, sep, link = text.partition("=")
    if not sep:
        raise ValidationError(f"{field} {text!r} must be written NAME=URL", field=field)
    return MaterialInput(name=name, url=link)


@dataclass(frozen=True)
class SessionInput:
    """Everything an admin enters for a session, as entered."""

    title: str
    date: str | date
    start: str | time
    duration_minutes: int | str
    location: str | None = None
    online_url: str | None = None
    generate_link: bool = False
    trainer: str | None = None
    """Trainer email; empty for none."""
    max_attendees: int | str | None = None
    """None or empty for unlimited."""
    description: str = ""
    course: str | None = None
    """Course title; defaults to the session title."""
    roles: Sequence[str] = ()
    departments: Sequence[str] = ()
    locations: Sequence[str] = ()
    materials: Sequence[MaterialInput] = ()
    expiry_months: int | str | None = None
    notes: str = ""


@dataclass(frozen=True)
class CleanSession:
    """A validated session, times as aware UTC."""

    title: str
    course: str
    description: str
    day: date
    start_time: time
    start: datetime
    duration_minutes: int
    type: str
    location: str | None
    online_url: str | None
    generate_link: bool
    trainer: Trainer | None
    max_attendees: int | None
    visibility: dict[str, list[str]]
    materials: list[MaterialInput]
    expiry_months: int | None
    notes: str

    @property
    def end(self) -> datetime:
        """When the session ends."""
        return self.start + timedelta(minutes=self.duration_minutes)


def local_start(day: date, start: time, zone: ZoneInfo) -> datetime:
    """The aware UTC instant of a local date and time; refuses times a DST change skips."""
    local = datetime.combine(day, start, tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"start {start.strftime('%H:%M')} does not exist on {day.isoformat()} in "
            f"{zone.key} (the clocks go forward)",
            field="start",
        )
    return instant


MAX_VISIBILITY_VALUES = 100
"""Values per visibility dimension of one session (beyond that, "All" is meant)."""
MAX_MATERIALS = 50
"""Pre-read materials per session."""


def _visibility_values(values: Sequence[str], field: str) -> list[str]:
    cleaned = []
    for value in validate.at_most(values, field, MAX_VISIBILITY_VALUES):
        text = validate.optional_text(value, field)
        if text and text.lower() != "all":
            cleaned.append(text)
    return cleaned


def clean_session(data: SessionInput, zone: ZoneInfo | None = None) -> CleanSession:
    """Validate every field of `data`; raises `ValidationError` naming the first bad one."""
    zone = zone or current_settings().zone
    title = validate.required_text(data.title, "title")
    day = validate.parse_date(data.date, "date")
    start_time = validate.parse_time(data.start, "start")
    duration = validate.positive_int(data.duration_minutes, "duration")
    if duration > MAX_DURATION:
        raise ValidationError(f"duration must be at most {MAX_DURATION} minutes", "duration")
    location = validate.clean_text(data.location)
    online_url = validate.clean_text(data.online_url)
    if location and (online_url or data.generate_link):
        raise ValidationError(
            "give either a location (in person) or an online URL, not both", field="location"
        )
    if not location and not online_url and not data.generate_link:
        raise ValidationError(
            "give a location (in person) or an online URL (online)", field="location"
        )
    if location:
        location = validate.required_text(location, "location", 300)
        kind = "in_person"
    else:
        kind = "online"
        if online_url:
            online_url = validate.url(online_url, "online_url")
    max_attendees: int | None = None
    if data.max_attendees not in (None, ""):
        max_attendees = validate.positive_int(data.max_attendees, "max")
    expiry: int | None = None
    if data.expiry_months not in (None, ""):
        expiry = validate.positive_int(data.expiry_months, "expiry_months")
        if expiry > 600:
            raise ValidationError("expiry_months must be at most 600", field="expiry_months")
    trainer = None
    if validate.clean_text(data.trainer):
        trainer = get_trainer(str(data.trainer), field="trainer")
    materials = []
    for item in validate.at_most(data.materials, "material", MAX_MATERIALS):
        name = validate.required_text(item.name, "material", 300)
        materials.append(MaterialInput(name=name, url=validate.url(item.url, "material")))
    course = validate.optional_text(data.course, "course") or title
    return CleanSession(
        title=title,
        course=course,
        description=validate.long_text(data.description, "description"),
        day=day,
        start_time=start_time,
        start=local_start(day, start_time, zone),
        duration_minutes=duration,
        type=kind,
        location=location or None,
        online_url=online_url or None,
        generate_link=bool(data.generate_link) and not online_url,
        trainer=trainer,
        max_attendees=max_attendees,
        visibility={
            "role": _visibility_values(data.roles, "for_role"),
            "department": _visibility_values(data.departments, "for_department"),
            "location": _visibility_values(data.locations, "for_location"),
        },
        materials=materials,
        expiry_months=expiry,
        notes=validate.long_text(data.notes, "notes"),
    )


def get_session(session_id: int | str, field: str = "session") -> Session:
    """The session with this id; `NotFound` naming `field` otherwise."""
    try:
        key = int(session_id)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} {session_id!r} is not a session id", field) from None
    session = Session.get_or_none(Session.id == key)
    if session is None:
        raise NotFound(f"no session with id {key}", field=field)
    return session


def _locked_session(session_id: int | str) -> Session:
    get_session(session_id)
    return lock_for_update(Session.select().where(Session.id == int(session_id))).get()


def _course_for(title: str) -> Course:
    course = Course.get_or_none(peewee.fn.LOWER(Course.title) == title.lower())
    return course or Course.create(title=title)


def _new_uid() -> tuple[str, str]:
    token = uuid.uuid4().hex
    domain = current_settings().organizer_email.rsplit("@", 1)[-1]
    return f"rollcall-{token}@{domain}", token


def _meeting_link(token: str) -> str:
    return current_settings().meeting_url_template.replace("{room}", token)


def describe_when(start: datetime, end: datetime, zone: ZoneInfo | None = None) -> str:
    """A session's time as people read it: ``Tue 1 Dec 2026 09:30-10:30``."""
    zone = zone or current_settings().zone
    a, b = start.astimezone(zone), end.astimezone(zone)
    return f"{a:%a} {a.day} {a:%b %Y %H:%M}-{b:%H:%M}"


def check_trainer_free(
    trainer: Trainer, start: datetime, end: datetime, exclude: Sequence[int] = ()
) -> None:
    """Refuse when the trainer already delivers an overlapping, uncancelled session."""
    clash = (
        Session.select()
        .where(
            (Session.trainer == trainer)
            & Session.cancelled_at.is_null()
            & (Session.start < end)
            & (Session.end > start)
            & Session.id.not_in(list(exclude) or [0])
        )
        .order_by(Session.start)
        .first()
    )
    if clash is not None:
        raise RuleViolation(
            f'{trainer.person.email} already delivers "{clash.title}" (session {clash.id}) '
            f"on {describe_when(clash.start, clash.end)}, which overlaps",
            field="trainer",
        )


def _lock_trainer(trainer: Trainer) -> None:
    # Serialises clash checks for one trainer on PostgreSQL (SQLite's lock covers it).
    lock_for_update(Trainer.select().where(Trainer.id == trainer.id)).get()


def _write_details(session: Session, clean: CleanSession) -> None:
    replace_rules(session, clean.visibility)
    Material.delete().where(Material.session == session).execute()
    for position, item in enumerate(clean.materials):
        Material.create(session=session, position=position, name=item.name, url=item.url)


def create_sessions(
    data: SessionInput, repeat: Repeat | None = None, *, zone: ZoneInfo | None = None
) -> list[Session]:
    """Create a session, or one per occurrence of `repeat` in one new series."""
    zone = zone or current_settings().zone
    clean = clean_session(data, zone)
    starts = occurrences(clean.day, clean.start_time, zone, repeat) if repeat else [clean.start]
    created: list[Session] = []
    with write_transaction():
        require("session.create")
        series = None
        if repeat is not None:
            series = Series.create(id=uuid.uuid4().hex, rule=repeat.rule_text())
        if clean.trainer is not None:
            _lock_trainer(clean.trainer)
        course = _course_for(clean.course)
        duration = timedelta(minutes=clean.duration_minutes)
        for index, start in enumerate(starts):
            end = start + duration
            if clean.trainer is not None:
                check_trainer_free(clean.trainer, start, end)
                for earlier in created:
                    if earlier.start < end and earlier.end > start:
                        raise RuleViolation(
                            f"occurrences {index} and {index + 1} of the series overlap",
                            field="duration",
                        )
            uid, token = _new_uid()
            session = Session.create(
                title=clean.title,
                description=clean.description,
                course=course,
                start=start,
                end=end,
                duration_minutes=clean.duration_minutes,
                type=clean.type,
                location=clean.location,
                online_url=_meeting_link(token) if clean.generate_link else clean.online_url,
                trainer=clean.trainer,
                max_attendees=clean.max_attendees,
                expiry_months=clean.expiry_months,
                notes=clean.notes,
                series=series,
                uid=uid,
            )
            _write_details(session, clean)
            record("session.create", session, after=_edit_state(session))
            if clean.trainer is not None:
                notify.enqueue("trainer_assignment", session, clean.trainer.person)
            created.append(session)
    return created


def session_input_of(session: Session, zone: ZoneInfo | None = None) -> SessionInput:
    """The current values of a session as a `SessionInput` (the starting point of an edit)."""
    zone = zone or current_settings().zone
    local = session.start.astimezone(zone)
    rules = rules_of(session)
    materials = Material.select().where(Material.session == session).order_by(Material.position)
    return SessionInput(
        title=session.title,
        date=local.date(),
        start=local.time().replace(second=0, microsecond=0),
        duration_minutes=session.duration_minutes,
        location=session.location,
        online_url=session.online_url,
        trainer=session.trainer.person.email if session.trainer_id else None,
        max_attendees=session.max_attendees,
        description=session.description,
        course=session.course.title,
        roles=rules["role"],
        departments=rules["department"],
        locations=rules["location"],
        materials=[MaterialInput(m.name, m.url) for m in materials],
        expiry_months=session.expiry_months,
        notes=session.notes,
    )


SIGNIFICANT = ("start", "duration_minutes", "location", "online_url")
"""Changes that move the event in people's calendars (new SEQUENCE, update mail)."""


@dataclass
class EditResult:
    """What an edit changed."""

    session: Session
    changed: list[str] = field(default_factory=list)
    promoted: list[Enrolment] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        """True when the change invalidates people's calendar entries."""
        return any(name in SIGNIFICANT for name in self.changed)


def count_occupying(session: Session) -> int:
    """How many places are taken (enrolled, attended or no-show)."""
    return (
        Enrolment.select()
        .where((Enrolment.session == session) & Enrolment.status.in_(OCCUPYING))
        .count()
    )


def _edit_state(session: Session) -> dict[str, Any]:
    """The fields of a session an edit compares, to tell what changed."""
    return {
        "title": session.title,
        "description": session.description,
        "start": session.start,
        "duration_minutes": session.duration_minutes,
        "location": session.location,
        "online_url": session.online_url,
        "trainer": session.trainer_id,
        "max_attendees": session.max_attendees,
        "expiry_months": session.expiry_months,
        "notes": session.notes,
        "course": session.course_id,
    }


def edit_session(
    session_id: int | str, changes: dict[str, Any], *, zone: ZoneInfo | None = None
) -> EditResult:
    """Apply `changes` (field names of `SessionInput`) to a session.

    Moving the date, time, duration, location or link raises SEQUENCE and
    queues an update to everyone enrolled and the trainer; capacity may not
    go below the places taken; a raised capacity promotes from the waitlist.
    """
    from store.booking import fill_free_places

    zone = zone or current_settings().zone
    unknown = set(changes) - set(SessionInput.__dataclass_fields__)
    if unknown:
        raise ValidationError(f"unknown field(s): {', '.join(sorted(unknown))}", "session")
    with write_transaction():
        session = _locked_session(session_id)
        require("session.edit", session=session)
        if session.cancelled_at is not None:
            raise RuleViolation(
                f"session {session.id} is cancelled and cannot be edited", "session"
            )
        current = session_input_of(session, zone)
        merged = dict(changes)
        if changes.get("online_url") or changes.get("generate_link"):
            merged.setdefault("location", None)
        if changes.get("location"):
            merged.setdefault("online_url", None)
        if merged.get("generate_link") and session.online_url and not changes.get("online_url"):
            merged.pop("generate_link")
        clean = clean_session(replace(current, **merged), zone)
        if clean.generate_link:
            clean = replace(clean, online_url=_meeting_link(uuid.uuid4().hex), generate_link=False)
        taken = count_occupying(session)
        if clean.max_attendees is not None and clean.max_attendees < taken:
            raise RuleViolation(
                f"max cannot be {clean.max_attendees}: {taken} people are already enrolled",
                field="max",
            )
        end = clean.end
        if clean.trainer is not None:
            _lock_trainer(clean.trainer)
            check_trainer_free(clean.trainer, clean.start, end, exclude=[session.id])
        before = _edit_state(session)
        old_trainer = session.trainer
        old_visibility = rules_of(session)
        old_materials = [
            (m.name, m.url)
            for m in Material.select()
            .where(Material.session == session)
            .order_by(Material.position)
        ]
        session.title = clean.title
        session.description = clean.description
        session.start = clean.start
        session.end = end
        session.duration_minutes = clean.duration_minutes
        session.type = clean.type
        session.location = clean.location
        session.online_url = clean.online_url
        session.trainer = clean.trainer
        session.max_attendees = clean.max_attendees
        session.expiry_months = clean.expiry_months
        session.notes = clean.notes
        session.course = _course_for(clean.course)
        after = _edit_state(session)
        result = EditResult(session=session, changed=[k for k in before if before[k] != after[k]])
        if clean.visibility != old_visibility:
            result.changed.append("visibility")
        if [(m.name, m.url) for m in clean.materials] != old_materials:
            result.changed.append("materials")
        if not result.changed:
            return result
        if result.significant or "trainer" in result.changed:
            session.sequence += 1
        session.updated_at = utcnow()
        session.save()
        _write_details(session, clean)
        changed = [k for k in result.changed if k in before]
        record(
            "session.edit",
            session,
            before={k: before[k] for k in changed} | {"changed": result.changed},
            after={k: after[k] for k in changed},
        )
        if result.significant:
            facts = notify.session_snapshot(session)
            attendees = (
                Enrolment.select()
                .where((Enrolment.session == session) & (Enrolment.status == "enrolled"))
                .order_by(Enrolment.id)
            )
            for enrolment in attendees:
                notify.enqueue(
                    "update",
                    session,
                    enrolment.person,
                    enrolment=enrolment,
                    extra={"changed": result.changed},
                    snapshot=facts,
                )
            if session.trainer_id and "trainer" not in result.changed:
                notify.enqueue(
                    "update",
                    session,
                    session.trainer.person,
                    extra={"changed": result.changed},
                    snapshot=facts,
                )
        if "trainer" in result.changed:
            if old_trainer is not None:
                notify.enqueue("trainer_removal", session, old_trainer.person)
            if session.trainer_id:
                notify.enqueue("trainer_assignment", session, session.trainer.person)
        if "max_attendees" in result.changed:
            result.promoted = fill_free_places(session)
        return result


def cancel_session(session_id: int | str, reason: str) -> Session:
    """Cancel a session with a reason; every enrolled or waitlisted person is cancelled."""
    text = validate.clean_multiline(reason)
    if not text:
        raise ValidationError("reason is required to cancel a session", field="reason")
    if len(text) > 2000:
        raise ValidationError("reason is longer than 2000 characters", field="reason")
    now = utcnow()
    with write_transaction():
        session = _locked_session(session_id)
        require("session.cancel", session=session)
        status = session_status(session, now)
        if status == "cancelled":
            raise RuleViolation(f"session {session.id} is already cancelled", field="session")
        if status == "completed":
            raise RuleViolation(
                f"session {session.id} has already taken place and cannot be cancelled",
                field="session",
            )
        session.cancelled_at = now
        session.cancel_reason = text
        session.sequence += 1
        session.updated_at = now
        session.save()
        affected = list(
            Enrolment.select()
            .where((Enrolment.session == session) & Enrolment.status.in_(ACTIVE))
            .order_by(Enrolment.id)
        )
        (
            Enrolment.update(
                status="cancelled", waitlist_position=None, cancelled_at=now, updated_at=now
            )
            .where((Enrolment.session == session) & Enrolment.status.in_(ACTIVE))
            .execute()
        )
        record(
            "session.cancel",
            session,
            before={"status": status},
            after={"status": "cancelled", "reason": text, "enrolments_cancelled": len(affected)},
        )
        facts = notify.session_snapshot(session)
        for enrolment in affected:
            notify.enqueue(
                "cancellation",
                session,
                enrolment.person,
                enrolment=enrolment,
                extra={"reason": text, "was": enrolment.status},
                snapshot=facts,
            )
        if session.trainer_id:
            notify.enqueue(
                "cancellation",
                session,
                session.trainer.person,
                extra={"reason": text},
                snapshot=facts,
            )
        return session


def delete_session(session_id: int | str) -> None:
    """Delete a session that has no enrolments of any status; otherwise say to cancel."""
    with write_transaction():
        session = _locked_session(session_id)
        require("session.delete", session=session)
        count = Enrolment.select().where(Enrolment.session == session).count()
        if count:
            raise RuleViolation(
                f"session {session.id} has {count} enrolment(s) and cannot be deleted; "
                "cancel it instead",
                field="session",
            )
        series = session.series_id
        record("session.delete", session, before=_edit_state(session))
        session.delete_instance(recursive=True)
        if series and not Session.select().where(Session.series == series).exists():
            Series.delete().where(Series.id == series).execute()


def session_status(session: Session, now: datetime | None = None) -> str:
    """scheduled / in_progress / completed / cancelled, derived from the clock."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        return "cancelled"
    if session.finalised_at is not None or session.end <= now:
        return "completed"
    if session.start <= now:
        return "in_progress"
    return "scheduled"


def status_condition(status: str, now: datetime) -> peewee.Expression:
    """A WHERE condition on `Session` matching one derived status."""
    live = Session.cancelled_at.is_null()
    if status == "cancelled":
        return Session.cancelled_at.is_null(False)
    if status == "completed":
        return live & (Session.finalised_at.is_null(False) | (Session.end <= now))
    open_ = live & Session.finalised_at.is_null()
    if status == "in_progress":
        return open_ & (Session.start <= now) & (Session.end > now)
    if status == "scheduled":
        return open_ & (Session.start > now)
    raise ValidationError(
        f"status must be one of {', '.join(STATUSES)}, got {status!r}", field="status"
    )


def sessions_query(
    *,
    status: str | None = None,
    trainer: str | None = None,
    search: str | None = None,
    now: datetime | None = None,
) -> peewee.ModelSelect:
    """Sessions in start order, filtered by status, trainer email and a text search."""
    now = now or utcnow()
    query = Session.select().order_by(Session.start, Session.id)
    if status:
        query = query.where(status_condition(status, now))
    if trainer:
        query = query.where(Session.trainer == get_trainer(trainer, field="trainer"))
    text = validate.clean_text(search)
    if text:
        query = query.where(
            Session.title.contains(text)
            | Session.location.contains(text)
            | Session.description.contains(text)
        )
    return query


def counts_for(session_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Enrolment counts by status for each of `session_ids` in one query."""
    result: dict[int, dict[str, int]] = {sid: {} for sid in session_ids}
    if not session_ids:
        return result
    rows = (
        Enrolment.select(Enrolment.session, Enrolment.status, peewee.fn.COUNT(Enrolment.id))
        .where(Enrolment.session.in_(list(session_ids)))
        .group_by(Enrolment.session, Enrolment.status)
        .tuples()
    )
    for sid, status, count in rows:
        result[sid][status] = count
    return result


def visibility_dimensions() -> tuple[str, ...]:
    """The visibility dimensions, re-exported for forms."""
    return DIMENSIONS
