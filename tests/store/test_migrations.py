"""Schema versions: fresh databases, upgrades of older ones, refusal of newer ones."""

from __future__ import annotations

import peewee
import pytest

from store import migrations
from store.db import database, open_database
from store.errors import RollcallError
from store.inbound import InboundMessage
from store.migrations import SCHEMA_VERSION, SchemaVersion, current_version, migrate
from store.rsvp import DUPLICATE


def test_fresh_database_gets_every_table(store: str) -> None:
    db = database.obj
    assert current_version(db) == SCHEMA_VERSION
    tables = set(db.get_tables())
    assert {"person", "session", "enrolment", "outbox", "completion", "rollcall_schema"} <= tables
    assert migrate(db) == SCHEMA_VERSION  # idempotent
    with SchemaVersion.bind_ctx(db):
        assert SchemaVersion.select().count() == 1


def test_older_database_is_upgraded_on_first_use(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = database.obj

    def add_column(target: peewee.Database) -> None:
        target.execute_sql("ALTER TABLE person ADD COLUMN nickname VARCHAR(50) DEFAULT ''")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, add_column])
    monkeypatch.setattr(migrations, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    open_database(store)
    assert current_version(db) == SCHEMA_VERSION + 1
    columns = {c.name for c in database.obj.get_columns("person")}
    assert "nickname" in columns


def test_newer_database_is_refused(store: str) -> None:
    db = database.obj
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=SCHEMA_VERSION + 5).execute()
    with pytest.raises(RollcallError) as err:
        open_database(store)
    assert err.value.field == "db"
    assert "newer" in str(err.value)


def test_inbound_log_duplicates_are_cleared_before_the_unique_indexes(store: str) -> None:
    db = database.obj
    # The log as an older release left it: a plain index, and entries two pollers doubled.
    db.execute_sql("DROP INDEX inbound_message_folder_message_id_first")
    db.execute_sql("DROP INDEX inbound_message_folder_imap_uidvalidity_imap_uid")
    db.execute_sql(
        "CREATE INDEX inbound_message_folder_imap_uidvalidity_imap_uid "
        "ON inbound_message (folder, imap_uidvalidity, imap_uid)"
    )

    def log(message_id: str, uid: int, reason: str | None = None) -> int:
        outcome = "applied" if reason is None else "ignored"
        entry = InboundMessage.create(
            message_id=message_id,
            outcome=outcome,
            reason=reason,
            folder="INBOX",
            imap_uidvalidity=7,
            imap_uid=uid,
        )
        return int(entry.id)

    first = log("<a@x>", 1)
    log("<a@x>", 1)  # the same position logged twice
    b = log("<b@x>", 2)
    b_again = log("<b@x>", 3)  # one Message-ID handled twice as new
    b_dup = log("<b@x>", 4, DUPLICATE)
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=3).execute()
    assert migrate(db) == SCHEMA_VERSION
    rows = {e.id: (e.outcome, e.reason) for e in InboundMessage.select()}
    assert rows == {
        first: ("applied", None),
        b: ("applied", None),
        b_again: ("ignored", DUPLICATE),
        b_dup: ("ignored", DUPLICATE),
    }
    with pytest.raises(peewee.IntegrityError), db.atomic():
        log("<c@x>", 1)  # a position already logged
    with pytest.raises(peewee.IntegrityError), db.atomic():
        log("<a@x>", 9)  # a second first handling of a Message-ID
    log("<a@x>", 9, DUPLICATE)
