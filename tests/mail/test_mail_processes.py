"""Real `mail poll` and `mail send` processes: killed mid-batch, or two at once on PostgreSQL.

The poller killed with SIGKILL between (or during) its groups must, once run
again, have applied every reply exactly once and logged each once. Two
pollers and two senders on one PostgreSQL database and one mailbox never
log, apply or send anything twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mail.poller import APPLY_GROUP
from store import booking, outbox
from store.clock import utcnow
from store.db import close_database, database, open_database
from store.inbound import InboundMessage, MailboxState
from store.models import Enrolment, Outbox
from store.settings import Settings
from tests.builders import person, session
from tests.cli.conftest import rollcall_executable
from tests.replies import reply_ics, reply_message
from tests.servers import MailServers, PostgresServer

pytestmark = pytest.mark.mailserver

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def environment(db: str, servers: MailServers, organizer: str) -> dict[str, str]:
    return {
        **os.environ,
        "ROLLCALL_DB": db,
        "ROLLCALL_TIMEZONE": "Europe/London",
        "ROLLCALL_ORGANIZER_EMAIL": organizer,
        "ROLLCALL_SMTP_HOST": servers.smtp_host,
        "ROLLCALL_SMTP_PORT": str(servers.smtp_port),
        "ROLLCALL_SMTP_SECURITY": "none",
        "ROLLCALL_IMAP_HOST": servers.imap_host,
        "ROLLCALL_IMAP_PORT": str(servers.imap_port),
        "ROLLCALL_IMAP_USER": organizer,
        "ROLLCALL_IMAP_PASSWORD": "secret",
        "ROLLCALL_IMAP_SECURITY": "none",
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [rollcall_executable(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """Wait for a process to end well and return its stdout."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


@pytest.fixture
def organizer(mail_servers: MailServers, new_address: Callable[[str], str]) -> str:
    return new_address("training")


@pytest.fixture
def sqlite_db(tmp_path: Any, settings: Settings) -> Iterator[str]:
    path = str(tmp_path / "rollcall.db")
    open_database(path)
    yield path
    close_database()
    database.initialize(None)


@pytest.fixture
def postgres_db(postgres_server: PostgresServer, settings: Settings) -> Iterator[str]:
    url = postgres_server.create_database()
    open_database(url)
    yield url
    close_database()
    database.initialize(None)
    postgres_server.drop_database(url)


def invited_people(count: int, organizer: str) -> tuple[str, list[str]]:
    """A session with `count` enrolled people whose invitations count as sent."""
    s = session(max_attendees=count)
    emails = [f"r{n}@example.test" for n in range(count)]
    for email in emails:
        person(email)
        booking.book(s.id, email)
    Enrolment.update(calendar="invited").execute()
    Outbox.delete().execute()
    return s.uid, emails


def fill_mailbox(servers: MailServers, organizer: str, uid: str, emails: list[str]) -> None:
    """One ACCEPTED reply per person in the organizer's INBOX."""
    with servers.mailbox(organizer) as box:
        for n, email in enumerate(emails):
            ics = reply_ics(uid, email, dtstamp=T0 + timedelta(seconds=n), organizer=organizer)
            box.append(reply_message(ics, sender=email, to=organizer), "INBOX", dt=None)


def check_every_reply_applied_once(servers: MailServers, organizer: str, emails: list[str]) -> None:
    entries = list(InboundMessage.select())
    assert len(entries) == len(emails)
    assert len({e.message_id for e in entries}) == len(emails)
    assert len({(e.folder, e.imap_uidvalidity, e.imap_uid) for e in entries}) == len(emails)
    assert Counter(e.outcome for e in entries) == Counter({"applied": len(emails)})
    assert {e.calendar for e in Enrolment.select()} == {"accepted"}
    assert MailboxState.select().count() == 1
    assert servers.messages(organizer, "INBOX") == []
    assert len(servers.messages(organizer, "rollcall/processed")) == len(emails)


def test_sigkill_of_mail_poll_mid_batch_skips_and_repeats_nothing(
    sqlite_db: str, mail_servers: MailServers, organizer: str
) -> None:
    # One fetch batch, applied in two groups (APPLY_GROUP): the kill lands between them.
    uid, emails = invited_people(APPLY_GROUP + 50, organizer)
    fill_mailbox(mail_servers, organizer, uid, emails)
    env = environment(sqlite_db, mail_servers, organizer)
    kills = 0
    for point in (1, APPLY_GROUP):
        proc = start(env, "mail", "poll", "--json")
        deadline = time.monotonic() + 30
        while proc.poll() is None and InboundMessage.select().count() < point:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait(10)
    assert kills >= 1, "the poller finished before it could be killed"
    assert InboundMessage.select().count() < len(emails)
    finish(start(env, "mail", "poll", "--json"))
    check_every_reply_applied_once(mail_servers, organizer, emails)


def test_two_pollers_on_postgres_apply_and_log_each_reply_once(
    postgres_db: str, mail_servers: MailServers, organizer: str
) -> None:
    uid, emails = invited_people(60, organizer)
    fill_mailbox(mail_servers, organizer, uid, emails)
    env = environment(postgres_db, mail_servers, organizer)
    # A fresh database: both create the mailbox's position row at once.
    assert MailboxState.select().count() == 0
    procs = [start(env, "mail", "poll", "--json") for _ in range(2)]
    reports = [finish(proc) for proc in procs]
    applied = sum(int(report.split('"applied": ')[1].split(",")[0]) for report in reports)
    assert applied == len(emails)
    check_every_reply_applied_once(mail_servers, organizer, emails)


def test_two_senders_on_postgres_send_each_message_once(
    postgres_db: str, mail_servers: MailServers, organizer: str, new_address: Callable[[str], str]
) -> None:
    people = [new_address(f"s{i}") for i in range(8)]
    s = session(max_attendees=len(people))
    for email in people:
        person(email)
        booking.book(s.id, email)
    for _ in range(4):
        outbox.invite(s.id)
    total = Outbox.select().count()
    env = environment(postgres_db, mail_servers, organizer)
    procs = [start(env, "mail", "send", "--json") for _ in range(2)]
    for proc in procs:
        finish(proc)
    # Dovecot may answer 451 when two deliveries create one new mailbox at once: such
    # a row waits for its retry; make it due and send again, as the worker would later.
    for _ in range(3):
        if not Outbox.select().where(Outbox.status == "pending").exists():
            break
        Outbox.update(next_attempt_at=utcnow()).where(Outbox.status == "pending").execute()
        finish(start(env, "mail", "send", "--json"))
    copies = Counter(
        message.headers["message-id"][0]
        for address in people
        for message in mail_servers.messages(address)
    )
    assert sum(copies.values()) == total
    assert set(copies.values()) == {1}
    assert Counter(row.status for row in Outbox.select()) == Counter({"sent": total})


def test_two_workers_on_postgres_send_once_and_apply_each_reply_once(
    postgres_db: str, mail_servers: MailServers, organizer: str, new_address: Callable[[str], str]
) -> None:
    """Two `rollcall worker` processes on one database and one mailbox, as two servers run them."""
    uid, emails = invited_people(40, organizer)
    fill_mailbox(mail_servers, organizer, uid, emails)
    people = [new_address(f"w{i}") for i in range(6)]
    s = session(title="Second Session", max_attendees=len(people))
    for email in people:
        person(email)
        booking.book(s.id, email)
    outbox.invite(s.id)
    total = Outbox.select().count()
    env = environment(postgres_db, mail_servers, organizer)
    workers = [start(env, "worker") for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while (
            InboundMessage.select().count() < len(emails)
            or Outbox.select().where(Outbox.status == "sent").count() < total
        ):
            assert time.monotonic() < deadline, "the workers did not finish in time"
            assert all(w.poll() is None for w in workers)
            if Outbox.select().where(Outbox.status == "pending").exists():
                # A 451 from Dovecot creating a mailbox twice at once waits for its retry.
                Outbox.update(next_attempt_at=utcnow()).where(Outbox.status == "pending").execute()
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        errors = [worker.communicate(timeout=30)[1] for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], errors
    copies = Counter(
        message.headers["message-id"][0]
        for address in people
        for message in mail_servers.messages(address)
    )
    assert sum(copies.values()) == total
    assert set(copies.values()) == {1}
    entries = list(InboundMessage.select())
    assert len(entries) == len(emails)
    assert len({e.message_id for e in entries}) == len(emails)
    assert Counter(e.outcome for e in entries) == Counter({"applied": len(emails)})
