"""The outbox queue rules: claims, invite, reminders (no mail server needed)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from store import booking, outbox
from store.clock import utcnow
from store.errors import RuleViolation, ValidationError
from store.models import Enrolment, Outbox
from store.sessions import cancel_session
from tests.builders import person, session


def calendar_states(session_id: int) -> dict[str, str]:
    rows = Enrolment.select().where(Enrolment.session == session_id)
    return {e.person.email: e.calendar for e in rows}


def test_invite_everyone_enrolled_sets_invited_in_the_same_transaction(store: str) -> None:
    s = session(max_attendees=2)
    ann, bob, cat = (
        person("ann@example.test"),
        person("bob@example.test"),
        person("cat@example.test"),
    )
    for p in (ann, bob, cat):
        booking.book(s.id, p.email)
    before = Outbox.select().count()
    result = outbox.invite(s.id)
    assert result.queued == 2
    assert sorted(result.invited) == [ann.email, bob.email]
    assert calendar_states(s.id) == {
        ann.email: "invited",
        bob.email: "invited",
        cat.email: "not_invited",
    }
    new = list(Outbox.select().where(Outbox.id > before))
    assert {r.kind for r in new} == {"invitation"}
    assert {r.recipient for r in new} == {ann.email, bob.email}


def test_invite_with_message_to_chosen_people(store: str) -> None:
    s = session(max_attendees=1)
    ann, cat = person("ann@example.test"), person("cat@example.test")
    booking.book(s.id, ann.email)
    booking.book(s.id, cat.email)  # waitlisted
    result = outbox.invite(s.id, ["CAT@example.test", "ann@example.test"], "See you there")
    assert result.invited == [ann.email]
    assert result.messaged == [cat.email]
    rows = {
        r.recipient: json.loads(r.payload) for r in Outbox.select().where(Outbox.kind == "message")
    }
    assert rows[ann.email]["with_calendar"] is True
    assert rows[cat.email]["with_calendar"] is False
    assert rows[cat.email]["message"] == "See you there"
    assert calendar_states(s.id)[cat.email] == "not_invited"


@pytest.mark.parametrize(
    ("emails", "message", "with_calendar", "field"),
    [
        (["stranger@example.test"], None, True, "to"),
        ([""], None, True, "to"),
        (None, None, False, "message"),
        (None, "x" * 20_001, True, "message"),
    ],
)
def test_invite_bad_input_changes_nothing(
    store: str, emails: list[str] | None, message: str | None, with_calendar: bool, field: str
) -> None:
    s = session()
    person("stranger@example.test")
    ann = person("ann@example.test")
    booking.book(s.id, ann.email)
    before = Outbox.select().count()
    with pytest.raises(ValidationError) as info:
        outbox.invite(s.id, emails, message, with_calendar)
    assert info.value.field == field
    assert Outbox.select().count() == before
    assert calendar_states(s.id) == {ann.email: "not_invited"}


def test_invite_to_a_cancelled_session_is_refused(store: str) -> None:
    s = session()
    booking.book(s.id, person("ann@example.test").email)
    cancel_session(s.id, "No room")
    with pytest.raises(RuleViolation) as info:
        outbox.invite(s.id)
    assert info.value.field == "session"


def test_reminders_once_per_enrolment_not_for_cancelled(store: str) -> None:
    soon = session(date=(utcnow() + timedelta(hours=30)).date(), start="23:30")
    later = session(title="Later", date=(utcnow() + timedelta(days=20)).date())
    gone = session(title="Gone", date=(utcnow() + timedelta(hours=30)).date(), start="22:00")
    ann, bob = person("ann@example.test"), person("bob@example.test")
    for s in (soon, later, gone):
        booking.book(s.id, ann.email)
    booking.book(soon.id, bob.email)
    booking.unbook(soon.id, bob.email)
    cancel_session(gone.id, "No room")
    hours = int((soon.start - utcnow()).total_seconds() // 3600) + 1
    due = outbox.due_reminders(hours=hours)
    assert [(e.session_id, e.person_id) for e in due] == [(soon.id, ann.id)]
    assert outbox.queue_reminders(hours=hours) == 1
    assert outbox.queue_reminders(hours=hours) == 0
    reminders = list(Outbox.select().where(Outbox.kind == "reminder"))
    assert [(r.session_id, r.recipient) for r in reminders] == [(soon.id, ann.email)]
    assert Enrolment.get(Enrolment.session == soon.id, Enrolment.person == ann.id).reminder_sent_at


def test_claims_are_disjoint_and_released_rows_come_back(store: str) -> None:
    s = session()
    for i in range(5):
        booking.book(s.id, person(f"p{i}@example.test").email)
    a, b = outbox.sender_id(), outbox.sender_id()
    first = outbox.claim(a, limit=3)
    second = outbox.claim(b, limit=10)
    assert len(first) == 3
    assert len(second) == 2
    assert not {r.id for r in first} & {r.id for r in second}
    assert outbox.claim(a) == []
    assert outbox.release(a, [r.id for r in first]) == 3
    # b cannot release or mark a's rows.
    assert outbox.mark_sent(b, [outbox.Sent(first[0].id)]) == 0
    assert outbox.counts() == {"pending": 3, "sending": 2, "sent": 0, "failed": 0}
    outbox.mark_failed(b, second[0].id, "550 no such user")
    assert outbox.mark_sent(b, [outbox.Sent(second[1].id, "Subject")]) == 1
    assert outbox.counts() == {"pending": 3, "sending": 0, "sent": 1, "failed": 1}
    assert outbox.retry_failed() == 1
    assert outbox.counts()["pending"] == 4


def test_backoff_grows_and_gives_up(store: str) -> None:
    assert outbox.backoff(1) < outbox.backoff(2) < outbox.backoff(3)
    assert outbox.backoff(50) == timedelta(minutes=60)
    s = session()
    booking.book(s.id, person("ann@example.test").email)
    owner = outbox.sender_id()
    statuses = []
    for _ in range(outbox.MAX_ATTEMPTS):
        Outbox.update(next_attempt_at=utcnow()).execute()
        (row,) = outbox.claim(owner)
        statuses.append(outbox.retry_later(owner, row.id, "451 busy"))
    assert statuses[-1] == "failed"
    assert set(statuses[:-1]) == {"pending"}
    assert Outbox.get().last_error == "451 busy"


def dead_pid() -> int:
    """The id of a process of this host that has ended (and was reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


def test_claims_of_a_dead_sender_on_this_host_are_free_at_once(store: str) -> None:
    s = session()
    for i in range(3):
        booking.book(s.id, person(f"d{i}@example.test").email)
    dead = f"{socket.gethostname()}:{dead_pid()}:deadbeef"
    alive = outbox.sender_id()  # this process, still running
    assert len(outbox.claim(dead, limit=2)) == 2
    assert outbox.sender_gone(dead)
    assert not outbox.sender_gone(alive)
    taken = outbox.claim(alive)
    assert len(taken) == 3  # the dead sender's two, and the third
    assert {r.claimed_by for r in Outbox.select()} == {alive}
    # Its late records count for nothing.
    assert outbox.mark_sent(dead, [outbox.Sent(taken[0].id)]) == 0


def test_claims_of_a_sender_elsewhere_hold_for_their_lease_and_are_renewed(store: str) -> None:
    s = session()
    booking.book(s.id, person("far@example.test").email)
    elsewhere = "another-host.example.test:1:cafe"
    assert not outbox.sender_gone(elsewhere)
    now = utcnow()
    (row,) = outbox.claim(elsewhere, now=now)
    assert outbox.CLAIM_LEASE <= timedelta(minutes=2)
    assert outbox.claim(outbox.sender_id(), now=now + outbox.CLAIM_LEASE / 2) == []
    # The living sender renews its lease while its batch is still being sent.
    later = now + outbox.CLAIM_LEASE / 2
    assert outbox.renew(elsewhere, now=later) == 1
    assert Outbox.get_by_id(row.id).claimed_until == later + outbox.CLAIM_LEASE
    assert outbox.claim(outbox.sender_id(), now=now + outbox.CLAIM_LEASE) == []
    # Not renewed any more (it died): free once the lease ran out.
    assert len(outbox.claim(outbox.sender_id(), now=later + outbox.CLAIM_LEASE * 2)) == 1
    assert outbox.renew(elsewhere) == 0
