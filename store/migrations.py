"""Numbered forward migrations with a stored schema version.

Each migration is a function that takes the database and brings the schema
from version ``n - 1`` to ``n``. A database made by an older release is
upgraded on first use; one made by a newer release is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import peewee

from store.errors import RollcallError
from store.models import ALL_MODELS

Migration = Callable[[peewee.Database], None]

log = logging.getLogger(__name__)


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


MIGRATIONS: list[Migration] = [_m001_initial, _m002_inbound_log, _m003_report_indexes]
"""Position + 1 is the version a migration produces; append, never reorder."""

SCHEMA_VERSION = len(MIGRATIONS)


def current_version(db: peewee.Database) -> int:
    """The schema version stored in `db` (0 for an empty database)."""
    with SchemaVersion.bind_ctx(db):
        if not SchemaVersion.table_exists():
            return 0
        row = SchemaVersion.select().first()
        return row.version if row else 0


def _refuse_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise RollcallError(
            f"the database has schema version {version}, newer than this "
            f"release understands ({SCHEMA_VERSION}); upgrade rollcall",
            field="db",
        )


def migrate(db: peewee.Database, *, notify: Callable[[str], None] | None = None) -> int:
    """Run every pending migration, each in its own transaction; return the new version.

    A database already up to date is only read (so a read-only one still opens).
    Before an existing SQLite database holding data is upgraded, a copy is
    written beside it (`store.backup.pre_upgrade_backup`) and `notify` says where.
    """
    version = current_version(db)
    _refuse_newer(version)
    if version == SCHEMA_VERSION:
        return version
    if version > 0:
        from store.backup import pre_upgrade_backup

        copy = pre_upgrade_backup(db, SCHEMA_VERSION)
        if copy is not None:
            message = (
                f"upgrading the database schema from version {version} to {SCHEMA_VERSION}; "
                f"a copy from before the upgrade is in {copy}"
            )
            log.warning("%s", message)
            if notify is not None:
                notify(message)
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
                _refuse_newer(version)
                if version == SCHEMA_VERSION:
                    return version
                MIGRATIONS[version](db)
                if row is None:
                    SchemaVersion.create(version=version + 1)
                else:
                    SchemaVersion.update(version=version + 1).execute()
