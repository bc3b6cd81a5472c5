"""`rollcall backup`, `restore` and `check` on real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.conftest import Result, Runner, rollcall_executable
from tests.servers import PostgresServer

DAY = (datetime.now(UTC) + timedelta(days=21)).date().isoformat()
WORKERS = 10
PER_WORKER = 6


def ok(result: Result) -> Result:
    """The run succeeded; its output otherwise."""
    assert result.code == 0, (result.stdout, result.stderr)
    return result


def one_error_line(result: Result, code: int, *words: str) -> None:
    """Exit `code` with exactly one ``error:`` line holding every word, no traceback."""
    assert result.code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def add_session(rollcall: Runner, title: str, most: int, **env: str) -> int:
    out = ok(
        rollcall(
            "session", "add", "--title", title, "--date", DAY, "--start", "10:00",
            "--duration", "60", "--location", f"Room {title}", "--max", str(most), "--json",
            extra_env=env,
        )
    )  # fmt: skip
    ids: list[int] = out.json()["ids"]
    return ids[0]


def add_people(rollcall: Runner, tmp_path: Path, emails: list[str], **env: str) -> None:
    csv = tmp_path / "people.csv"
    lines = ["email,name,department,role,location"]
    lines += [f"{e},Person {e.split('@')[0]},Ops,Analyst,Leeds" for e in emails]
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok(rollcall("person", "import", str(csv), extra_env=env))


def bookings(db: Path) -> set[tuple[int, str]]:
    """(session id, email) of every enrolment in a SQLite file."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT e.session_id, p.email FROM enrolment e JOIN person p ON p.id = e.person_id"
        ).fetchall()
    finally:
        conn.close()
    return {(int(s), str(e)) for s, e in rows}


def test_backup_while_ten_processes_book(rollcall: Runner, tmp_path: Path) -> None:
    """A backup taken while ten processes book holds every booking committed before it began."""
    full = add_session(rollcall, "Fire Safety", 25)
    roomy = add_session(rollcall, "First Aid", 100)
    emails = [f"p{i}@example.org" for i in range(WORKERS * PER_WORKER)]
    add_people(rollcall, tmp_path, emails)
    exe = rollcall_executable()
    log = tmp_path / "booked.log"
    db = tmp_path / "cli.db"
    procs = []
    for worker in range(WORKERS):
        mine = emails[worker * PER_WORKER : (worker + 1) * PER_WORKER]
        # Half the workers book as learners, half enrol as admins; each line is
        # written only after the command returned 0 (its transaction committed).
        verb = "book" if worker % 2 else "enrol"
        script = "; ".join(
            f'"$RC" {verb} {sid} {email} >/dev/null '
            f'&& echo "{sid} {email} $(date +%s.%N)" >> "$LOG"'
            for email in mine
            for sid in (full, roomy)
        )
        procs.append(
            subprocess.Popen(
                ["bash", "-c", script],
                env={
                    "RC": exe, "LOG": str(log), "ROLLCALL_DB": str(db),
                    "ROLLCALL_TIMEZONE": "Europe/London", "PATH": "/usr/bin:/bin",
                    "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "d"),
                },
            )
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while (not log.exists() or len(log.read_text().splitlines()) < 15) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    started = time.time()
    backup = tmp_path / "nightly.db"
    ok(rollcall("backup", str(backup)))
    for proc in procs:
        assert proc.wait(timeout=300) == 0
    booked = [line.split() for line in log.read_text().splitlines()]
    before = {(int(s), e) for s, e, at in booked if float(at) < started}
    assert len(before) >= 15
    assert len(booked) == WORKERS * PER_WORKER * 2
    # Bookings went on while the backup ran: the copy is a snapshot, not the end state.
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600

    fresh = tmp_path / "restored.db"
    env = {"ROLLCALL_DB": str(fresh)}
    restored = ok(rollcall("restore", str(backup), extra_env=env))
    assert "restored" in restored.stdout
    assert before <= bookings(fresh)
    assert bookings(fresh) <= bookings(db)
    check = ok(rollcall("check", "--json", extra_env=env)).json()
    assert check == {"ok": True, "findings": []}
    ok(rollcall("check"))
    shown = ok(rollcall("session", "show", str(full), "--json", extra_env=env)).json()
    assert shown["enrolled"] <= 25


def test_restore_refuses_newer_schema_and_needs_yes(rollcall: Runner, tmp_path: Path) -> None:
    add_people(rollcall, tmp_path, ["ann@example.org"])
    backup = tmp_path / "copy.db"
    ok(rollcall("backup", str(backup)))

    # A database holding data is replaced only with --yes; nothing changes without it.
    ok(rollcall("person", "add", "--email", "bob@example.org", "--name", "Bob"))
    one_error_line(rollcall("restore", str(backup)), 1, "--yes")
    emails = {p["email"] for p in ok(rollcall("person", "list", "--json")).json()}
    assert emails == {"ann@example.org", "bob@example.org"}
    ok(rollcall("restore", str(backup), "--yes"))
    emails = {p["email"] for p in ok(rollcall("person", "list", "--json")).json()}
    assert emails == {"ann@example.org"}

    # A backup from a newer release is refused before anything is touched.
    newer = tmp_path / "newer.db"
    newer.write_bytes(backup.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE rollcall_schema SET version = 999")
    conn.commit()
    conn.close()
    fresh = {"ROLLCALL_DB": str(tmp_path / "fresh.db")}
    one_error_line(rollcall("restore", str(newer), "--yes", extra_env=fresh), 1, "999", "newer")
    one_error_line(rollcall("restore", str(tmp_path / "people.csv"), extra_env=fresh), 1, "file")
    one_error_line(rollcall("restore", str(tmp_path / "missing.db"), extra_env=fresh), 1, "file")


def test_check_finds_seeded_corruption(rollcall: Runner, tmp_path: Path) -> None:
    full = add_session(rollcall, "Fire Safety", 2)
    emails = [f"p{i}@example.org" for i in range(5)]
    add_people(rollcall, tmp_path, emails)
    for email in emails:
        ok(rollcall("enrol", str(full), email))
    assert ok(rollcall("check")).stdout.startswith("ok")

    # Damage the file as a direct write (no foreign keys enforced) would.
    conn = sqlite3.connect(tmp_path / "cli.db")
    conn.execute("UPDATE session SET max_attendees = 1 WHERE id = ?", (full,))
    conn.execute("UPDATE enrolment SET waitlist_position = 3 WHERE waitlist_position = 2")
    conn.execute(
        "INSERT INTO enrolment (session_id, person_id, status, calendar, created_at, updated_at) "
        "VALUES (?, 9999, 'enrolled', 'not_invited', '2026-01-01', '2026-01-01')",
        (full,),
    )
    conn.commit()
    conn.close()

    out = rollcall("check", "--json")
    assert out.code == 1
    report = out.json()
    assert report["ok"] is False
    kinds = {(f["check"], f["table"]) for f in report["findings"]}
    assert ("capacity", "session") in kinds
    assert ("waitlist", "session") in kinds
    assert ("orphan", "enrolment") in kinds
    assert ("foreign_key", "enrolment") in kinds
    for finding in report["findings"]:
        assert set(finding) == {"check", "table", "row_id", "message"}
    capacity = next(f for f in report["findings"] if f["check"] == "capacity")
    assert capacity["row_id"] == full
    assert "more than its maximum of 1" in capacity["message"]

    text = rollcall("check")
    assert text.code == 1
    assert "capacity: session" in text.stdout
    assert "waitlist positions 1, 3" in text.stdout
    assert "person 9999, which is gone" in text.stdout
    assert "problem(s) found" in text.stderr


def test_upgrade_takes_a_backup_first(rollcall: Runner, tmp_path: Path) -> None:
    """An existing database holding data is copied (0600) before its schema is upgraded."""
    add_people(rollcall, tmp_path, ["ann@example.org"])
    db = tmp_path / "cli.db"
    conn = sqlite3.connect(db)
    current = conn.execute("SELECT version FROM rollcall_schema").fetchone()[0]
    conn.execute("UPDATE rollcall_schema SET version = ?", (current - 1,))
    conn.commit()
    conn.close()

    out = ok(rollcall("person", "list"))
    copies = list(tmp_path.glob(f"cli.db.pre-v{current}-*.bak"))
    assert len(copies) == 1, list(tmp_path.iterdir())
    assert stat.S_IMODE(copies[0].stat().st_mode) == 0o600
    assert str(copies[0]) in out.stderr
    assert "ann@example.org" in out.stdout
    with sqlite3.connect(copies[0]) as copy:
        assert copy.execute("SELECT version FROM rollcall_schema").fetchone()[0] == current - 1
        assert copy.execute("SELECT email FROM person").fetchall() == [("ann@example.org",)]
    with sqlite3.connect(db) as upgraded:
        assert upgraded.execute("SELECT version FROM rollcall_schema").fetchone()[0] == current
    # Up to date now: no further copies.
    ok(rollcall("person", "list"))
    assert len(list(tmp_path.glob("cli.db.pre-v*.bak"))) == 1


def test_postgres_backup_and_restore_roundtrip(
    rollcall: Runner, tmp_path: Path, postgres_server: PostgresServer
) -> None:
    source = postgres_server.create_database()
    target = postgres_server.create_database()
    try:
        # The password travels in PGPASSWORD, never on pg_dump's command line.
        user, rest = source.split("://", 1)[1].split("@", 1)
        src = {"ROLLCALL_DB": f"postgresql://{user}:s3cret@{rest}"}
        dst = {"ROLLCALL_DB": target}
        sid = add_session(rollcall, "Fire Safety", 1, **src)
        add_people(rollcall, tmp_path, ["ann@example.org", "bob@example.org"], **src)
        ok(rollcall("enrol", str(sid), "ann@example.org", extra_env=src))
        ok(rollcall("enrol", str(sid), "bob@example.org", extra_env=src))
        dump = tmp_path / "pg.dump"
        ok(rollcall("backup", str(dump), extra_env=src))
        assert dump.read_bytes().startswith(b"PGDMP")
        assert stat.S_IMODE(dump.stat().st_mode) == 0o600

        ok(rollcall("person", "add", "--email", "cy@example.org", "--name", "Cy", extra_env=dst))
        one_error_line(rollcall("restore", str(dump), extra_env=dst), 1, "--yes")
        ok(rollcall("restore", str(dump), "--yes", extra_env=dst))
        shown = ok(rollcall("session", "show", str(sid), "--json", extra_env=dst)).json()
        statuses = {e["email"]: e["status"] for e in shown["enrolments"]}
        assert statuses == {"ann@example.org": "enrolled", "bob@example.org": "waitlisted"}
        emails = {
            p["email"] for p in ok(rollcall("person", "list", "--json", extra_env=dst)).json()
        }
        assert "cy@example.org" not in emails
        assert ok(rollcall("check", "--json", extra_env=dst)).json()["ok"] is True
        # New rows get fresh ids after the restore (sequences came back too).
        ok(rollcall("person", "add", "--email", "dee@example.org", "--name", "Dee", extra_env=dst))
        # A SQLite copy is not a PostgreSQL backup.
        sqlite_copy = tmp_path / "lite.db"
        ok(rollcall("backup", str(sqlite_copy)))
        one_error_line(rollcall("restore", str(sqlite_copy), "--yes", extra_env=dst), 1, "file")
    finally:
        postgres_server.drop_database(source)
        postgres_server.drop_database(target)
