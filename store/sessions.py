"""Session rules: create (also as a recurring series), edit, cancel and delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from store import mail_queue, validate
from store.access import record, require
from store.clock import utcnow
from store.db import database, is_postgres, lock_for_update, write_transaction
from store.errors import PlaceClash, RuleViolation, ValidationError
from store.lookup import by_id
from store.models import Course, Enrolment, Material, Series, Session, Trainer
from store.recurrence import Repeat, occurrences
from store.session_input import (
    CleanSession,
    SessionInput,
    clean_session,
    describe_when,
    session_input_of,
)
from store.session_queries import refuse_status, session_status
from store.settings import current_settings
from store.statuses import ACTIVE, HOLDING, WAITING_ON_SOMEONE
from store.textkey import fold, place_key
from store.visibility import replace_rules, rules_of


def get_session(session_id: int | str, field: str = "session") -> Session:
    """The session with this id; `NotFound` naming `field` otherwise."""
    return by_id(Session, session_id, field, "session")


def _locked_session(session_id: int | str) -> Session:
    get_session(session_id)
    return lock_for_update(Session.select().where(Session.id == int(session_id))).get()


def _course_for(title: str) -> Course:
    course = Course.get_or_none(Course.title_key == fold(title))
    return course or Course.create(title=title)


def _new_uid() -> tuple[str, str]:
    token = uuid.uuid4().hex
    domain = current_settings().organizer_email.rsplit("@", 1)[-1]
    return f"rollcall-{token}@{domain}", token


def _meeting_link(token: str) -> str:
    return current_settings().meeting_url_template.replace("{room}", token)


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


def place_clash(
    location: str | None, start: datetime, end: datetime, exclude: Sequence[int] = ()
) -> Session | None:
    """The first uncancelled in-person session in the same place that overlaps, if any.

    Places are compared by their folded key, so "Room 1" and "room 1" are one room.
    """
    key = place_key(location)
    if not key:
        return None
    return (
        Session.select()
        .where(
            (Session.place_key == key)
            & (Session.type == "in_person")
            & Session.cancelled_at.is_null()
            & (Session.start < end)
            & (Session.end > start)
            & Session.id.not_in(list(exclude) or [0])
        )
        .order_by(Session.start, Session.id)
        .first()
    )


def check_place_free(
    location: str | None, start: datetime, end: datetime, exclude: Sequence[int] = ()
) -> None:
    """Refuse (`PlaceClash`) when another session overlaps in the same place."""
    if is_postgres() and place_key(location):
        # Two admins booking one room at once: the second waits for the first's commit
        # (there is no row to lock for a place; SQLite's write lock covers it).
        database.obj.execute_sql(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", (place_key(location),)
        )
    clash = place_clash(location, start, end, exclude)
    if clash is not None:
        raise PlaceClash(
            f'{clash.location} is already booked for "{clash.title}" (session {clash.id}) '
            f"on {describe_when(clash.start, clash.end)}, which overlaps",
            clash.id,
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
    data: SessionInput,
    repeat: Repeat | None = None,
    *,
    zone: ZoneInfo | None = None,
    allow_clash: bool = False,
) -> list[Session]:
    """Create a session, or one per occurrence of `repeat` in one new series.

    An in-person session overlapping another in the same place is refused
    (`PlaceClash`) unless `allow_clash`.
    """
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
            if clean.type == "in_person" and not allow_clash:
                check_place_free(clean.location, start, end)
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
                trainer_calendar="invited" if clean.trainer is not None else "not_invited",
                max_attendees=clean.max_attendees,
                expiry_months=clean.expiry_months,
                notes=clean.notes,
                series=series,
                uid=uid,
            )
            _write_details(session, clean)
            record("session.create", session, after=_edit_state(session))
            if clean.trainer is not None:
                mail_queue.enqueue("trainer_assignment", session, clean.trainer.person)
            created.append(session)
    return created


SIGNIFICANT = ("start", "duration_minutes", "location", "online_url")
"""Changes that move the event: people's earlier answers may no longer hold."""

CALENDAR_FIELDS = (*SIGNIFICANT, "title", "description", "trainer", "materials")
"""Changes people want in their calendars: each raises SEQUENCE and sends an update."""

EDITED = (
    "title",
    "description",
    *SIGNIFICANT,
    "trainer",
    "max_attendees",
    "expiry_months",
    "notes",
    "course",
)
"""The fields an edit compares, in the order its changes are listed."""


@dataclass
class EditResult:
    """What an edit changed."""

    session: Session
    changed: list[str] = field(default_factory=list)
    promoted: list[Enrolment] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        """True when the change moves the event (time, length or place)."""
        return any(name in SIGNIFICANT for name in self.changed)

    @property
    def calendar_changed(self) -> bool:
        """True when people's calendar entries need the update this edit sends."""
        return any(name in CALENDAR_FIELDS for name in self.changed)


def count_occupying(session: Session) -> int:
    """How many places are taken (enrolled, attended, no-show, or held for an offer)."""
    return (
        Enrolment.select()
        .where((Enrolment.session == session) & Enrolment.status.in_(HOLDING))
        .count()
    )


def _edit_state(session: Session) -> dict[str, Any]:
    """The fields of a session an edit compares, to tell what changed (trainer and course by id)."""
    by_id = {"trainer": session.trainer_id, "course": session.course_id}
    return {name: by_id[name] if name in by_id else getattr(session, name) for name in EDITED}


def edit_session(
    session_id: int | str,
    changes: dict[str, Any],
    *,
    zone: ZoneInfo | None = None,
    allow_clash: bool = False,
) -> EditResult:
    """Apply `changes` (field names of `SessionInput`) to a session.

    A change people want in their calendars (time, duration, place or link,
    title, description, trainer, pre-read) raises SEQUENCE and queues an
    update to everyone enrolled and the trainer; capacity may not
    go below the places taken; a raised capacity promotes from the waitlist.
    Moving an in-person session onto another one in the same place (new time,
    length or place) is refused (`PlaceClash`) unless `allow_clash`.
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
        moved = (clean.start, end, place_key(clean.location)) != (
            session.start,
            session.end,
            session.place_key,
        )
        if clean.type == "in_person" and moved and not allow_clash:
            check_place_free(clean.location, clean.start, end, exclude=[session.id])
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
        if result.calendar_changed:
            session.sequence += 1
        if "trainer" in result.changed:
            # The new trainer has not answered yet; the old one's answer no longer counts.
            session.trainer_calendar = "invited" if session.trainer_id else "not_invited"
            session.trainer_responded_at = None
            session.trainer_response_comment = None
            session.trainer_response_sequence = None
            session.trainer_response_dtstamp = None
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
        if result.calendar_changed:
            facts = mail_queue.session_snapshot(session)
            # Everyone enrolled holds the event: their confirmation carried it.
            attendees = (
                Enrolment.select()
                .where((Enrolment.session == session) & (Enrolment.status == "enrolled"))
                .order_by(Enrolment.id)
            )
            for enrolment in attendees:
                mail_queue.enqueue(
                    "update",
                    session,
                    enrolment.person,
                    enrolment=enrolment,
                    extra={"changed": result.changed},
                    snapshot=facts,
                )
            if session.trainer_id and "trainer" not in result.changed:
                mail_queue.enqueue(
                    "update",
                    session,
                    session.trainer.person,
                    extra={"changed": result.changed},
                    snapshot=facts,
                )
        if "trainer" in result.changed:
            if old_trainer is not None:
                mail_queue.enqueue("trainer_removal", session, old_trainer.person)
            if session.trainer_id:
                mail_queue.enqueue("trainer_assignment", session, session.trainer.person)
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
        refuse_status(
            session,
            status,
            {
                "cancelled": "is already cancelled",
                "completed": "has already taken place and cannot be cancelled",
            },
        )
        session.cancelled_at = now
        session.cancel_reason = text
        session.sequence += 1
        session.updated_at = now
        session.save()
        live = (*ACTIVE, *WAITING_ON_SOMEONE)
        affected = list(
            Enrolment.select()
            .where((Enrolment.session == session) & Enrolment.status.in_(live))
            .order_by(Enrolment.id)
        )
        (
            Enrolment.update(
                status="cancelled", waitlist_position=None, cancelled_at=now, updated_at=now
            )
            .where((Enrolment.session == session) & Enrolment.status.in_(live))
            .execute()
        )
        record(
            "session.cancel",
            session,
            before={"status": status},
            after={"status": "cancelled", "reason": text, "enrolments_cancelled": len(affected)},
        )
        from store.approvals import close_for_cancelled_session

        close_for_cancelled_session(session, now)
        facts = mail_queue.session_snapshot(session)
        for enrolment in affected:
            mail_queue.enqueue(
                "cancellation",
                session,
                enrolment.person,
                enrolment=enrolment,
                extra={
                    "reason": text,
                    "was": enrolment.status,
                    "invited": enrolment.calendar != "not_invited",
                },
                snapshot=facts,
            )
        if session.trainer_id:
            mail_queue.enqueue(
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
