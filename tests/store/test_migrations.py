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


def statements_of(monkeypatch: pytest.MonkeyPatch, db: peewee.Database) -> list[str]:
    """A list that fills with every statement `db` is sent from now on."""
    sent: list[str] = []
    execute = type(db).execute_sql

    def recorded(self: peewee.Database, sql: str, *args: object, **kwargs: object) -> object:
        sent.append(sql)
        return execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(type(db), "execute_sql", recorded)
    return sent


def test_the_schema_check_is_one_statement(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every start checks the version: one read on a database that has one, and an empty
    database (no version table) reads as 0, also inside a transaction, which stays usable."""
    db = open_database(db_url, migrate=False)
    sent = statements_of(monkeypatch, db)
    assert current_version(db) == 0
    assert len(sent) == 1
    with db.atomic():
        assert current_version(db) == 0
        assert db.execute_sql("SELECT 1").fetchone()[0] == 1  # not aborted on PostgreSQL
    assert migrate(db) == SCHEMA_VERSION
    sent.clear()
    assert current_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION
    assert len(sent) == 2  # one per check, nothing else on an up-to-date database
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=SCHEMA_VERSION + 1).execute()
    with db.atomic():
        assert current_version(db) == SCHEMA_VERSION + 1
    with pytest.raises(RollcallError) as err:
        migrate(db)
    assert err.value.field == "db"


def test_the_lists_and_the_app_start_read_from_indexes(store: str) -> None:
    """The indexes the session list's pages, the app's first window and its decline check
    use exist on both backends, also in a database upgraded from version 8."""
    db = database.obj
    wanted = {"session_start_id", "session_end", "session_trainer_calendar_start"}
    assert wanted <= {index.name for index in db.get_indexes("session")}
    for name in wanted:
        db.execute_sql(f'DROP INDEX "{name}"')
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=8).execute()
    assert migrate(db) == SCHEMA_VERSION
    assert wanted <= {index.name for index in db.get_indexes("session")}


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


def test_attendance_columns_are_added_to_a_version_3_database(store: str) -> None:
    """A database made before the kiosk, sheet and trainer answers gains their columns."""
    from store.models import Enrolment, Session
    from store.people import PersonInput, add_person
    from tests.builders import session, trainer

    made = session()
    trainer()
    taught = session(title="Taught", trainer="trainer@example.test")
    add_person(PersonInput("ann@example.org", "Ann"))
    db = database.obj
    db.execute_sql("DROP INDEX IF EXISTS person_staff_number_lower")
    db.execute_sql("DROP INDEX IF EXISTS session_trainer_calendar_start")
    dropped = {
        "person": ["staff_number"],
        "session": [
            "trainer_calendar",
            "trainer_responded_at",
            "trainer_response_comment",
            "trainer_response_sequence",
            "trainer_response_dtstamp",
        ],
        "enrolment": ["recorded_after"],
    }
    for table, columns in dropped.items():
        for column in columns:
            db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN {column}')
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=3).execute()
    open_database(store)
    assert current_version(database.obj) == SCHEMA_VERSION
    for table, columns in dropped.items():
        present = {c.name for c in database.obj.get_columns(table)}
        assert set(columns) <= present, table
    assert Session.get_by_id(made.id).trainer_calendar == "not_invited"
    assert Session.get_by_id(taught.id).trainer_calendar == "invited"
    from store.booking import enrol

    assert enrol(made.id, "ann@example.org").enrolment.recorded_after is False
    assert Enrolment.get().recorded_after is False


def test_folded_keys_are_added_and_back_filled(store: str) -> None:
    """A version-3 database (LOWER() indexes, no key columns) gets folded keys on upgrade."""
    db = database.obj
    for index in ("person_email_key", "course_title_key", "elearning_name_key"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
    for table, column in [
        ("person", "email_key"),
        ("person", "search_key"),
        ("course", "title_key"),
        ("session", "search_key"),
        ("session_visibility", "value_key"),
        ("elearning_item", "name_key"),
        ("pathway", "name_key"),
    ]:
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    db.execute_sql("CREATE UNIQUE INDEX course_title_lower ON course (LOWER(title))")
    now = "2026-01-01 00:00:00"
    db.execute_sql(
        "INSERT INTO person (email, name, department, job_role, location, active, notes, "
        f"created_at, updated_at) VALUES ('zoe@example.org', 'Zoë Ångström', 'R&D', '', '', "
        f"{'true' if 'postgres' in store else '1'}, '', '{now}', '{now}')"
    )
    db.execute_sql(
        "INSERT INTO course (title, description, approval, created_at) "
        f"VALUES ('Straße', '', 'none', '{now}')"
    )
    db.execute_sql(
        "INSERT INTO course (title, description, approval, created_at) "
        f"VALUES ('STRASSE', '', 'none', '{now}')"
    )
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=3).execute()

    open_database(store)

    from store.models import Course, Person
    from store.people import people_query
    from store.sessions import _course_for

    assert current_version(database.obj) == SCHEMA_VERSION
    assert [p.name for p in people_query("ÅNGSTRÖM")] == ["Zoë Ångström"]
    keys = sorted(c.title_key for c in Course.select())
    assert keys[0] == "strasse"
    assert keys[1].startswith("strasse#")  # the clash an older release allowed survives
    assert _course_for("strasse").title == "Straße"
    assert Person.get().email_key == "zoe@example.org"


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
    migrations._m007_booking_workflow(db)


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
