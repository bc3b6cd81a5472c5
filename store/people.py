"""People and trainers: add, look up, edit, deactivate, import from CSV."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import peewee

from store import textkey, validate
from store.access import record, require
from store.clock import utcnow
from store.csvfile import data_rows, open_csv, read_csv_bytes
from store.db import in_batches, write_transaction
from store.errors import NotFound, RuleViolation, ValidationError
from store.lookup import by_id
from store.models import Person, Trainer
from store.textkey import fold

A = TypeVar("A", Person, Trainer)

IMPORT_HEADER = ("email", "name", "department", "role", "location")


def find_person(email: str) -> Person | None:
    """The person with this email (case-insensitive), or None."""
    return Person.get_or_none(Person.email_key == fold(validate.clean_text(email)))


def get_person(email: str, field: str = "email") -> Person:
    """The person with this email; `NotFound` naming `field` otherwise."""
    person = find_person(email)
    if person is None:
        raise NotFound(f"no person with email {validate.clean_text(email)!r}", field=field)
    return person


@dataclass(frozen=True)
class PersonInput:
    """The editable fields of a person."""

    email: str
    name: str
    department: str = ""
    role: str = ""
    location: str = ""
    notes: str = ""
    staff_number: str | None = None
    """The badge number the kiosk accepts; None leaves a stored one as it is."""

    def cleaned(self) -> PersonInput:
        """A validated copy; raises `ValidationError` naming the bad field."""
        return PersonInput(
            email=validate.email_address(self.email),
            name=validate.required_text(self.name, "name"),
            department=validate.optional_text(self.department, "department"),
            role=validate.optional_text(self.role, "role"),
            location=validate.optional_text(self.location, "location"),
            notes=validate.long_text(self.notes, "notes"),
            staff_number=(
                None
                if self.staff_number is None
                else validate.optional_text(self.staff_number, "staff_number", max_length=64)
            ),
        )


def add_person(data: PersonInput) -> Person:
    """Create a person; refuses a duplicate email (compared case-insensitively)."""
    clean = data.cleaned()
    with write_transaction():
        require("people")
        if find_person(clean.email) is not None:
            raise RuleViolation(f"a person with email {clean.email!r} already exists", "email")
        person = _write(Person(), clean)
        record("person.add", person=person, after=_person_state(person))
        return person


def _write(person: Person, data: PersonInput, *, notes: bool = True) -> Person:
    """Copy cleaned `data` onto `person` (new or not) and save it.

    Through save(), so the folded search keys follow the name and department;
    a staff number of None keeps the one on file, and `notes` False keeps the notes
    (a CSV file has none).
    """
    person.email = data.email
    person.name = data.name
    person.department = data.department
    person.job_role = data.role
    person.location = data.location
    if notes:
        person.notes = data.notes
    if data.staff_number is not None:
        person.staff_number = data.staff_number or None
    person.updated_at = utcnow()
    person.save()
    return person


def _person_state(person: Person) -> dict[str, object]:
    fields = ("email", "name", "department", "job_role", "location", "active")
    return {name: getattr(person, name) for name in fields}


def update_person(person_id: int, data: PersonInput) -> Person:
    """Replace a person's editable fields; the email must stay unique."""
    clean = data.cleaned()
    with write_transaction():
        require("people")
        person = by_id(Person, person_id, "id", "person")
        before = _person_state(person)
        other = find_person(clean.email)
        if other is not None and other.id != person.id:
            raise RuleViolation(f"a person with email {clean.email!r} already exists", "email")
        _write(person, clean)
        record("person.edit", person=person, before=before, after=_person_state(person))
        return person


def set_person_active(person_id: int, active: bool) -> Person:
    """Deactivate (or reactivate) a person; inactive people cannot book."""
    return _set_active(Person, person_id, active)


def _set_active(model: type[A], row_id: int, active: bool) -> A:
    """Switch a person's or trainer's `active` flag, audited."""
    noun = "person" if model is Person else "trainer"
    with write_transaction():
        require("people")
        row = by_id(model, row_id, "id", noun)
        record(
            f"{noun}.active",
            person=row if isinstance(row, Person) else row.person,
            before={"active": row.active},
            after={"active": active},
        )
        row.active = active
        if isinstance(row, Person):
            row.updated_at = utcnow()
        row.save()
        return row


@dataclass
class ImportPreview:
    """What a CSV import would do: rows to add or update, and errors by line."""

    new: list[PersonInput] = field(default_factory=list)
    updates: list[PersonInput] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    managers: dict[str, str] = field(default_factory=dict)
    """Email -> manager email, from the optional ``manager`` column."""
    changes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    """Email of an existing person -> (field, old, new) for each field the row changes."""

    @property
    def ok(self) -> bool:
        """True when no line has an error."""
        return not self.errors


def preview_people_csv(text: str) -> ImportPreview:
    """Check a people CSV (header email,name,department,role,location) without writing.

    Existing emails become updates; errors carry their line number (the header is line 1).
    """
    preview = ImportPreview()
    opened = open_csv(
        text,
        ("email", "name"),
        ("department", "role", "location", "staff_number", "manager"),
        preview.errors,
    )
    if opened is None:
        return preview
    reader, header = opened
    seen: dict[str, int] = {}
    for line, values in data_rows(reader, header, preview.errors):
        data = PersonInput(
            email=values.get("email", ""),
            name=values.get("name", ""),
            department=values.get("department", ""),
            role=values.get("role", ""),
            location=values.get("location", ""),
            staff_number=values.get("staff_number"),
        )
        try:
            clean = data.cleaned()
        except ValidationError as exc:
            preview.errors.append((line, str(exc)))
            continue
        key = fold(clean.email)
        if key in seen:
            preview.errors.append((line, f"email: {clean.email!r} is also on line {seen[key]}"))
            continue
        seen[key] = line
        existing = find_person(clean.email)
        (preview.updates if existing else preview.new).append(clean)
        if existing is not None:
            preview.changes[key] = _changed_fields(existing, clean)
        if values.get("manager", "").strip():
            preview.managers[key] = fold(values["manager"].strip())
    for key, manager in preview.managers.items():
        if manager == key or (manager not in seen and find_person(manager) is None):
            why = "is the person themselves" if manager == key else "is not a known person"
            preview.errors.append((seen[key], f"manager: {manager!r} {why}"))
    return preview


def _changed_fields(person: Person, data: PersonInput) -> list[tuple[str, str, str]]:
    """(field, old, new) for each field an import row would change on `person`."""
    pairs = [
        ("name", person.name, data.name),
        ("department", person.department, data.department),
        ("role", person.job_role, data.role),
        ("location", person.location, data.location),
    ]
    if data.staff_number is not None:
        pairs.append(("staff_number", person.staff_number or "", data.staff_number))
    return [(name, old or "", new or "") for name, old, new in pairs if (old or "") != (new or "")]


def import_people_csv(text: str) -> ImportPreview:
    """Import a people CSV: all rows or none. Raises `ValidationError` listing bad lines."""
    preview = preview_people_csv(text)
    if not preview.ok:
        lines = "; ".join(f"line {n}: {msg}" for n, msg in preview.errors)
        raise ValidationError(f"import refused, nothing imported: {lines}", field="csv")
    rows = [(data, True) for data in preview.new] + [(data, False) for data in preview.updates]
    # Short transactions: a big file never holds the write lock for more than a moment.
    for batch in in_batches(rows):
        with write_transaction():
            require("people")
            added = 0
            for data, new in batch:
                # Someone may have added the person since the preview: update them then.
                if new and find_person(data.email) is None:
                    _write(Person(), data, notes=False)
                    added += 1
                    continue
                _write(Person.get(Person.email_key == fold(data.email)), data, notes=False)
            record("person.import", after={"added": added, "updated": len(batch) - added})
    if preview.managers:
        with write_transaction():
            require("people")
            for key, manager in preview.managers.items():
                boss = find_person(manager)
                Person.update(manager=boss).where(Person.email_key == key).execute()
    return preview


def read_csv_file(path: str | Path, field: str = "file", encoding: str | None = None) -> str:
    """Read a CSV file as text (see `store.csvfile.decode_csv`); errors name `field`.

    A leading ``~`` is the home directory, as in a shell (a path typed in the app
    is not expanded by any shell).
    """
    return read_csv_bytes(Path(path).expanduser(), encoding, field)


def add_trainer(email: str, name: str | None = None) -> Trainer:
    """Register a person as a trainer, creating the person when new (then `name` is needed)."""
    address = validate.email_address(email)
    with write_transaction():
        require("people")
        person = find_person(address)
        if person is None:
            if not validate.clean_text(name):
                raise ValidationError(
                    f"name is required to create the new person {address!r}", field="name"
                )
            person = Person.create(email=address, name=validate.required_text(name, "name"))
        existing = Trainer.get_or_none(Trainer.person == person)
        if existing is not None:
            if existing.active:
                raise RuleViolation(f"{address!r} is already a trainer", field="email")
            existing.active = True
            existing.save()
            record("trainer.add", person=person, before={"active": False}, after={"active": True})
            return existing
        record("trainer.add", person=person, after={"active": True})
        return Trainer.create(person=person)


def get_trainer(email: str, field: str = "trainer") -> Trainer:
    """The active trainer with this email; `NotFound` naming `field` otherwise."""
    person = find_person(email)
    trainer = (
        Trainer.get_or_none((Trainer.person == person) & (Trainer.active == True))  # noqa: E712
        if person
        else None
    )
    if trainer is None:
        raise NotFound(f"{validate.clean_text(email)!r} is not a registered trainer", field=field)
    return trainer


def set_trainer_active(trainer_id: int, active: bool) -> Trainer:
    """Deactivate (or reactivate) a trainer; inactive trainers cannot be assigned."""
    return _set_active(Trainer, trainer_id, active)


def trainers_by_id(
    trainer_ids: Iterable[int], column: peewee.Field | None = None
) -> dict[int, str]:
    """One field of each trainer's person (the name by default, or `column`), in one query."""
    ids = set(trainer_ids)
    if not ids:
        return {}
    query = (
        Trainer.select(Trainer.id, column or Person.name)
        .join(Person, on=(Trainer.person == Person.id))
        .where(Trainer.id.in_(ids))
        .tuples()
    )
    return dict(query)


def people_query(search: str = "", *, active_only: bool = False) -> peewee.ModelSelect:
    """People ordered by name, narrowed by a search over name, email and department."""
    query = Person.select().order_by(Person.name, Person.id)
    text = validate.clean_text(search)
    if text:
        query = query.where(textkey.contains(Person.search_key, text))
    if active_only:
        query = query.where(Person.active == True)  # noqa: E712
    return query
