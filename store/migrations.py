"""Numbered forward migrations with a stored schema version.

Each migration is a function that takes the database and brings the schema
from version ``n - 1`` to ``n``. A database made by an older release is
upgraded on first use; one made by a newer release is refused.
"""

from __future__ import annotations

from collections.abc import Callable

import peewee

from store.errors import RollcallError
from store.models import ALL_MODELS

Migration = Callable[[peewee.Database], None]


class SchemaVersion(peewee.Model):
    """The single-row table recording which migrations have run."""

    version = peewee.IntegerField()

    class Meta:
        table_name = "rollcall_schema"


def _m001_initial(db: peewee.Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)


def _m002_inbound_log(db: peewee.Database) -> None:
    from store.inbound import INBOUND_MODELS

    db.create_tables(INBOUND_MODELS, safe=True)


def _m003_report_indexes(db: peewee.Database) -> None:
    # Invitation reports read these four columns of a million enrolments; a
    # covering index spares reading the wide rows.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS enrolment_session_response "
        "ON enrolment (session_id, invited_at, responded_at, calendar)"
    )
    # The renewal list groups completions by person and course (or item) on
    # their newest expiry; with the expiry in the index it never reads the rows.
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS completion_person_course_expiry "
        "ON completion (person_id, course_id, expires_on)"
    )
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS completion_person_item_expiry "
        "ON completion (person_id, elearning_id, expires_on)"
    )


def _m004_listing_indexes(db: peewee.Database) -> None:
    # Lists are read in pages after the last (start, id) seen; with both columns in one index
    # PostgreSQL reads each page as one range (SQLite's start index already ends in the rowid).
    db.execute_sql("CREATE INDEX IF NOT EXISTS session_start_id ON session (start, id)")


MIGRATIONS: list[Migration] = [
    _m001_initial,
    _m002_inbound_log,
    _m003_report_indexes,
    _m004_listing_indexes,
]
"""Position + 1 is the version a migration produces; append, never reorder."""

SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: peewee.Database) -> int:
    """The schema version stored in `db` (0 for an empty database)."""
    with SchemaVersion.bind_ctx(db):
        if not SchemaVersion.table_exists():
            return 0
        row = SchemaVersion.select().first()
        return row.version if row else 0


def migrate(db: peewee.Database) -> int:
    """Run every pending migration, each in its own transaction; return the new version."""
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.create_table(safe=True)
        while True:
            # Take the write lock first so two processes starting together migrate once.
            is_sqlite = isinstance(db, peewee.SqliteDatabase)
            with db.atomic("IMMEDIATE") if is_sqlite else db.atomic():
                if not is_sqlite:
                    db.execute_sql("LOCK TABLE rollcall_schema IN EXCLUSIVE MODE")
                row = SchemaVersion.select().first()
                version = row.version if row else 0
                if version > SCHEMA_VERSION:
                    raise RollcallError(
                        f"the database has schema version {version}, newer than this "
                        f"release understands ({SCHEMA_VERSION}); upgrade rollcall",
                        field="db",
                    )
                if version == SCHEMA_VERSION:
                    return version
                MIGRATIONS[version](db)
                if row is None:
                    SchemaVersion.create(version=version + 1)
                else:
                    SchemaVersion.update(version=version + 1).execute()
