"""Data at rest: owner-only files, a refused readable config with a password, safe CSV cells."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from store.csvfile import spreadsheet_safe
from store.db import as_storage_error, close_database, database, open_database
from store.errors import StorageError
from store.models import Enrolment
from store.people import PersonInput, add_person
from store.reports import to_csv
from store.session_input import SessionInput
from store.sessions import create_sessions
from store.settings import Settings
from tests.cli.conftest import Runner
from tests.cli.test_backup import ok, one_error_line

FORMULA = '=cmd|" /C calc"!A0'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_and_its_folder_are_owner_only(rollcall: Runner, isolated_env: Path) -> None:
    """The default database, its -wal/-shm and the folder rollcall creates: 0600 and 0700."""
    os.umask(0o022)
    # No --db: the embedded database in the (not yet existing) user data directory.
    result = rollcall("init", extra_env={"ROLLCALL_DB": ""})
    ok(result)
    folder = isolated_env / "data" / "rollcall"
    db = folder / "rollcall.db"
    assert mode(folder) == 0o700
    assert mode(db) == 0o600
    # While a connection is open SQLite keeps -wal and -shm beside the file.
    open_database(str(db))
    try:
        database.execute_sql("CREATE TABLE IF NOT EXISTS probe (x)")
        for name in ("rollcall.db-wal", "rollcall.db-shm"):
            assert mode(folder / name) == 0o600, name
    finally:
        close_database()
        database.initialize(None)


def test_backup_and_csv_export_are_owner_only_and_formula_free(
    rollcall: Runner, tmp_path: Path, settings: Settings
) -> None:
    url = str(tmp_path / "cli.db")
    open_database(url)
    try:
        victim = add_person(PersonInput(email="x@example.org", name=FORMULA, department="+SUM(A1)"))
        [past] = create_sessions(
            SessionInput(
                title="@Fire", date="2026-09-07", start="10:00", duration_minutes=60, location="R1"
            )
        )
        Enrolment.create(session=past, person=victim, status="no_show")
    finally:
        close_database()
        database.initialize(None)

    export = tmp_path / "no-shows.csv"
    ok(rollcall("report", "no-shows", "--csv", str(export)))
    assert mode(export) == 0o600
    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8"))))
    assert rows[0]["name"] == "'" + FORMULA
    assert rows[0]["department"] == "'+SUM(A1)"
    assert rows[0]["email"] == "x@example.org"

    backup = tmp_path / "copy.db"
    ok(rollcall("backup", str(backup)))
    assert mode(backup) == 0o600
    assert not list(tmp_path.glob(".copy.db.*"))  # no temp file left behind


@pytest.mark.parametrize("text", [FORMULA, "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_get_a_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text
    out = to_csv([{"name": text, "count": -3}])
    row = next(csv.DictReader(io.StringIO(out, newline="")))
    # A CR inside a cell comes back as a quoted line break, never as a row end.
    assert row == {"name": "'" + text.replace("\r", "\n"), "count": "-3"}


def test_plain_cells_pass_unchanged() -> None:
    for value in ("Ann", "a=b", "", " =x", 5, -1.5, None):
        assert spreadsheet_safe(value) == value


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('smtp_password = "hunter2"', "smtp_password"),
        ('imap_password = "hunter2"', "imap_password"),
        ('db = "postgresql://rollcall:hunter2@db.example.org/rollcall"', "db"),
    ],
)
def test_readable_config_with_a_password_is_refused(
    rollcall: Runner, tmp_path: Path, line: str, key: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(line + "\n", encoding="utf-8")
    config.chmod(0o644)
    result = rollcall("--config", str(config), "session", "list", extra_env={"ROLLCALL_DB": ""})
    one_error_line(result, 1, str(config), "chmod 600", key)
    assert "hunter2" not in result.stderr

    config.chmod(0o600)
    if key != "db":
        ok(rollcall("--config", str(config), "session", "list"))


def test_readable_config_without_a_password_is_fine(rollcall: Runner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('smtp_password_command = "pass show mail"\nsmtp_user = "me"\n')
    config.chmod(0o644)
    ok(rollcall("--config", str(config), "session", "list"))


def test_locked_error_maps_to_one_storage_error(tmp_path: Path) -> None:
    """The chain of a failed write (lock, then a failed rollback) maps to its first cause."""
    path = tmp_path / "x.db"
    db = open_database(str(path), migrate=False, busy_timeout=0.1)
    db.execute_sql("CREATE TABLE t (x)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        try:
            with db.atomic():
                try:
                    db.execute_sql("INSERT INTO t VALUES (1)")
                finally:
                    raise RuntimeError("cannot rollback - no transaction is active")
        except RuntimeError as exc:
            mapped = as_storage_error(exc)
        assert isinstance(mapped, StorageError)
        assert str(mapped) == f"the database {path}: database is locked"
        assert as_storage_error(ValueError("no")) is None
    finally:
        holder.close()
        close_database()
        database.initialize(None)
