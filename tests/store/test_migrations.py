"""Schema versions: fresh databases, upgrades of older ones, refusal of newer ones."""

from __future__ import annotations

import peewee
import pytest

from store import migrations
from store.db import database, open_database
from store.errors import RollcallError
from store.migrations import SCHEMA_VERSION, SchemaVersion, current_version, migrate


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


def test_booking_workflow_migration_adds_what_an_older_schema_lacks(store: str) -> None:
    """A version-3 database (before approvals and offers) gains the columns and tables."""
    db = database.obj
    from store.workflow_models import WORKFLOW_MODELS

    db.drop_tables(WORKFLOW_MODELS)
    from store.db import is_postgres

    # SQLite cannot drop a column a foreign key names: there the person keeps manager_id.
    dropped = [("person", "manager_id")] if is_postgres() else []
    for table, column in (
        *dropped,
        ("course", "approval"),
        ("session", "approval"),
        ("session", "offer_hours"),
        ("enrolment", "offer_expires_at"),
    ):
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN {column}')
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=3).execute()
    assert migrate(db) == SCHEMA_VERSION
    assert "manager_id" in {c.name for c in db.get_columns("person")}
    assert {"approval", "offer_hours"} <= {c.name for c in db.get_columns("session")}
    assert "offer_expires_at" in {c.name for c in db.get_columns("enrolment")}
    assert {"approval_request", "offer", "interest"} <= set(db.get_tables())
    # Run again on a database that has it all: nothing to add, nothing fails.
    migrations._m004_booking_workflow(db)
