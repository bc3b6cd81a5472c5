"""End to end with the real Dovecot: client-format replies, `mail poll`, `session show`."""

from __future__ import annotations

import json
import os
import re
import smtplib
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import mail.poller as poller
import store.rsvp as rsvp
from mail.poller import poll_once
from store.booking import enrol
from store.clock import utcnow
from store.db import close_database, database, open_database
from store.errors import ServiceUnavailable
from store.inbound import InboundMessage
from store.models import Enrolment, Session
from store.people import PersonInput, add_person, add_trainer
from store.session_input import SessionInput
from store.sessions import create_sessions
from store.settings import Settings, load_settings, use_settings
from tests.replies import CLIENT_SAMPLES, client_reply, reply_ics, reply_message
from tests.servers import MailServers

pytestmark = pytest.mark.mailserver

ORGANIZER = "training@example.test"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def organizer(mail_servers: MailServers) -> Iterator[str]:
    mail_servers.add_mailbox(ORGANIZER)
    mail_servers.wipe(ORGANIZER)
    yield ORGANIZER
    mail_servers.wipe(ORGANIZER)


@pytest.fixture
def env(tmp_path: Path, mail_servers: MailServers, organizer: str) -> dict[str, str]:
    values = {
        "ROLLCALL_DB": str(tmp_path / "rollcall.db"),
        "ROLLCALL_TIMEZONE": "Europe/London",
        "ROLLCALL_ORGANIZER_EMAIL": organizer,
        "ROLLCALL_IMAP_HOST": mail_servers.imap_host,
        "ROLLCALL_IMAP_PORT": str(mail_servers.imap_port),
        "ROLLCALL_IMAP_USER": organizer,
        "ROLLCALL_IMAP_PASSWORD": "secret",
        "ROLLCALL_IMAP_SECURITY": "none",
    }
    return values


@pytest.fixture
def db(env: dict[str, str]) -> Iterator[Settings]:
    """The same database the subprocess uses, open in this process too."""
    settings = load_settings(environ=env)
    use_settings(settings)
    open_database(env["ROLLCALL_DB"])
    yield settings
    close_database()
    database.initialize(None)


def rollcall(env: dict[str, str], *args: str) -> tuple[int, Any, str]:
    exe = Path(sys.executable).with_name("rollcall")
    out = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )
    data = json.loads(out.stdout) if out.stdout.strip().startswith(("{", "[")) else None
    return out.returncode, data, out.stderr


def make_session(
    people: list[str], *, mark_invited: bool = True, trainer: str | None = None
) -> Session:
    session = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=(utcnow() + timedelta(days=10)).date(),
            start="09:30",
            duration_minutes=60,
            location="Room 1",
            trainer=trainer,
        )
    )[0]
    for email in people:
        add_person(PersonInput(email=email, name=email.split("@")[0].title()))
        enrol(session.id, email)
    if mark_invited:
        # Tests about the poller alone count the invitations as sent.
        Enrolment.update(calendar="invited", invited_at=utcnow()).execute()
    return Session.get_by_id(session.id)


def deliver_smtp(servers: MailServers, raw: bytes, sender: str) -> None:
    # smtplib sends bytes as given; SMTP wants CRLF (the corpus files are mostly LF-only).
    crlf = re.sub(rb"\r?\n", b"\r\n", raw)
    with smtplib.SMTP(servers.smtp_host, servers.smtp_port, timeout=10) as smtp:
        smtp.sendmail(sender, [ORGANIZER], crlf)


def append(servers: MailServers, raw: bytes) -> None:
    with servers.mailbox(ORGANIZER) as box:
        box.append(raw, "INBOX", dt=None, flag_set=[])


def test_each_client_reply_is_applied_once(
    mail_servers: MailServers, env: dict[str, str], db: Settings
) -> None:
    clients = sorted(CLIENT_SAMPLES)
    learners = [f"{c}@example.test" for c in clients]
    session = make_session(learners, mark_invited=False)
    # The invitations go out for real: through SMTP into each learner's mailbox.
    smtp = {
        "ROLLCALL_SMTP_HOST": mail_servers.smtp_host,
        "ROLLCALL_SMTP_PORT": str(mail_servers.smtp_port),
        "ROLLCALL_SMTP_SECURITY": "none",
    }
    for learner in learners:
        mail_servers.add_mailbox(learner)
        mail_servers.wipe(learner)
    code, invited, err = rollcall({**env, **smtp}, "invite", str(session.id), "--json")
    assert code == 0, err
    code, sent, err = rollcall({**env, **smtp}, "mail", "send", "--json")
    assert code == 0, err
    assert (sent["failed"], sent["pending"]) == (0, 0)
    for learner in learners:
        uids = {
            bytes(part.get_payload(decode=True)).decode().split("UID:", 1)[1].split("\r\n", 1)[0]
            for message in mail_servers.messages(learner)
            for part in message.obj.walk()
            if part.get_content_type() == "text/calendar"
        }
        assert uids == {session.uid}, learner
    code, shown, err = rollcall(env, "session", "show", str(session.id), "--json")
    assert {e["calendar"] for e in shown["enrolments"]} == {"invited"}
    expected: dict[str, str] = {}
    for n, (client, learner) in enumerate(zip(clients, learners, strict=True)):
        raw, partstat = client_reply(
            client, session.uid, learner, ORGANIZER, T0 + timedelta(minutes=n)
        )
        expected[learner] = partstat.lower()
        if n % 2:
            deliver_smtp(mail_servers, raw, learner)
        else:
            append(mail_servers, raw)
    # Mail that is not a reply stays in the inbox; a forged reply is logged, not applied.
    append(
        mail_servers,
        b"From: boss@example.test\r\nSubject: lunch?\r\nMessage-ID: <l@x>\r\n\r\nhi\r\n",
    )
    forged = reply_message(
        reply_ics(session.uid, learners[0], "DECLINED", dtstamp=T0 + timedelta(days=1)),
        sender="mallory@example.test",
    )
    append(mail_servers, forged)

    code, report, err = rollcall(env, "mail", "poll", "--json")
    assert code == 0, err
    assert report == {"fetched": len(clients) + 2, "applied": len(clients), "ignored": 2}

    code, shown, err = rollcall(env, "session", "show", str(session.id), "--json")
    assert code == 0, err
    states = {e["email"]: e["calendar"] for e in shown["enrolments"]}
    assert states == expected
    for e in shown["enrolments"]:
        assert e["responded_at"] is not None

    code, log, _ = rollcall(env, "mail", "inbound", "--json")
    assert code == 0
    reasons = sorted(r["reason"] for r in log if r["outcome"] == "ignored")
    assert reasons == ["not a calendar reply", "sender is not the attendee"]
    assert set(log[0]) >= {
        "message_id",
        "from",
        "received_at",
        "outcome",
        "reason",
        "session_id",
        "email",
        "calendar",
    }

    # Poll again: nothing new, nothing changes.
    code, report, _ = rollcall(env, "mail", "poll", "--json")
    assert report == {"fetched": 0, "applied": 0, "ignored": 0}
    code, again, _ = rollcall(env, "session", "show", str(session.id), "--json")
    assert again == shown
    code, log_again, _ = rollcall(env, "mail", "inbound", "--json")
    assert len(log_again) == len(log)

    inbox = mail_servers.messages(ORGANIZER, "INBOX")
    assert [m.subject for m in inbox] == ["lunch?"]
    processed = mail_servers.messages(ORGANIZER, "rollcall/processed")
    assert len(processed) == len(clients) + 1
    assert all("\\Seen" not in m.flags for m in processed)


def test_connection_dropped_mid_poll_skips_and_repeats_nothing(
    mail_servers: MailServers, db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    learners = [f"l{n}@example.test" for n in range(7)]
    session = make_session(learners)
    for n, learner in enumerate(learners):
        append(
            mail_servers,
            reply_message(
                reply_ics(session.uid, learner, dtstamp=T0 + timedelta(minutes=n)), sender=learner
            ),
        )
    boxes: list[Any] = []
    real_connect, real_fetch = poller.connect, poller._fetch
    real_apply = vars(poller)["apply_reply"]
    calls = {"fetch": 0, "apply": 0}

    def connect(settings: Settings) -> Any:
        box = real_connect(settings)
        boxes.append(box)
        return box

    def cut() -> None:
        boxes[-1].client.sock.shutdown(socket.SHUT_RDWR)

    def fetch_cut_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["fetch"] += 1
        if calls["fetch"] == 2:
            cut()  # the server goes away between two batches
        return real_fetch(*args, **kwargs)

    def apply_then_cut(*args: Any, **kwargs: Any) -> Any:
        done = real_apply(*args, **kwargs)
        calls["apply"] += 1
        if calls["apply"] == 2:
            cut()  # the server goes away right after a commit, before the moves
        return done

    monkeypatch.setattr(poller, "connect", connect)
    monkeypatch.setattr(poller, "_fetch", fetch_cut_on_second)
    with pytest.raises(ServiceUnavailable):
        poll_once(db, batch=2)
    monkeypatch.setattr(poller, "_fetch", real_fetch)
    # The first batch was applied; nothing after it was.
    assert InboundMessage.select().count() == 2

    monkeypatch.setattr(poller, "apply_reply", apply_then_cut)
    with pytest.raises(ServiceUnavailable):
        poll_once(db, batch=2)
    monkeypatch.setattr(poller, "apply_reply", real_apply)
    handled = InboundMessage.select().count()
    assert 4 <= handled <= len(learners)

    report = poll_once(db, batch=2)
    assert report.fetched == len(learners) - handled
    assert InboundMessage.select().count() == len(learners)
    assert {e.calendar for e in Enrolment.select()} == {"accepted"}
    assert InboundMessage.select().where(InboundMessage.outcome != "applied").count() == 0
    assert InboundMessage.select().where(InboundMessage.move_pending == True).count() == 0  # noqa: E712
    assert mail_servers.messages(ORGANIZER, "INBOX") == []
    assert len(mail_servers.messages(ORGANIZER, "rollcall/processed")) == len(learners)
    assert poll_once(db).fetched == 0


def test_unreachable_server_exits_3(env: dict[str, str]) -> None:
    code, _, err = rollcall({**env, "ROLLCALL_IMAP_PORT": "1"}, "mail", "poll", "--json")
    assert code == 3
    assert err.startswith("error: imap")


def test_missing_folder_is_a_settings_error(env: dict[str, str]) -> None:
    code, _, err = rollcall({**env, "ROLLCALL_IMAP_FOLDER": "Nope"}, "mail", "poll", "--json")
    assert code == 1
    assert "imap_folder" in err


def test_oversized_message_is_logged_and_left_alone(
    mail_servers: MailServers, db: Settings, env: dict[str, str]
) -> None:
    session = make_session(["big@example.test"])
    raw = reply_message(
        reply_ics(session.uid, "big@example.test", dtstamp=T0, comment="x" * 5000),
        sender="big@example.test",
    )
    append(mail_servers, raw)
    small = load_settings(environ={**env, "ROLLCALL_MAX_MESSAGE_BYTES": "2000"})
    report = poll_once(small)
    assert (report.fetched, report.applied, report.ignored) == (1, 0, 1)
    entry = InboundMessage.get()
    assert entry.reason == "message too large"
    assert entry.raw_size > 2000
    assert Enrolment.get().calendar == "invited"
    assert len(mail_servers.messages(ORGANIZER, "INBOX")) == 1


def test_a_failing_message_in_a_group_rolls_back_alone(
    mail_servers: MailServers, db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    learners = [f"g{n}@example.test" for n in range(5)]
    session = make_session(learners)
    for n, learner in enumerate(learners):
        append(
            mail_servers,
            reply_message(
                reply_ics(session.uid, learner, "DECLINED", dtstamp=T0 + timedelta(minutes=n)),
                sender=learner,
            ),
        )
    real_advance = rsvp._advance
    calls = {"advance": 0}

    def advance_then_fail(*args: Any, **kwargs: Any) -> None:
        real_advance(*args, **kwargs)
        calls["advance"] += 1
        if calls["advance"] == 3:
            # The third message's log entry and enrolment change are written by now.
            raise RuntimeError("disk full")

    monkeypatch.setattr(rsvp, "_advance", advance_then_fail)
    with pytest.raises(RuntimeError):
        poll_once(db)
    monkeypatch.setattr(rsvp, "_advance", real_advance)
    # The two before it committed with the group; the third's writes were rolled back.
    assert InboundMessage.select().count() == 2
    assert Enrolment.select().where(Enrolment.calendar == "declined").count() == 2
    assert Enrolment.select().where(Enrolment.status == "cancelled").count() == 0

    report = poll_once(db)
    assert report.fetched == 3
    assert report.applied == 3
    assert InboundMessage.select().count() == len(learners)
    assert {e.calendar for e in Enrolment.select()} == {"declined"}
    assert len(mail_servers.messages(ORGANIZER, "rollcall/processed")) == len(learners)
    assert poll_once(db).fetched == 0


def test_trainer_replies_update_the_session_and_a_decline_alerts_the_admins(
    mail_servers: MailServers, env: dict[str, str], db: Settings
) -> None:
    trainer = "tess.trainer@example.test"
    smtp = {
        "ROLLCALL_SMTP_HOST": mail_servers.smtp_host,
        "ROLLCALL_SMTP_PORT": str(mail_servers.smtp_port),
        "ROLLCALL_SMTP_SECURITY": "none",
    }
    mail_servers.add_mailbox(trainer)
    mail_servers.wipe(trainer)
    add_trainer(trainer, "Tess Trainer")
    session = make_session([], mark_invited=False, trainer=trainer)
    # The trainer's invitation goes out for real and lands in their mailbox.
    code, sent, err = rollcall({**env, **smtp}, "mail", "send", "--json")
    assert code == 0, err
    assert sent["failed"] == 0
    invitations = [m for m in mail_servers.messages(trainer) if "Trainer invitation" in m.subject]
    assert len(invitations) == 1
    uid = Session.get_by_id(session.id).uid
    code, shown, _ = rollcall(env, "session", "show", str(session.id), "--json")
    assert (shown["trainer_calendar"], shown["trainer_responded_at"]) == ("invited", None)

    # Thunderbird's accept, sent by the trainer through SMTP.
    raw, partstat = client_reply("thunderbird", uid, trainer, ORGANIZER, T0)
    assert partstat == "ACCEPTED"
    deliver_smtp(mail_servers, raw, trainer)
    code, report, err = rollcall(env, "mail", "poll", "--json")
    assert code == 0, err
    assert report == {"fetched": 1, "applied": 1, "ignored": 0}
    code, shown, _ = rollcall(env, "session", "show", str(session.id), "--json")
    assert shown["trainer_calendar"] == "accepted"
    assert shown["trainer_responded_at"] == T0.isoformat()
    assert shown["enrolments"] == []

    # Someone else answering for the trainer changes nothing.
    forged = reply_message(
        reply_ics(uid, trainer, "DECLINED", dtstamp=T0 + timedelta(hours=1), organizer=ORGANIZER),
        sender="mallory@example.test",
    )
    deliver_smtp(mail_servers, forged, "mallory@example.test")
    # Gmail's decline, newer, from the trainer.
    raw, partstat = client_reply("gmail", uid, trainer, ORGANIZER, T0 + timedelta(hours=2))
    assert partstat == "DECLINED"
    deliver_smtp(mail_servers, raw, trainer)
    code, report, err = rollcall(env, "mail", "poll", "--json")
    assert code == 0, err
    assert report == {"fetched": 2, "applied": 1, "ignored": 1}
    code, shown, _ = rollcall(env, "session", "show", str(session.id), "--json")
    assert shown["trainer_calendar"] == "declined"
    assert shown["trainer_responded_at"] == (T0 + timedelta(hours=2)).isoformat()
    code, log, _ = rollcall(env, "mail", "inbound", "--json")
    forged_entry = next(r for r in log if r["from"] == "mallory@example.test")
    assert forged_entry["reason"] == "sender is not the attendee"

    # The decline queued an alert to the organizer's address, and it is delivered.
    code, outbox, _ = rollcall(env, "mail", "outbox", "--json")
    alerts = [m for m in outbox if m["kind"] == "trainer_declined"]
    assert [a["recipient"] for a in alerts] == [ORGANIZER]
    code, sent, err = rollcall({**env, **smtp}, "mail", "send", "--json")
    assert code == 0, err
    alert = next(m for m in mail_servers.messages(ORGANIZER) if "Trainer declined" in m.subject)
    assert "Tess Trainer" in alert.text
    assert "Fire Safety" in alert.subject
