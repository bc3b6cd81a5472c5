"""Who is acting, what their role lets them change, and the append-only audit log.

The edge (the CLI, `rollcall shell`, the app, the worker) says once who acts
with `set_actor` (or `acting_as` for a stretch of automatic work); every rule
that changes data calls `require(...)` before it changes anything and
`record(...)` in the same transaction after. Nothing here trusts the
environment for identity: a local login comes from the OS (``getuid`` →
passwd), a remote person from the argument of their SSH key's forced command.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
import json
import os
import pwd
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import peewee
from peewee import CharField, ForeignKeyField, IntegerField, TextField

from store.clock import utcnow
from store.errors import RollcallError, ValidationError
from store.models import BaseModel, Person, Session, Trainer, UTCDateTimeField
from store.settings import Settings

ROLES = ("admin", "trainer", "manager", "learner")
"""The roles a person can be granted; a person without a grant is a learner."""

SELF_SERVICE = frozenset({"book", "unbook", "interest"})
"""What anyone may do for themselves (My calendar)."""
TRAINER_OWN = frozenset({"register", "promote", "note", "email"})
"""What a trainer may do on the sessions they train."""

F = TypeVar("F", bound=Callable[..., Any])


class NotAllowed(RollcallError):
    """The acting person's role does not allow the change."""


class AccessRole(BaseModel):
    """The role granted to a person (`rollcall access grant`)."""

    person = ForeignKeyField(Person, unique=True, backref="access_role", on_delete="CASCADE")
    role = CharField(max_length=16)
    updated_at = UTCDateTimeField(default=utcnow)


class AuditEntry(BaseModel):
    """One change: when, who, what, on which session and person, and the values before/after.

    Append-only: rows are never updated or deleted (triggers refuse it), and
    `session_id` is a plain number so the row outlives a deleted session.
    """

    at = UTCDateTimeField(default=utcnow)
    actor = CharField(max_length=320)
    action = CharField(max_length=40)
    session_id = IntegerField(null=True)
    person = CharField(max_length=320, null=True)
    before = TextField(null=True)
    after = TextField(null=True)

    class Meta:
        table_name = "audit_entry"
        indexes = (
            (("at",), False),
            (("session_id", "at"), False),
            (("person", "at"), False),
            (("actor", "at"), False),
        )


ACCESS_MODELS: list[type[BaseModel]] = [AccessRole, AuditEntry]


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (SSH key or mapped login), a local unix login, or an automatic job."""

    name: str
    """What the audit log shows: the person's email, the unix login, ``worker``, ``rsvp``."""
    role: str
    """``admin``, ``trainer``, ``manager`` or ``learner`` (``kiosk`` for the room screen)."""
    person_id: int | None = None
    """The person acting, when it is a person."""


WORKER = Actor("worker", "admin")
"""The worker's clock, reminders, sending and automatic promotions."""
RSVP = Actor("rsvp", "admin")
"""Calendar replies applied from the mailbox."""
KIOSK = Actor("kiosk", "kiosk")
"""The self check-in screen of a room: it marks attendance, nothing else."""

_acting: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("actor", default=None)
_process_actor: Actor | None = None


def local_login() -> str:
    """The unix login of this process, from the OS (never ``LOGNAME``/``USER``)."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid{uid}"


def set_actor(actor: Actor) -> None:
    """Say who acts for the rest of this process (the edge calls this once)."""
    global _process_actor
    _process_actor = actor


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    """Act as `actor` inside the block (this thread or task only)."""
    token = _acting.set(actor)
    try:
        yield actor
    finally:
        _acting.reset(token)


def as_actor(actor: Actor) -> Callable[[F], F]:
    """Decorate a function that always acts as `actor` (``rsvp`` for applied replies)."""

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with acting_as(actor):
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def actor_is_set() -> bool:
    """True once the edge said who acts in this process."""
    return _process_actor is not None


def current_actor() -> Actor:
    """Who acts now; trusted in-process code with no edge (tests, scripts) is the local admin."""
    return _acting.get() or _process_actor or Actor(local_login(), "admin")


def role_of(person: Person) -> str:
    """The role granted to `person` (``learner`` without a grant)."""
    row = AccessRole.get_or_none(AccessRole.person == person)
    return row.role if row else "learner"


def person_actor(person: Person) -> Actor:
    """The actor for a person reaching rollcall through their SSH key."""
    return Actor(person.email, role_of(person), person.id)


def _owner(path: str) -> int | None:
    try:
        return Path(path).stat().st_uid
    except OSError:
        return None


def service_owner_uid(settings: Settings) -> int:
    """The uid of the account that owns this rollcall: the owner of its SQLite database.

    On PostgreSQL the database password is the gate, so the owner of the
    config file stands in; with nothing on disk yet, whoever runs it owns it.
    """
    from store.db import default_sqlite_path, sqlite_file

    path = sqlite_file(settings.db) if settings.db else str(default_sqlite_path())
    candidates = [path, str(Path(path).parent)] if path else [settings.config_path]
    for candidate in candidates:
        uid = _owner(candidate) if candidate else None
        if uid is not None:
            return uid
    return os.getuid()


def _trusted_config(settings: Settings) -> bool:
    # A config file anyone may write (their own --config) says nothing about who is who.
    owner = _owner(settings.config_path) if settings.config_path else None
    return owner is not None and owner in (0, service_owner_uid(settings))


def mapped_login(settings: Settings) -> str | None:
    """The email ``[logins]`` maps this unix login to, from a config root or the service owns."""
    if not _trusted_config(settings):
        return None
    return settings.logins.get(local_login())


def local_actor(settings: Settings) -> Actor:
    """The actor of a unix user running `rollcall` on the server.

    Admins are root, the service account (the owner of the database) and the
    logins listed in ``admins`` of a config file that root or the service
    account owns; a login mapped to a person in ``[logins]`` acts as that
    person in their granted role; anyone else is a learner who is nobody in
    particular, so may change nothing.
    """
    from store.people import find_person

    login = local_login()
    if _trusted_config(settings) and login in settings.admins:
        return Actor(login, "admin")
    email = mapped_login(settings)
    person = find_person(email) if email else None
    if person is not None:
        return person_actor(person)
    if os.getuid() in (0, service_owner_uid(settings)):
        return Actor(login, "admin")
    return Actor(login, "learner")


def _refuse(actor: Actor) -> NotAllowed:
    return NotAllowed(refusal(actor))


def refusal(actor: Actor) -> str:
    """What a refused change says: ``not allowed for a trainer``."""
    article = "an" if actor.role[:1] in "aeiou" else "a"
    return f"not allowed for {article} {actor.role}"


def role_refusal(permission: str, *, trains: bool = False) -> str | None:
    """Why the current actor's role may not do `permission`, or None when it may.

    The same answer as `require` without reading the database, for keys to grey
    out before they are pressed: `trains` says whether the actor trains the
    session concerned (the caller read that with the session). Self-service
    (booking oneself) is left to `require`.
    """
    actor = current_actor()
    if actor.role == "admin":
        return None
    if actor.role == "kiosk" and permission in ("register", "book"):
        return None
    if actor.role == "trainer" and permission in TRAINER_OWN:
        if trains:
            return None
        return "only this session's trainer or an admin may do this"
    if actor.role == "manager" and permission == "approve":
        return None
    return f"{refusal(actor)}: ask an admin"


def _trains(actor: Actor, session: Session | int | str | None) -> bool:
    if session is None or actor.person_id is None:
        return False
    session_id = session.id if isinstance(session, Session) else int(session)
    return (
        Session.select()
        .join(Trainer)
        .where((Session.id == session_id) & (Trainer.person == actor.person_id))
        .exists()
    )


def require(
    permission: str,
    *,
    session: Session | int | str | None = None,
    person: Person | None = None,
) -> Actor:
    """Check that the current actor may do `permission`; raise `NotAllowed` if not.

    Admins may do everything; anyone with a person may ``book``/``unbook``
    themselves; trainers may take the register, promote, write notes and
    email attendees on the sessions they train; the kiosk may take the register
    and book someone at the door onto a free place.
    """
    actor = current_actor()
    if actor.role == "admin":
        return actor
    if permission in SELF_SERVICE and person is not None and person.id == actor.person_id:
        return actor
    if actor.role == "trainer" and permission in TRAINER_OWN and _trains(actor, session):
        return actor
    if actor.role == "kiosk" and permission in ("register", "book"):
        # The room's screen marks people in, and books those it offered a free place.
        return actor
    raise _refuse(actor)


def require_read(person: Person) -> None:
    """Check that the current actor may see `person`'s bookings and progress.

    Admins and trainers see everyone; a manager sees themselves and the people
    who report to them; a learner only themselves.
    """
    actor = current_actor()
    if actor.role in ("admin", "trainer") or person.id == actor.person_id:
        return
    if actor.role == "manager" and actor.person_id is not None:
        if person.manager_id == actor.person_id:
            return
    raise _refuse(actor)


def _json(value: Any) -> str | None:
    if value is None:
        return None

    def default(obj: Any) -> Any:
        if isinstance(obj, (datetime, date, time)):
            return obj.isoformat()
        return str(obj)

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=default)


def record(
    action: str,
    session: Session | int | None = None,
    person: Person | str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit row for a change, inside the caller's transaction."""
    AuditEntry.create(
        actor=current_actor().name,
        action=action,
        session_id=session.id if isinstance(session, Session) else session,
        person=person.email if isinstance(person, Person) else person,
        before=_json(before),
        after=_json(after),
    )


def audited(action: str) -> Callable[[F], F]:
    """Decorate an admin-only change: refuse other roles, record the call's arguments.

    The check, the change and the audit row share one transaction.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from store.db import write_transaction

            with write_transaction():
                require(action)
                result = func(*args, **kwargs)
                record(action, after=dict(signature.bind(*args, **kwargs).arguments))
                return result

        return wrapper  # type: ignore[return-value]

    return decorate


def enrolment_state(enrolment: Any) -> dict[str, Any] | None:
    """The audited facts of an enrolment (None when there is none)."""
    if enrolment is None:
        return None
    return {
        "status": enrolment.status,
        "waitlist_position": enrolment.waitlist_position,
        "calendar": enrolment.calendar,
    }


# --- Roles -------------------------------------------------------------------


def set_role(person: Person, role: str | None) -> str:
    """Grant `role` to `person` (None: back to learner); returns the role they had.

    The caller holds the write transaction and records the change.
    """
    if role is not None and role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(ROLES)}, got {role!r}", "role")
    before = role_of(person)
    AccessRole.delete().where(AccessRole.person == person).execute()
    if role is not None:
        AccessRole.create(person=person, role=role)
    return before


def roles() -> dict[str, str]:
    """Every granted role: email -> role."""
    query = AccessRole.select(AccessRole.role, Person.email).join(Person)
    return {row.person.email: row.role for row in query}


# --- Reading the log ---------------------------------------------------------


def audit_query(
    *,
    since: date | None = None,
    session: int | None = None,
    person: str | None = None,
    actor: str | None = None,
) -> peewee.ModelSelect:
    """Audit rows, newest first, narrowed by day, session, person and actor."""
    require("audit")
    query = AuditEntry.select().order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if since is not None:
        start = datetime.combine(since, time.min, tzinfo=utcnow().tzinfo)
        query = query.where(AuditEntry.at >= start)
    if session is not None:
        query = query.where(AuditEntry.session_id == session)
    if person:
        query = query.where(peewee.fn.LOWER(AuditEntry.person) == person.strip().lower())
    if actor:
        query = query.where(peewee.fn.LOWER(AuditEntry.actor) == actor.strip().lower())
    return query


def audit_dict(entry: AuditEntry) -> dict[str, Any]:
    """The `rollcall audit --json` object of one row."""
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "session_id": entry.session_id,
        "person": entry.person,
        "before": json.loads(entry.before) if entry.before else None,
        "after": json.loads(entry.after) if entry.after else None,
    }


APPEND_ONLY_SQL = {
    "sqlite": [
        "CREATE TRIGGER IF NOT EXISTS audit_entry_no_update BEFORE UPDATE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
        "CREATE TRIGGER IF NOT EXISTS audit_entry_no_delete BEFORE DELETE ON audit_entry "
        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_entry",
        "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
        "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()",
    ],
}
"""Triggers that refuse to change or remove audit rows, per database."""
