"""Peewee models for every concept of the product: people, sessions, enrolments, mail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, overload

import peewee
from peewee import (
    BooleanField,
    CharField,
    DateField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from store import textkey
from store.clock import utcnow
from store.db import database
from store.textkey import fold


class UTCDateTimeField(peewee.Field):
    """An aware datetime stored as naive UTC text/timestamp, read back as aware UTC.

    One fixed text layout keeps SQLite's string comparisons in time order.
    """

    field_type = "DATETIME"

    if TYPE_CHECKING:
        # Tell the type checker that instances hold datetimes, classes the field.
        @overload
        def __get__(self, instance: None, owner: Any) -> UTCDateTimeField: ...
        @overload
        def __get__(self, instance: object, owner: Any) -> Any: ...
        def __get__(self, instance: object, owner: Any) -> Any: ...
        def __set__(self, instance: object, value: datetime | None) -> None: ...

    def db_value(self, value: Any) -> Any:
        """Convert an aware datetime to the stored naive-UTC form."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; attach a time zone")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

    def python_value(self, value: Any) -> Any:
        """Read the stored value back as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                return value.replace(tzinfo=UTC)
            return value.astimezone(UTC)
        return value


FoldedKeys = dict[str, tuple[tuple[str, ...], Callable[..., str]]]
"""Key column -> (the columns it is computed from, the function of their values)."""


class BaseModel(peewee.Model):
    """Binds every model to the store's deferred database; keeps folded key columns.

    A model's `folded_keys` columns (store/textkey.py) are computed here on
    every insert, bulk insert and update that writes their source columns,
    so no writer can leave them stale; an update that writes only some of
    a key's sources is refused, as it could not compute the key.
    """

    folded_keys: ClassVar[FoldedKeys] = {}

    class Meta:
        database = database
        legacy_table_names = False

    @classmethod
    def _with_keys(cls, data: dict[Any, Any], *, partial: bool) -> dict[Any, Any]:
        by_name = {(k.name if isinstance(k, peewee.Field) else k): v for k, v in data.items()}
        fields = cls._meta.fields
        for key, (sources, compute) in cls.folded_keys.items():
            given = [s in by_name for s in sources]
            if partial and not any(given):
                continue
            if partial and not all(given):
                raise TypeError(f"{cls.__name__}.{key} needs {', '.join(sources)} written together")
            values = [by_name[s] if s in by_name else fields[s].default for s in sources]
            data[fields[key]] = compute(*values)
        return data

    @classmethod
    def insert(cls, __data: Any = None, **insert: Any) -> peewee.ModelInsert:
        """An INSERT of one row, with its folded keys."""
        data = cls._with_keys(cls._normalize_data(__data, insert), partial=False)
        return super().insert(data)

    @classmethod
    def insert_many(cls, rows: Any, fields: Any = None) -> peewee.ModelInsert:
        """An INSERT of many rows (dicts, or tuples in `fields` order), with their folded keys."""
        if not cls.folded_keys:
            return super().insert_many(rows, fields)
        dicts = [
            dict(zip(fields, row, strict=True)) if fields is not None else dict(row) for row in rows
        ]
        return super().insert_many([cls._with_keys(d, partial=False) for d in dicts])

    @classmethod
    def update(cls, __data: Any = None, **update: Any) -> peewee.ModelUpdate:
        """An UPDATE that also writes the folded keys of the source columns it writes."""
        data = cls._with_keys(cls._normalize_data(__data, update), partial=True)
        return super().update(data)


class Person(BaseModel):
    """Someone who can book training; email is unique case-insensitively."""

    email = CharField(max_length=320)
    name = CharField(max_length=200)
    department = CharField(max_length=200, default="")
    job_role = CharField(max_length=200, default="")
    location = CharField(max_length=200, default="")
    active = BooleanField(default=True)
    notes = TextField(default="")
    staff_number = CharField(max_length=64, null=True)
    """The number on a staff badge; the kiosk accepts it instead of the email."""
    manager = ForeignKeyField("self", null=True, backref="reports", on_delete="SET NULL")
    """The person this one reports to (a manager sees their reports' training)."""
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    # Folded copies (store/textkey.py) kept by save(); compared instead of LOWER().
    email_key = CharField(max_length=400, default="")
    search_key = TextField(default="")
    folded_keys: ClassVar[FoldedKeys] = {
        "email_key": (("email",), fold),
        "search_key": (("name", "email", "department"), textkey.search_key),
    }


Person.add_index(Person.index(Person.email_key, unique=True, name="person_email_key"))
Person.add_index(Person.index(Person.name, name="person_name"))
Person.add_index(Person.index(Person.department, name="person_department"))
Person.add_index(
    Person.index(peewee.fn.LOWER(Person.staff_number), name="person_staff_number_lower")
)


class Trainer(BaseModel):
    """A person registered to deliver sessions."""

    person = ForeignKeyField(Person, unique=True, backref="trainer_profile", on_delete="CASCADE")
    active = BooleanField(default=True)
    notes = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)


class Course(BaseModel):
    """The training a session delivers; completions belong to the course."""

    title = CharField(max_length=200)
    description = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)
    approval = CharField(max_length=16, default="none")  # none | manager
    title_key = CharField(max_length=300, default="")
    folded_keys: ClassVar[FoldedKeys] = {"title_key": (("title",), fold)}


Course.add_index(Course.index(Course.title_key, unique=True, name="course_title_key"))


class Series(BaseModel):
    """A recurring series: the sessions made from one recurrence rule."""

    id = CharField(primary_key=True, max_length=64)
    rule = TextField()
    created_at = UTCDateTimeField(default=utcnow)


class Session(BaseModel):
    """One scheduled delivery of a course at a time and place."""

    title = CharField(max_length=200)
    description = TextField(default="")
    course = ForeignKeyField(Course, backref="sessions", on_delete="RESTRICT")
    start = UTCDateTimeField()
    end = UTCDateTimeField()
    duration_minutes = IntegerField()
    type = CharField(max_length=16)  # in_person | online
    location = CharField(max_length=300, null=True)
    online_url = CharField(max_length=2000, null=True)
    trainer = ForeignKeyField(Trainer, null=True, backref="sessions", on_delete="SET NULL")
    max_attendees = IntegerField(null=True)
    expiry_months = IntegerField(null=True)
    notes = TextField(default="")
    series = ForeignKeyField(Series, null=True, backref="sessions", on_delete="SET NULL")
    uid = CharField(max_length=255, unique=True)
    sequence = IntegerField(default=0)
    cancelled_at = UTCDateTimeField(null=True)
    cancel_reason = TextField(null=True)
    finalised_at = UTCDateTimeField(null=True)
    # The trainer's answer to their invitation, read like an attendee's (SPEC §7).
    trainer_calendar = CharField(
        max_length=16, default="not_invited", constraints=[peewee.SQL("DEFAULT 'not_invited'")]
    )
    trainer_responded_at = UTCDateTimeField(null=True)
    trainer_response_comment = TextField(null=True)
    trainer_response_sequence = IntegerField(null=True)
    trainer_response_dtstamp = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    approval = CharField(max_length=16, default="none")  # none | manager
    offer_hours = IntegerField(null=True)
    """Hours a freed place is held for the first in line; None follows the setting, 0 is off."""
    # Title, location and description folded, for searching (store/textkey.py).
    search_key = TextField(default="")
    # The place folded, so "Room 1" and "room 1 " are one room when checking clashes.
    place_key = CharField(max_length=300, default="")
    folded_keys: ClassVar[FoldedKeys] = {
        "search_key": (("title", "location", "description"), textkey.search_key),
        "place_key": (("location",), textkey.place_key),
    }

    class Meta:
        indexes = (
            (("start",), False),
            (("place_key", "start"), False),
            (("trainer", "start"), False),
            (("course", "start"), False),
            (("title",), False),
        )


class SessionVisibility(BaseModel):
    """One allowed value of one visibility dimension; none for a dimension means "All"."""

    session = ForeignKeyField(Session, backref="visibility_rows", on_delete="CASCADE")
    dimension = CharField(max_length=16)  # role | department | location
    value = CharField(max_length=200)
    value_key = CharField(max_length=300, default="")
    folded_keys: ClassVar[FoldedKeys] = {"value_key": (("value",), fold)}

    class Meta:
        indexes = ((("session", "dimension", "value"), True),)


class Material(BaseModel):
    """A pre-read material of a session, shown in order."""

    session = ForeignKeyField(Session, backref="material_rows", on_delete="CASCADE")
    position = IntegerField()
    name = CharField(max_length=300)
    url = CharField(max_length=2000)

    class Meta:
        indexes = ((("session", "position"), True),)


class Enrolment(BaseModel):
    """A person on a session, with status, waitlist place and calendar state."""

    session = ForeignKeyField(Session, backref="enrolments", on_delete="RESTRICT")
    person = ForeignKeyField(Person, backref="enrolments", on_delete="RESTRICT")
    status = CharField(max_length=16)  # enrolled | waitlisted | cancelled | attended | no_show
    waitlist_position = IntegerField(null=True)
    waitlisted_at = UTCDateTimeField(null=True)
    calendar = CharField(max_length=16, default="not_invited")
    invited_at = UTCDateTimeField(null=True)
    responded_at = UTCDateTimeField(null=True)
    response_comment = TextField(null=True)
    response_sequence = IntegerField(null=True)
    response_dtstamp = UTCDateTimeField(null=True)
    reminder_sent_at = UTCDateTimeField(null=True)
    cancelled_at = UTCDateTimeField(null=True)
    marked_at = UTCDateTimeField(null=True)
    recorded_after = BooleanField(default=False, constraints=[peewee.SQL("DEFAULT FALSE")])
    """The admin entered this enrolment after the session had started (training held)."""
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    offer_expires_at = UTCDateTimeField(null=True)
    """While `offered`: the moment the held place passes to the next in line."""

    class Meta:
        indexes = (
            (("session", "person"), True),
            (("session", "status", "waitlist_position"), False),
            (("person", "status"), False),
            (("updated_at",), False),
        )


class EnrolmentNote(BaseModel):
    """One entry of an enrolment's notes log."""

    enrolment = ForeignKeyField(Enrolment, backref="notes", on_delete="CASCADE")
    author = CharField(max_length=200)
    text = TextField()
    created_at = UTCDateTimeField(default=utcnow)


class ElearningItem(BaseModel):
    """An e-learning module completed outside rollcall (imported or marked by hand)."""

    name = CharField(max_length=300)
    created_at = UTCDateTimeField(default=utcnow)
    name_key = CharField(max_length=400, default="")
    folded_keys: ClassVar[FoldedKeys] = {"name_key": (("name",), fold)}


ElearningItem.add_index(
    ElearningItem.index(ElearningItem.name_key, unique=True, name="elearning_name_key")
)


class Completion(BaseModel):
    """A person completed a course (by attending a session) or an e-learning item."""

    person = ForeignKeyField(Person, backref="completions", on_delete="CASCADE")
    course = ForeignKeyField(Course, null=True, backref="completions", on_delete="CASCADE")
    elearning = ForeignKeyField(
        ElearningItem, null=True, backref="completions", on_delete="CASCADE"
    )
    session = ForeignKeyField(Session, null=True, backref="completions", on_delete="SET NULL")
    completed_on = DateField()
    expires_on = DateField(null=True)
    source = CharField(max_length=16)  # attendance | import | manual
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("person", "course"), False),
            (("person", "elearning"), False),
            (("session", "person"), False),
            (("expires_on",), False),
        )


class Pathway(BaseModel):
    """A learning pathway: an ordered list of requirements."""

    name = CharField(max_length=200)
    description = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)
    name_key = CharField(max_length=300, default="")
    folded_keys: ClassVar[FoldedKeys] = {"name_key": (("name",), fold)}


class PathwayRequirement(BaseModel):
    """One step of a pathway: an e-learning item or a group of courses/sessions."""

    pathway = ForeignKeyField(Pathway, backref="requirements", on_delete="CASCADE")
    position = IntegerField()
    kind = CharField(max_length=16)  # sessions | elearning
    mode = CharField(max_length=8, default="all")  # all | any
    label = CharField(max_length=300)
    elearning = ForeignKeyField(ElearningItem, null=True, on_delete="RESTRICT")

    class Meta:
        indexes = ((("pathway", "position"), True),)


class RequirementCourse(BaseModel):
    """A course that is part of a requirement group."""

    requirement = ForeignKeyField(PathwayRequirement, backref="course_rows", on_delete="CASCADE")
    course = ForeignKeyField(Course, on_delete="CASCADE")


class RequirementSession(BaseModel):
    """A specific session that is part of a requirement group."""

    requirement = ForeignKeyField(PathwayRequirement, backref="session_rows", on_delete="CASCADE")
    session = ForeignKeyField(Session, on_delete="CASCADE")


class Outbox(BaseModel):
    """A message waiting to be (or already) sent; written with the change that caused it."""

    kind = CharField(max_length=32)
    status = CharField(max_length=16, default="pending")  # pending | sending | sent | failed
    recipient = CharField(max_length=320)
    recipient_name = CharField(max_length=200, default="")
    session = ForeignKeyField(Session, null=True, backref="outbox", on_delete="SET NULL")
    enrolment = ForeignKeyField(Enrolment, null=True, backref="outbox", on_delete="SET NULL")
    payload = TextField(default="{}")
    """JSON snapshot of the facts the message states, taken in the change's transaction."""
    message_id = CharField(max_length=255, unique=True)
    subject = TextField(default="")
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(default=utcnow)
    claimed_by = CharField(max_length=100, null=True)
    claimed_until = UTCDateTimeField(null=True)
    sent_at = UTCDateTimeField(null=True)
    last_error = TextField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)


ALL_MODELS: list[type[BaseModel]] = [
    Person,
    Trainer,
    Course,
    Series,
    Session,
    SessionVisibility,
    Material,
    Enrolment,
    EnrolmentNote,
    ElearningItem,
    Completion,
    Pathway,
    PathwayRequirement,
    RequirementCourse,
    RequirementSession,
    Outbox,
]
