"""Fault injection for `rollcall mail send` and `rollcall worker`, run as real processes.

Misbehaving SMTP servers (tests/servers/faulty_smtp.py) and the real SMTP -> Dovecot
stack; kills and signals at several points. What must hold: no message is
resent in a loop, a failing server ends the run with exit 3 and nothing lost,
a signal ends the run promptly, and a crash repeats at most the one message
that was in flight.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mail import sender
from store import booking, outbox
from store.clock import utcnow
from store.db import close_database, database, open_database
from store.models import Outbox
from store.settings import Settings, load_settings
from tests.builders import person, session
from tests.cli.conftest import rollcall_executable
from tests.servers.faulty_smtp import FaultySMTP

ORGANIZER = "training@example.test"


@pytest.fixture
def db_file(tmp_path: Path, settings: Settings) -> Iterator[Path]:
    """A SQLite store open in this process; the commands under test use the same file."""
    path = tmp_path / "rollcall.db"
    open_database(str(path))
    yield path
    close_database()
    database.initialize(None)


def queue(emails: list[str], rounds: int) -> int:
    """Book everyone on a new session (one confirmation each) and invite them `rounds` times."""
    s = session(max_attendees=len(emails))
    for email in emails:
        person(email)
        booking.book(s.id, email)
    for _ in range(rounds):
        outbox.invite(s.id)
    return int(Outbox.select().count())


def environment(db_file: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ROLLCALL_DB": str(db_file),
        "ROLLCALL_TIMEZONE": "Europe/London",
        "ROLLCALL_ORGANIZER_EMAIL": ORGANIZER,
        "ROLLCALL_SMTP_HOST": "127.0.0.1",
        "ROLLCALL_SMTP_PORT": str(port),
        "ROLLCALL_SMTP_SECURITY": "none",
        **extra,
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [rollcall_executable(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(env: dict[str, str], *args: str, timeout: float = 60) -> tuple[int, str, float]:
    """Run a command to its end: exit code, stderr, seconds taken."""
    began = time.monotonic()
    done = subprocess.run(
        [rollcall_executable(), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return done.returncode, done.stderr, time.monotonic() - began


def wait_for(condition: Callable[[], object], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def stop(proc: subprocess.Popen[str], sig: signal.Signals, timeout: float) -> float:
    """Send `sig` and return the seconds the process took to end (fails after `timeout`)."""
    began = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - began


def until_sent(count: int, proc: subprocess.Popen[str]) -> Callable[[], bool]:
    """A condition: `count` rows are sent, or `proc` ended."""
    return lambda: sent_count() >= count or proc.poll() is not None


def statuses() -> Counter[str]:
    return Counter(row.status for row in Outbox.select(Outbox.status))


def sent_count() -> int:
    return int(Outbox.select().where(Outbox.status == "sent").count())


def addresses(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [f"p{i}-{tag}@example.test" for i in range(n)]


# --------------------------------------------------------------------------- misbehaving servers


def test_server_dropping_every_connection_after_the_data_ends_the_run(db_file: Path) -> None:
    total = queue(addresses(10), 2)  # 30 messages
    with FaultySMTP("drop") as server:
        env = environment(db_file, server.port)
        code, err, took = run(env, "mail", "send")
        assert code == 3, err
        assert took < 60
        assert "error: SMTP" in err
        # Each message the server took was tried once: no resend loop.
        assert set(server.copies().values()) == {1}
        tried = len(server.copies())
        assert tried == sender.GIVE_UP_AFTER
        # A second run tries others, never again the ones waiting for their backoff.
        code, _, _ = run(env, "mail", "send")
        assert code == 3
        assert set(server.copies().values()) == {1}
        assert len(server.copies()) == 2 * tried
    counts = statuses()
    assert counts["pending"] == total  # nothing lost, nothing given up
    waiting = list(Outbox.select().where(Outbox.attempts > 0))
    assert len(waiting) == 2 * tried
    for row in waiting:
        assert "may have delivered it" in row.last_error
        assert row.next_attempt_at > utcnow()


def test_server_dropping_one_recipient_every_time_delays_only_that_recipient(
    db_file: Path,
) -> None:
    emails = addresses(10)
    victim = emails[3]
    total = queue(emails, 3)  # 40 messages, 4 to the victim
    with FaultySMTP("drop", only_to=victim) as server:
        code, err, took = run(environment(db_file, server.port), "mail", "send", "--json")
        copies = server.copies()
    assert code == 0, err
    assert took < 30
    assert len(copies) == total
    assert set(copies.values()) == {1}
    theirs = list(Outbox.select().where(Outbox.recipient == victim))
    assert len(theirs) == 4
    for row in theirs:
        assert (row.status, row.attempts) == ("pending", 1)
        assert row.last_error.startswith("connection lost")
        assert row.last_error.endswith("the server may have delivered it")
        assert row.next_attempt_at > utcnow()
    assert statuses() == Counter({"sent": total - 4, "pending": 4})


def test_server_answering_421_forever_ends_the_run_with_exit_3(db_file: Path) -> None:
    total = queue(addresses(10), 2)
    with FaultySMTP("421") as server:
        code, err, took = run(environment(db_file, server.port), "mail", "send", "--json")
    assert code == 3, err
    assert took < 30
    assert server.deliveries == []
    assert server.connections <= sender.GIVE_UP_AFTER + sender.RECONNECT_TRIES + 1
    assert statuses() == Counter({"pending": total})
    first = Outbox.select().order_by(Outbox.id).first()
    assert first.attempts == 1
    assert first.last_error.startswith("421")


@pytest.mark.parametrize(
    ("behaviour", "sig"),
    [("421", signal.SIGTERM), ("drop", signal.SIGTERM), ("hang", signal.SIGINT)],
)
def test_worker_stops_within_seconds_of_a_signal_whatever_the_server_does(
    db_file: Path, behaviour: str, sig: signal.Signals
) -> None:
    total = queue(addresses(10), 2)
    with FaultySMTP(behaviour) as server:
        proc = start(environment(db_file, server.port), "worker")
        wait_for(lambda: server.connections >= 1 and (behaviour != "hang" or server.deliveries))
        took = stop(proc, sig, timeout=sender.STOP_GRACE + 10)
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert took < sender.STOP_GRACE + 5
    assert "worker stopped" in err
    assert set(server.copies().values()) <= {1}
    counts = statuses()
    assert counts["sending"] == 0
    assert counts["pending"] == total


def test_reply_to_the_data_is_awaited_longer_than_other_replies(db_file: Path) -> None:
    """A server slow to confirm the data gets each message once (the timeouts are scaled down)."""
    total = queue(addresses(3), 0)
    with FaultySMTP("slow", delay=2.0) as server:
        env = environment(
            db_file, server.port, ROLLCALL_SMTP_TIMEOUT="1", ROLLCALL_SMTP_DATA_TIMEOUT="5"
        )
        code, err, _ = run(env, "mail", "send")
        copies = server.copies()
    assert code == 0, err
    assert len(copies) == total
    assert set(copies.values()) == {1}
    assert statuses() == Counter({"sent": total})


def test_production_timeouts_are_the_rfc_5321_ones() -> None:
    settings = load_settings(environ={})
    assert settings.smtp_data_timeout == 10 * 60  # §4.5.3.2.6, the reply to the data's end
    assert settings.smtp_timeout == 5 * 60  # §4.5.3.2, MAIL, RCPT and the rest
    assert sender.smtp_client(load_settings(environ={}, smtp_host="smtp.example.test")).timeout == (
        5 * 60
    )


def test_sigterm_ends_mail_send_after_the_message_in_flight_is_recorded(db_file: Path) -> None:
    total = queue(addresses(10), 0)
    with FaultySMTP("slow", delay=0.5) as server:
        env = environment(db_file, server.port)
        proc = start(env, "mail", "send")
        wait_for(lambda: len(server.deliveries) >= 2)
        took = stop(proc, signal.SIGTERM, timeout=sender.STOP_GRACE + 10)
        assert proc.returncode == 0, proc.communicate()[1]
        assert took < 3
        received = len(server.deliveries)
        assert sent_count() == received  # the one in flight was recorded too
        assert statuses()["sending"] == 0
        code, err, _ = run(env, "mail", "send")
        assert code == 0, err
        copies = server.copies()
    assert len(copies) == total
    assert set(copies.values()) == {1}
    assert statuses() == Counter({"sent": total})


# --------------------------------------------------------------------------- the real stack


@pytest.mark.mailserver
def test_sigkill_of_mail_send_repeats_at_most_one_message_per_kill(
    db_file: Path, mail_servers: Any, new_address: Callable[[str], str]
) -> None:
    people = [new_address(f"k{i}") for i in range(12)]
    total = queue(people, 4)  # 60 messages
    env = environment(db_file, mail_servers.smtp_port, ROLLCALL_ORGANIZER_EMAIL=ORGANIZER)
    kills = 0
    for point in (5, 20, 35):
        proc = start(env, "mail", "send")
        wait_for(until_sent(point, proc))
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait(10)
    assert kills >= 2, "the sender finished before the kills"
    # The restarted sender takes the dead one's claims at once (no lease to wait for).
    code, err, took = run(env, "mail", "send", "--json")
    assert code == 0, err
    assert took < 20
    assert statuses() == Counter({"sent": total})
    copies: Counter[str] = Counter()
    for address in people:
        for message in mail_servers.messages(address):
            copies[message.headers["message-id"][0]] += 1
    assert set(copies) == {row.message_id for row in Outbox.select()}
    assert sum(copies.values()) - total <= kills


@pytest.mark.mailserver
def test_sigterm_of_mail_send_on_the_real_stack_sends_nothing_twice(
    db_file: Path, mail_servers: Any, new_address: Callable[[str], str]
) -> None:
    people = [new_address(f"t{i}") for i in range(10)]
    total = queue(people, 3)
    env = environment(db_file, mail_servers.smtp_port)
    proc = start(env, "mail", "send")
    wait_for(until_sent(5, proc))
    took = stop(proc, signal.SIGTERM, timeout=10)
    assert proc.returncode == 0
    assert took < 5
    assert statuses()["sending"] == 0
    code, err, _ = run(env, "mail", "send")
    assert code == 0, err
    copies = Counter(
        message.headers["message-id"][0]
        for address in people
        for message in mail_servers.messages(address)
    )
    assert len(copies) == total
    assert set(copies.values()) == {1}


def test_worker_stops_within_seconds_while_the_imap_server_never_answers(db_file: Path) -> None:
    """A poll stuck on a silent IMAP server does not hold the worker past a SIGTERM."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)  # accepts connections (the kernel does) and never says a word
        env = environment(
            db_file,
            silent.getsockname()[1],
            ROLLCALL_IMAP_HOST="127.0.0.1",
            ROLLCALL_IMAP_PORT=str(silent.getsockname()[1]),
            ROLLCALL_IMAP_SECURITY="none",
            ROLLCALL_IMAP_USER="training@example.test",
            ROLLCALL_IMAP_PASSWORD="secret",
        )
        proc = start(env, "worker")
        time.sleep(3)  # the poll is now waiting for a greeting that never comes
        took = stop(proc, signal.SIGTERM, timeout=15)
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert took < 8, err
    assert "worker stopped" in err
