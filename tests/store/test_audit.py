"""Every change writes one audit row with the right actor, and roles are checked in the store."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import pytest

from mail.reply import read_reply
from store import attendance, booking, outbox
from store.access import (
    WORKER,
    Actor,
    AuditEntry,
    NotAllowed,
    acting_as,
    audit_dict,
    audit_query,
    person_actor,
)
from store.completions import import_completions_csv
from store.db import database, is_postgres
from store.keys import PublicKey, grant, revoke
from store.models import Enrolment, Session
from store.pathways import add_pathway
from store.people import import_people_csv
from store.rsvp import apply_reply
from store.sessions import cancel_session, delete_session, edit_session
from store.settings import Settings
from tests.builders import person, session, trainer
from tests.replies import reply_ics, reply_message

ADMIN = Actor("ops", "admin")


def rows(**where: Any) -> list[dict[str, Any]]:
    """The audit rows, oldest first."""
    return [audit_dict(e) for e in audit_query(**where)][::-1]


def last(action: str) -> dict[str, Any]:
    return next(r for r in reversed(rows()) if r["action"] == action)


def _key(seed: int) -> PublicKey:
    blob = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + bytes([seed]) * 32
    return PublicKey("ssh-ed25519", base64.b64encode(blob).decode(), f"k{seed}")


def test_every_kind_of_change_is_audited_with_its_actor(
    store: str, settings: Settings, tmp_path: Path
) -> None:
    with acting_as(ADMIN):
        tess = trainer()
        ann = person("ann@example.test")
        person("bob@example.test")
        s = session(trainer=tess.person.email, max_attendees=1)
        edit_session(s.id, {"title": "Fire Safety II"})
        booking.enrol(s.id, "ann@example.test")
        booking.enrol(s.id, "bob@example.test")
        outbox.invite(s.id)
        add_pathway("Onboarding")
        import_people_csv("email,name\ncat@example.test,Cat\n")
        import_completions_csv("email,item,completed_on\nann@example.test,GDPR,2026-01-05\n")
    with acting_as(person_actor(ann)):
        booking.unbook(s.id, "ann@example.test")  # frees the place: bob is promoted
    assert [r["action"] for r in rows(session=s.id)] == [
        "session.create",
        "session.edit",
        "enrol",
        "enrol",
        "invite",
        "unbook",
        "promote.auto",
    ]
    unbooked = last("unbook")
    assert unbooked["actor"] == "ann@example.test"
    assert unbooked["person"] == "ann@example.test"
    assert unbooked["before"] == {"status": "enrolled", "waitlist_position": None}
    assert unbooked["after"] == {"status": "cancelled", "reason": ""}
    assert last("promote.auto")["person"] == "bob@example.test"
    assert last("session.edit")["before"]["title"] == "Fire Safety"
    assert last("session.edit")["after"] == {"title": "Fire Safety II"}
    assert last("enrol")["actor"] == "ops"
    assert last("person.import")["after"] == {"added": 1, "updated": 0}
    assert last("completion.import")["after"] == {"added": 1, "skipped": 0}
    assert last("pathway.add")["after"] == {"name": "Onboarding"}

    # A reply applied from the mailbox is the rsvp's change.
    bob_enrolment = Enrolment.get(Enrolment.session == s.id, Enrolment.status == "enrolled")
    Enrolment.update(calendar="invited").where(Enrolment.id == bob_enrolment.id).execute()
    raw = reply_message(
        reply_ics(Session.get_by_id(s.id).uid, "bob@example.test", dtstamp=datetime.now(UTC)),
        sender="bob@example.test",
    )
    apply_reply(read_reply(raw, max_bytes=5_000_000), raw=raw)
    assert last("rsvp")["actor"] == "rsvp"
    assert last("rsvp")["after"]["calendar"] == "accepted"

    # Marking, notes and finalising on a session that has started, as its trainer.
    with acting_as(ADMIN):
        started = session(
            title="Started",
            date=(datetime.now(UTC) - timedelta(days=1)).date(),
            trainer=tess.person.email,
        )
        began = datetime.now(UTC) - timedelta(minutes=5)
        Session.update(start=began, end=began + timedelta(hours=1)).where(
            Session.id == started.id
        ).execute()
        booking.enrol(started.id, "ann@example.test")
    with acting_as(Actor(tess.person.email, "trainer", tess.person.id)):
        attendance.mark(started.id, "ann@example.test", "attended")
        booking.write_note(Enrolment.get(Enrolment.session == started.id).id, "on time")
        attendance.finalise(started.id)
    assert [(r["action"], r["actor"]) for r in rows(session=started.id)][-3:] == [
        ("mark", "trainer@example.test"),
        ("note", "trainer@example.test"),
        ("finalise", "trainer@example.test"),
    ]
    assert last("mark")["before"] == {"status": "enrolled"}

    # The worker's automatic changes, and cancel / delete.
    with acting_as(ADMIN):
        gone = session(title="Empty", date=(datetime.now(UTC) + timedelta(days=20)).date())
        cancel_session(s.id, "Room flooded")
    with acting_as(WORKER):
        delete_session(gone.id)
    assert last("session.cancel")["after"]["reason"] == "Room flooded"
    assert last("session.delete")["actor"] == "worker"
    assert last("session.delete")["session_id"] == gone.id

    # Access changes.
    settings = Settings(authorized_keys=str(tmp_path / "keys"), shell_command="rollcall")
    with acting_as(ADMIN):
        grant(settings, "ann@example.test", "trainer", [_key(1)])
        revoke(settings, "ann@example.test")
    granted, revoked = rows(person="ann@example.test")[-2:]
    assert granted["action"] == "access.grant"
    assert granted["after"]["role"] == "trainer"
    assert revoked["action"] == "access.revoke"
    assert revoked["before"] == {"role": "trainer"}


def test_the_audit_log_is_append_only(store: str, settings: Settings) -> None:
    with acting_as(ADMIN):
        person("ann@example.test")
    assert AuditEntry.select().count() == 1
    with pytest.raises(peewee.DatabaseError), database.atomic():
        AuditEntry.update(actor="someone else").execute()
    with pytest.raises(peewee.DatabaseError), database.atomic():
        AuditEntry.delete().execute()
    assert [e.actor for e in AuditEntry.select()] == ["ops"]


def test_roles_are_checked_in_the_store(store: str, settings: Settings) -> None:
    with acting_as(ADMIN):
        tess = trainer()
        other = trainer("other@example.test", "Otto")
        ann = person("ann@example.test")
        person("bob@example.test")
        own = session(trainer=tess.person.email, max_attendees=1)
        theirs = session(title="Other", trainer=other.person.email)
        booking.enrol(own.id, "bob@example.test")
    before = AuditEntry.select().count()
    learner = person_actor(ann)
    with acting_as(learner):
        for change in (
            lambda: delete_session(own.id),
            lambda: cancel_session(own.id, "no"),
            lambda: edit_session(own.id, {"title": "Mine"}),
            lambda: booking.enrol(own.id, "ann@example.test"),
            lambda: booking.unbook(own.id, "bob@example.test"),
            lambda: booking.book(own.id, "bob@example.test"),
            lambda: outbox.invite(own.id),
            lambda: add_pathway("Mine"),
            lambda: person("eve@example.test"),
        ):
            with pytest.raises(NotAllowed, match="^not allowed for a learner$"):
                change()
        # Their own booking is theirs to make.
        assert booking.book(own.id, "ann@example.test").status == "waitlisted"
    with acting_as(person_actor(tess.person)):
        with pytest.raises(NotAllowed, match="not allowed for a learner"):
            # No role granted yet: a trainer is a learner until `access grant`.
            booking.promote(own.id, "ann@example.test")
    from store.access import set_role

    with acting_as(ADMIN), database.atomic():
        set_role(tess.person, "trainer")
    with acting_as(person_actor(tess.person)):
        outbox.invite(own.id)
        with pytest.raises(NotAllowed, match="not allowed for a trainer"):
            outbox.invite(theirs.id)
        with pytest.raises(NotAllowed, match="not allowed for a trainer"):
            cancel_session(own.id, "no")
    # Refused changes left nothing behind, not even an audit row.
    assert AuditEntry.select().count() == before + 2
    assert Session.get_by_id(own.id).cancelled_at is None


def test_a_version_3_database_gains_roles_audit_and_managers(store: str) -> None:
    from store.db import open_database
    from store.migrations import SCHEMA_VERSION, SchemaVersion, current_version

    db = database.obj
    # Take the database back to what release 3 made.
    if is_postgres():
        # SQLite cannot drop a foreign-key column; there the column check is the IF.
        db.execute_sql("DROP INDEX IF EXISTS person_manager_id")
        db.execute_sql("ALTER TABLE person DROP COLUMN manager_id")
    db.execute_sql("DROP TABLE audit_entry")
    db.execute_sql("DROP TABLE access_role")
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=3).execute()
    open_database(store)
    db = database.obj
    assert current_version(db) == SCHEMA_VERSION
    assert "manager_id" in {c.name for c in db.get_columns("person")}
    with acting_as(ADMIN):
        boss = person("boss@example.test")
        ann = person("ann@example.test")
    ann.manager = boss
    ann.save()
    assert [p.email for p in boss.reports] == ["ann@example.test"]
    assert AuditEntry.select().count() == 2
    with pytest.raises(peewee.DatabaseError), database.atomic():
        AuditEntry.delete().execute()
