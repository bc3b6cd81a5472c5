"""Numbered forward migrations with a stored schema version.

Each migration is a function that takes the database and brings the schema
from version ``n - 1`` to ``n``. A database made by an older release is
upgraded on first use; one made by a newer release is refused.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

import peewee

from store.errors import RollcallError
from store.models import ALL_MODELS, BaseModel, Enrolment, Person, Session

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


def _add_missing_columns(
    db: peewee.Database, model: type[BaseModel], names: list[str]
) -> list[str]:
    """Add the model's columns `names` where the table lacks them; returns those added."""
    table = model._meta.table_name
    existing = {c.name for c in db.get_columns(table)}
    added = []
    for name in names:
        field = model._meta.fields[name]
        if field.column_name in existing:
            continue
        added.append(name)
        ctx = db.get_sql_context()
        ctx.literal("ALTER TABLE ").sql(peewee.Entity(table)).literal(" ADD COLUMN ")
        ctx.sql(field.ddl(ctx))
        db.execute_sql(*ctx.query())
    return added


def _m004_attendance_capture(db: peewee.Database) -> None:
    # Badge numbers for the kiosk, the trainer's calendar answer, and enrolments
    # recorded after the session took place.
    _add_missing_columns(db, Person, ["staff_number"])
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS person_staff_number_lower ON person (LOWER(staff_number))"
    )
    added = _add_missing_columns(
        db,
        Session,
        [
            "trainer_calendar",
            "trainer_responded_at",
            "trainer_response_comment",
            "trainer_response_sequence",
            "trainer_response_dtstamp",
        ],
    )
    if "trainer_calendar" in added:
        # Assigned trainers were sent their invitation when assigned: their answers count.
        db.execute_sql(
            "UPDATE session SET trainer_calendar = 'invited' WHERE trainer_id IS NOT NULL"
        )
    _add_missing_columns(db, Enrolment, ["recorded_after"])


def _m005_access_and_audit(db: peewee.Database) -> None:
    # Roles, the append-only audit log, and who each person reports to.
    from store.access import ACCESS_MODELS, APPEND_ONLY_SQL

    db.create_tables(ACCESS_MODELS, safe=True)
    if "manager_id" not in {c.name for c in db.get_columns("person")}:
        db.execute_sql(
            "ALTER TABLE person ADD COLUMN manager_id INTEGER "
            "REFERENCES person (id) ON DELETE SET NULL"
        )
    db.execute_sql("CREATE INDEX IF NOT EXISTS person_manager_id ON person (manager_id)")
    kind = "sqlite" if isinstance(db, peewee.SqliteDatabase) else "postgresql"
    for sql in APPEND_ONLY_SQL[kind]:
        db.execute_sql(sql)


_UNIQUE_KEYS = {
    ("person", "email_key"): "person_email_key",
    ("course", "title_key"): "course_title_key",
    ("elearning_item", "name_key"): "elearning_name_key",
}


def _m006_folded_keys(db: peewee.Database) -> None:
    # LOWER() folds only ASCII on SQLite and by locale on PostgreSQL, so the
    # comparisons move to folded key columns computed in Python (store/textkey.py).
    for old in ("person_email_lower", "course_title_lower", "elearning_name_lower"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{old}"')
    for model in ALL_MODELS:
        for column, (sources, compute) in model.folded_keys.items():
            _add_folded_key(db, model, column, sources, compute)


def _add_folded_key(
    db: peewee.Database,
    model: type[BaseModel],
    column: str,
    sources: tuple[str, ...],
    compute: Callable[..., str],
) -> None:
    table = model._meta.table_name
    index = _UNIQUE_KEYS.get((table, column))
    field = model._meta.fields[column]
    sql_type = "TEXT" if isinstance(field, peewee.TextField) else f"VARCHAR({field.max_length})"
    if column not in {c.name for c in db.get_columns(table)}:
        db.execute_sql(
            f'ALTER TABLE "{table}" ADD COLUMN "{column}" {sql_type} NOT NULL DEFAULT \'\''
        )
    cursor = db.execute_sql(f'SELECT * FROM "{table}" ORDER BY id')
    names = [d[0] for d in cursor.description]
    seen: set[str] = set()
    updates = []
    for values in cursor.fetchall():
        row = dict(zip(names, values, strict=True))
        key = compute(*(row[s] for s in sources))
        if index and key in seen:
            # Two rows an older release told apart only by non-ASCII case: the
            # later one keeps a distinct key (its id) so the upgrade succeeds;
            # lookups by name find the first.
            key = f"{key}#{row['id']}"
        seen.add(key)
        updates.append((key, row["id"]))
    param = "%s" if isinstance(db, peewee.PostgresqlDatabase) else "?"
    for key, row_id in updates:
        db.execute_sql(
            f'UPDATE "{table}" SET "{column}" = {param} WHERE id = {param}', (key, row_id)
        )
    if index:
        db.execute_sql(f'CREATE UNIQUE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")')


def _add_missing_sql_columns(db: peewee.Database, table: str, columns: dict[str, str]) -> None:
    """Add each column (name -> SQL type and default) unless the table already has it."""
    present = {column.name for column in db.get_columns(table)}
    for name, definition in columns.items():
        if name not in present:
            db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN {name} {definition}')


def _m007_booking_workflow(db: peewee.Database) -> None:
    # Manager approval, held offers and interest lists; `_m001_initial` of a new
    # database already made these columns, so each is added only where missing.
    from store.workflow_models import WORKFLOW_MODELS

    _add_missing_sql_columns(
        db, "person", {"manager_id": 'INTEGER NULL REFERENCES "person" (id) ON DELETE SET NULL'}
    )
    _add_missing_sql_columns(db, "course", {"approval": "VARCHAR(16) NOT NULL DEFAULT 'none'"})
    _add_missing_sql_columns(
        db,
        "session",
        {"approval": "VARCHAR(16) NOT NULL DEFAULT 'none'", "offer_hours": "INTEGER NULL"},
    )
    _add_missing_sql_columns(db, "enrolment", {"offer_expires_at": "TIMESTAMP NULL"})
    db.create_tables(WORKFLOW_MODELS, safe=True)


def _m008_inbound_log_unique(db: peewee.Database) -> None:
    # Two pollers on one database logged some replies twice: the IMAP position and
    # the Message-ID become unique. Older releases may have left duplicates; keep the
    # first entry of each position, and mark later first handlings of one Message-ID
    # in a folder as the duplicates they are.
    from store.rsvp import DUPLICATE

    db.execute_sql(
        "DELETE FROM inbound_message WHERE imap_uid IS NOT NULL AND id NOT IN ("
        "SELECT MIN(id) FROM inbound_message WHERE imap_uid IS NOT NULL "
        "GROUP BY folder, imap_uidvalidity, imap_uid)"
    )
    first = f"(reason IS NULL OR reason <> {db.param})"
    db.execute_sql(
        f"UPDATE inbound_message SET outcome = 'ignored', reason = {db.param} "
        f"WHERE folder IS NOT NULL AND {first} AND id NOT IN ("
        f"SELECT MIN(id) FROM inbound_message WHERE folder IS NOT NULL AND {first} "
        "GROUP BY folder, message_id)",
        (DUPLICATE, DUPLICATE, DUPLICATE),
    )
    db.execute_sql("DROP INDEX IF EXISTS inbound_message_folder_imap_uidvalidity_imap_uid")
    db.execute_sql(
        "CREATE UNIQUE INDEX inbound_message_folder_imap_uidvalidity_imap_uid "
        "ON inbound_message (folder, imap_uidvalidity, imap_uid)"
    )
    # A partial index cannot take a parameter: the text is quoted here.
    quoted = DUPLICATE.replace("'", "''")
    db.execute_sql(
        "CREATE UNIQUE INDEX IF NOT EXISTS inbound_message_folder_message_id_first "
        "ON inbound_message (folder, message_id) "
        f"WHERE reason IS NULL OR reason <> '{quoted}'"
    )


def _m009_listing_indexes(db: peewee.Database) -> None:
    # Lists are read in pages after the last (start, id) seen; with both columns in one index
    # PostgreSQL reads each page as one range (SQLite's start index already ends in the rowid).
    db.execute_sql("CREATE INDEX IF NOT EXISTS session_start_id ON session (start, id)")


def _m010_session_place_key(db: peewee.Database) -> None:
    # Rooms are checked for clashes like trainers: the place is compared by its
    # folded key (store/textkey.py), read through an index with the start.
    from store.textkey import place_key

    _add_folded_key(db, Session, "place_key", ("location",), place_key)
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "session_place_key_start" ON "session" ("place_key", "start")'
    )


def _m011_start_up_indexes(db: peewee.Database) -> None:
    # The app opens on the first session that has not ended: counting those that have
    # reads an index of end times instead of every session. Its check for trainers'
    # declines looks only at the declined ones.
    db.execute_sql('CREATE INDEX IF NOT EXISTS session_end ON session ("end")')
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS session_trainer_calendar_start "
        "ON session (trainer_calendar, start)"
    )


MIGRATIONS: list[Migration] = [
    _m001_initial,
    _m002_inbound_log,
    _m003_report_indexes,
    _m004_attendance_capture,
    _m005_access_and_audit,
    _m006_folded_keys,
    _m007_booking_workflow,
    _m008_inbound_log_unique,
    _m009_listing_indexes,
    _m010_session_place_key,
    _m011_start_up_indexes,
]
"""Position + 1 is the version a migration produces; append, never reorder."""

SCHEMA_VERSION = len(MIGRATIONS)


_UNDEFINED_TABLE = "42P01"
"""PostgreSQL's SQLSTATE for a table that does not exist."""


def _is_missing_table(exc: peewee.DatabaseError) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "pgcode", None) == _UNDEFINED_TABLE:
        return True
    return isinstance(exc, peewee.OperationalError) and "no such table" in str(exc)


def current_version(db: peewee.Database) -> int:
    """The schema version stored in `db` (0 for an empty database).

    One statement on an existing database (every start of every command pays it): the
    version row is read, and an error saying the table does not exist means version 0,
    instead of asking the catalog first. Inside a transaction the read runs in a
    savepoint, because on PostgreSQL a failed statement would abort the transaction.
    """
    guard = db.atomic() if db.in_transaction() else contextlib.nullcontext()
    try:
        with guard:
            row = db.execute_sql(
                f'SELECT version FROM "{SchemaVersion._meta.table_name}" LIMIT 1'
            ).fetchone()
    except (peewee.OperationalError, peewee.ProgrammingError) as exc:
        if _is_missing_table(exc):
            return 0
        raise
    return int(row[0]) if row else 0


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
