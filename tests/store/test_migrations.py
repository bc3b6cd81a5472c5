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
