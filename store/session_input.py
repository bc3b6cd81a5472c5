"""Session input: what a form or the command line gives, cleaned and checked field by field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store import validate
from store.errors import ValidationError
from store.local_time import instant, parse_start, span_text, start_text
from store.models import Material, Session, Trainer
from store.people import get_trainer
from store.settings import current_settings
from store.visibility import rules_of

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
    """``HH:MM``; in a repeated hour followed by the zone reading meant (``01:30 GMT``)."""
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
    """The aware UTC instant of a local date and time (refusing a time the clocks skip)."""
    return instant(day, start, zone)


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
    entered = parse_start(data.start, "start")
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
        start_time=entered.time,
        start=instant(day, data.start if isinstance(data.start, str) else entered, zone),
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


def describe_when(start: datetime, end: datetime, zone: ZoneInfo | None = None) -> str:
    """A session's time as people read it: ``Tue 1 Dec 2026 09:30-10:30``.

    Around a daylight-saving change the times carry their zone abbreviations
    (``Sun 31 Oct 2027 01:30 BST-01:30 GMT``), so a repeated hour is never ambiguous.
    """
    zone = zone or current_settings().zone
    a = start.astimezone(zone)
    return f"{a:%a} {a.day} {a:%b %Y} {span_text(start, end, zone)}"


def when_text(start: datetime, zone: ZoneInfo | None = None) -> str:
    """A session's start as questions and toasts name it: ``Thu 3 Dec 2026 09:30``."""
    zone = zone or current_settings().zone
    a = start.astimezone(zone)
    return f"{a:%a} {a.day} {a:%b %Y} {start_text(start, zone)}"


def session_name(title: str, start: datetime, zone: ZoneInfo | None = None) -> str:
    """A session named for a person, never by its id: ``Fire Safety, Thu 3 Dec 2026 09:30``."""
    return f"{title}, {when_text(start, zone)}"


def session_input_of(session: Session, zone: ZoneInfo | None = None) -> SessionInput:
    """The current values of a session as a `SessionInput` (the starting point of an edit)."""
    zone = zone or current_settings().zone
    local = session.start.astimezone(zone)
    rules = rules_of(session)
    materials = Material.select().where(Material.session == session).order_by(Material.position)
    return SessionInput(
        title=session.title,
        date=local.date(),
        start=start_text(session.start, zone),
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
