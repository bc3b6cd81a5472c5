"""The mail commands of CLI.md: mail send/outbox, invite, tick, worker, config check."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result, Runner, rollcall_executable
from tests.servers import free_port

DAY = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()


def ok(result: Result) -> Result:
    assert result.code == 0, (result.stdout, result.stderr)
    return result


def setup_session(rollcall: Runner, *emails: str) -> int:
    for email in emails:
        ok(rollcall("person", "add", "--email", email, "--name", email.split("@")[0].title()))
    out = ok(
        rollcall(
            "session",
            "add",
            "--title",
            "Fire Safety",
            "--date",
            DAY,
            "--start",
            "09:30",
            "--duration",
            "60",
            "--location",
            "Room 1",
            "--json",
        )
    )
    session_id: int = out.json()["ids"][0]
    for email in emails:
        ok(rollcall("enrol", str(session_id), email))
    return session_id


def smtp_env(mail_servers: Any, organizer: str) -> dict[str, str]:
    return {
        "ROLLCALL_ORGANIZER_EMAIL": organizer,
        "ROLLCALL_SMTP_HOST": mail_servers.smtp_host,
        "ROLLCALL_SMTP_PORT": str(mail_servers.smtp_port),
        "ROLLCALL_SMTP_SECURITY": "none",
        "ROLLCALL_IMAP_HOST": mail_servers.imap_host,
        "ROLLCALL_IMAP_PORT": str(mail_servers.imap_port),
        "ROLLCALL_IMAP_SECURITY": "none",
        "ROLLCALL_IMAP_USER": organizer,
        "ROLLCALL_IMAP_PASSWORD": "secret",
    }


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.test"


def test_invite_sets_calendar_invited_and_lists_in_outbox(rollcall: Runner) -> None:
    sid = setup_session(rollcall, "ann@example.test", "bob@example.test")
    ok(rollcall("invite", str(sid), "--to", "ann@example.test", "--message", "Bring a pen"))
    shown = ok(rollcall("session", "show", str(sid), "--json")).json()
    states = {e["email"]: e["calendar"] for e in shown["enrolments"]}
    assert states == {"ann@example.test": "invited", "bob@example.test": "not_invited"}
    ok(rollcall("invite", str(sid)))
    shown = ok(rollcall("session", "show", str(sid), "--json")).json()
    assert {e["calendar"] for e in shown["enrolments"]} == {"invited"}

    rows = ok(rollcall("mail", "outbox", "--json")).json()
    assert isinstance(rows, list)
    assert len(rows) == 5  # 2 confirmations, 1 message, 2 invitations
    first = rows[0]
    assert set(first) >= {"id", "kind", "status", "recipient", "subject", "attempts", "last_error"}
    assert {r["status"] for r in rows} == {"pending"}
    message = next(r for r in rows if r["kind"] == "message")
    assert message["recipient"] == "ann@example.test"
    assert message["subject"].startswith("Invitation: Fire Safety, ")
    text = ok(rollcall("mail", "outbox")).stdout
    assert "5 pending" in text


def test_invite_bad_input(rollcall: Runner) -> None:
    sid = setup_session(rollcall, "ann@example.test")
    ok(rollcall("person", "add", "--email", "zed@example.test", "--name", "Zed"))
    out = rollcall("invite", str(sid), "--to", "zed@example.test")
    assert out.code == 1
    assert out.stderr.startswith("error: to:")
    assert len(ok(rollcall("mail", "outbox", "--json")).json()) == 1
    out = rollcall("invite", "999")
    assert out.code == 1
    assert out.stderr.startswith("error: ")
    assert rollcall("invite").code == 2


def test_mail_send_unreachable_exits_3_and_keeps_mail(rollcall: Runner) -> None:
    setup_session(rollcall, "ann@example.test")
    env = {
        "ROLLCALL_SMTP_HOST": "127.0.0.1",
        "ROLLCALL_SMTP_PORT": str(free_port()),
        "ROLLCALL_SMTP_SECURITY": "none",
    }
    out = rollcall("mail", "send", "--json", extra_env=env)
    assert out.code == 3
    assert out.json() == {"sent": 0, "failed": 0, "pending": 1}
    assert out.stderr.startswith("error: SMTP")
    rows = ok(rollcall("mail", "outbox", "--json")).json()
    assert [r["status"] for r in rows] == ["pending"]


@pytest.mark.mailserver
def test_mail_send_delivers(rollcall: Runner, mail_servers: Any) -> None:
    organizer = mail_servers.add_mailbox(unique("training"))
    ann = mail_servers.add_mailbox(unique("ann"))
    env = smtp_env(mail_servers, organizer)
    sid = setup_session(rollcall, ann)
    ok(rollcall("invite", str(sid), extra_env=env))
    out = ok(rollcall("mail", "send", "--json", extra_env=env))
    assert out.json() == {"sent": 2, "failed": 0, "pending": 0}
    assert len(mail_servers.messages(ann)) == 2
    assert ok(rollcall("mail", "send", "--json", extra_env=env)).json()["sent"] == 0
    rows = ok(rollcall("mail", "outbox", "--json", "--status", "sent")).json()
    assert len(rows) == 2
    assert all(r["sent_at"] for r in rows)


def test_tick_json(rollcall: Runner) -> None:
    setup_session(rollcall, "ann@example.test")
    out = ok(rollcall("tick", "--json"))
    data = out.json()
    assert data["reminders"] == 0
    assert data["sessions"] == {"scheduled": 1, "in_progress": 0, "completed": 0, "cancelled": 0}
    out = ok(rollcall("tick", "--json", extra_env={"ROLLCALL_REMINDER_HOURS": str(24 * 20)}))
    assert out.json()["reminders"] == 1
    out = ok(rollcall("tick", "--json", extra_env={"ROLLCALL_REMINDER_HOURS": str(24 * 20)}))
    assert out.json()["reminders"] == 0
    kinds = [r["kind"] for r in ok(rollcall("mail", "outbox", "--json")).json()]
    assert kinds.count("reminder") == 1


@pytest.mark.mailserver
def test_config_check(rollcall: Runner, mail_servers: Any) -> None:
    organizer = mail_servers.add_mailbox(unique("training"))
    env = smtp_env(mail_servers, organizer)
    out = rollcall("config", "check", extra_env=env)
    assert out.code == 0, out.stdout + out.stderr
    assert "ok   database" in out.stdout
    assert "ok   SMTP" in out.stdout
    assert "ok   IMAP" in out.stdout
    data = ok(rollcall("config", "check", "--json", extra_env=env)).json()
    assert [(d["service"], d["ok"]) for d in data] == [
        ("database", True),
        ("SMTP", True),
        ("IMAP", True),
    ]
    bad = dict(env, ROLLCALL_SMTP_PORT=str(free_port()), ROLLCALL_IMAP_PASSWORD="wrong")
    out = rollcall("config", "check", extra_env=bad)
    assert out.code == 3
    assert "FAIL SMTP: cannot connect" in out.stdout
    assert "FAIL IMAP: login" in out.stdout
    assert "ok   database" in out.stdout


def test_config_check_without_mail_servers_configured(rollcall: Runner) -> None:
    out = rollcall("config", "check")
    assert out.code == 1
    assert "FAIL SMTP: not configured" in out.stdout
    assert "FAIL IMAP: not configured" in out.stdout


@pytest.mark.mailserver
def test_worker_sends_and_stops_cleanly_on_sigterm(
    rollcall: Runner, mail_servers: Any, tmp_path: Path
) -> None:
    organizer = mail_servers.add_mailbox(unique("training"))
    ann = mail_servers.add_mailbox(unique("ann"))
    env = smtp_env(mail_servers, organizer)
    setup_session(rollcall, ann)
    full_env = dict(
        os.environ, ROLLCALL_DB=str(tmp_path / "cli.db"), ROLLCALL_TIMEZONE="Europe/London", **env
    )
    proc = subprocess.Popen(
        [rollcall_executable(), "worker"],
        env=full_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not mail_servers.messages(ann):
            time.sleep(0.2)
        assert len(mail_servers.messages(ann)) == 1
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "worker started" in err
    assert "stopping" in err
    assert "worker stopped" in err
    rows = json.loads(ok(rollcall("mail", "outbox", "--json")).stdout)
    assert [r["status"] for r in rows] == ["sent"]


def test_mail_inbound_json_is_the_whole_log_unless_limited(
    rollcall: Runner, tmp_path: Path, settings: Any
) -> None:
    from store.db import close_database, database, open_database
    from store.inbound import InboundMessage

    open_database(str(tmp_path / "cli.db"))
    try:
        start = datetime(2026, 11, 1, tzinfo=UTC)
        InboundMessage.insert_many(
            [
                {
                    "message_id": f"<m{n}@example.test>",
                    "outcome": "ignored",
                    "reason": "not a calendar reply",
                    "received_at": start + timedelta(minutes=n),
                }
                for n in range(150)
            ]
        ).execute()
    finally:
        close_database()
        database.initialize(None)
    rows = ok(rollcall("mail", "inbound", "--json")).json()
    assert len(rows) == 150
    assert rows[0]["message_id"] == "<m149@example.test>"
    assert rows[-1]["message_id"] == "<m0@example.test>"
    newest = ok(rollcall("mail", "inbound", "--json", "--limit", "10")).json()
    assert newest == rows[:10]
    assert (
        ok(rollcall("mail", "inbound", "--json", "--limit", "5", "--offset", "145")).json()
        == (rows[145:])
    )
    assert len(ok(rollcall("mail", "inbound")).stdout.splitlines()) == 150
    assert "the whole log" in ok(rollcall("mail", "inbound", "--help")).stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    out = rollcall("mail", "inbound", "--json", extra_env={"ROLLCALL_DB": str(empty / "e.db")})
    assert ok(out).json() == []
