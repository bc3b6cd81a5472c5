"""What the CLI prints and accepts: no escape sequences, capped lengths, hidden secrets."""

from __future__ import annotations

import email
import json
import sqlite3
from email import policy
from pathlib import Path

from mail.compose import render_bytes
from store.clock import utcnow
from tests.cli.conftest import Runner
from tests.cli.test_cli_contract import refused

EVIL = "Fire\x1b]0;owned\x07 Safety\x1b]52;c;ZXZpbA==\x1b\\\x1b[2J\x9b31m\x00!"


def _session(rollcall: Runner, *extra: str) -> int:
    out = rollcall(
        "session", "add", "--title", "Fire Safety", "--date", "2031-03-04", "--start", "09:30",
        "--duration", "60", "--location", "Room 1", "--json", *extra,
    )  # fmt: skip
    assert out.code == 0, out.stderr
    ids: list[int] = out.json()["ids"]
    return ids[0]


def test_stored_escape_sequences_are_not_printed(rollcall: Runner, tmp_path: Path) -> None:
    session = _session(rollcall)
    rollcall("person", "add", "--email", "ann@example.test", "--name", "Ann")
    rollcall("enrol", str(session), "ann@example.test")
    # Text that reached the database another way than rollcall's own input checks.
    with sqlite3.connect(tmp_path / "cli.db") as db:
        db.execute("UPDATE session SET title = ?, location = ?", (EVIL, "Room\x1b[5m 1"))
        db.execute("UPDATE person SET email = ?", ("ann\x1b[8m@example.test",))
    for args in (["session", "show", str(session)], ["session", "list"]):
        out = rollcall(*args)
        assert out.code == 0, out.stderr
        for control in ("\x1b", "\x07", "\x9b", "\x00"):
            assert control not in out.stdout, (args, out.stdout)
        assert "Fire Safety" in out.stdout
    shown = rollcall("session", "show", str(session)).stdout
    assert "Room 1" in shown
    assert "ann@example.test" in shown
    # JSON keeps the stored value (escaped), for programs to judge.
    assert rollcall("session", "show", str(session), "--json").json()["title"] == EVIL


def test_lengths_are_capped_naming_the_field(rollcall: Runner) -> None:
    refused(
        rollcall(
            "session", "add", "--title", "T", "--date", "2031-03-04", "--start", "09:30",
            "--duration", "60", "--location", "R", "--description", "x" * 10_001,
        ),
        "description",
    )  # fmt: skip
    session = _session(rollcall)
    refused(rollcall("session", "edit", str(session), "--title", "T" * 201), "title")
    many = [arg for n in range(101) for arg in ("--for-department", f"D{n}")]
    refused(rollcall("session", "edit", str(session), *many), "for_department")
    materials = [arg for n in range(51) for arg in ("--material", f"M{n}=https://x.test/{n}")]
    refused(rollcall("session", "edit", str(session), *materials), "material")
    refused(rollcall("session", "cancel", str(session), "--reason", "r" * 2001), "reason")
    refused(rollcall("pathway", "add", "--name", "P", "--description", "d" * 10_001), "description")
    # Nothing changed.
    shown = rollcall("session", "show", str(session), "--json").json()
    assert shown["visibility"]["departments"] == []
    assert shown["status"] == "scheduled"


def test_config_check_and_errors_hide_passwords(rollcall: Runner, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'smtp_host = "127.0.0.1"\nsmtp_port = 1\nsmtp_security = "none"\n'
        'smtp_user = "mailer"\n'
        'smtp_password_command = "false --token s3cr3t-token"\n'
    )
    url = "postgresql://rollcall:s3cr3t-pw@127.0.0.1:1/rollcall"
    out = rollcall("--config", str(config), "config", "check", extra_env={"ROLLCALL_DB": url})
    assert out.code == 3
    text = out.stdout + out.stderr
    assert "s3cr3t" not in text
    assert "postgresql://rollcall:***@127.0.0.1:1/rollcall" in text
    assert "the password command failed with exit status 1" in text
    for args in (["session", "list"], ["config", "check", "--json"]):
        result = rollcall("--config", str(config), *args, extra_env={"ROLLCALL_DB": url})
        assert "s3cr3t" not in result.stdout + result.stderr
    # The database password from a command that fails: named, its arguments not shown.
    failing = {"ROLLCALL_DB": url, "ROLLCALL_DB_PASSWORD_COMMAND": "false --pw s3cr3t-x"}
    result = rollcall("session", "list", extra_env=failing)
    refused(result, "db_password_command")
    assert "s3cr3t" not in result.stderr


def test_a_subject_cannot_add_headers() -> None:
    payload = {
        "kind": "message",
        "message": "Hello",
        "subject": "Hi\r\nBcc: evil@example.test\nX-Evil: 1",
        "organizer": {"email": "training@example.test", "name": "Training\nX-Name: 2"},
        "recipient": {"email": "ann@example.test", "name": "Ann"},
    }
    raw = render_bytes(payload, message_id="<t@example.test>", created_at=utcnow(), now=utcnow())
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Hi Bcc: evil@example.test X-Evil: 1"
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert message["X-Name"] is None
    assert message["Date"] is not None


def test_a_long_import_commits_in_batches(rollcall: Runner, tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    rows = [f"p{n}@example.test,Person {n}" for n in range(1_100)]
    csv.write_text("email,name\n" + "\n".join(rows) + "\n")
    assert rollcall("person", "import", str(csv)).code == 0
    audit = rollcall("audit", "--json").json()
    imports = [row["after"] for row in audit if row["action"] == "person.import"]
    assert sorted(i["added"] for i in imports) == [100, 500, 500]
    assert len(json.loads(rollcall("person", "list", "--json").stdout)) == 1_100


def test_a_locked_database_is_exit_3_with_one_line(rollcall: Runner, tmp_path: Path) -> None:
    assert rollcall("init").code == 0
    holder = sqlite3.connect(tmp_path / "cli.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer keeps the lock past the busy timeout
    try:
        out = rollcall("person", "add", "--email", "ann@example.test", "--name", "Ann")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert out.code == 3
    line = out.stderr.strip()
    assert "\n" not in line
    assert line.startswith("error: the database ")
    assert line.endswith(": database is locked")
