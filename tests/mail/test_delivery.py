"""End to end: rules queue mail, the sender delivers it through SMTP into Dovecot, IMAP reads it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from mail.sender import drain_outbox, send_outbox
from store import booking, outbox
from store.clock import utcnow
from store.models import Enrolment, Outbox, Session
from store.sessions import cancel_session, edit_session
from store.settings import Settings
from tests.builders import person, session, trainer
from tests.mail.checks import check_imip, check_plain, event_of, parse

pytestmark = pytest.mark.mailserver


def inbox(mail_servers: Any, address: str) -> list[Any]:
    """Every message in the address's INBOX, parsed."""
    return [parse(m.obj.as_bytes()) for m in mail_servers.messages(address)]


def by_kind(messages: list[Any]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for msg in messages:
        found.setdefault(msg["X-Rollcall-Kind"], []).append(msg)
    return found


def test_every_kind_arrives_with_the_right_structure(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    org = mail_settings.organizer_email
    tess = trainer(new_address("tess"), "Tess Trainer")
    ann, bob, cat = (person(new_address(n)) for n in ("ann", "bob", "cat"))
    s = session(
        trainer=tess.person.email,
        max_attendees=2,
        online_url="https://meet.test/x",
        location=None,
        materials=[],
    )
    booking.book(s.id, ann.email)
    booking.book(s.id, bob.email)
    booking.book(s.id, cat.email)  # waitlisted
    outbox.invite(s.id)
    outbox.invite(s.id, [ann.email], "Bring your badge.", subject="Badge needed")
    edit_session(s.id, {"start": "11:00"})
    booking.unbook(s.id, bob.email)  # removal for bob, promoted for cat
    assert outbox.queue_reminders(hours=24 * 30) == 2
    new_trainer = trainer(new_address("uma"), "Uma Trainer")
    edit_session(s.id, {"trainer": new_trainer.person.email})
    cancel_session(s.id, "Room flooded")

    report = send_outbox(mail_settings)
    assert report.unreachable is None
    queued = Outbox.select().count()
    assert (report.sent, report.failed, report.pending) == (queued, 0, 0)

    ann_mail = by_kind(inbox(mail_servers, ann.email))
    assert sorted(ann_mail) == sorted(
        ["confirmation", "invitation", "message", "update", "reminder", "cancellation"]
    )
    for kind in ("confirmation", "invitation", "message", "update"):
        check_imip(ann_mail[kind][0], method="REQUEST", to=ann.email, organizer=org)
    check_plain(ann_mail["reminder"][0], to=ann.email, organizer=org)
    invitation = event_of(
        check_imip(ann_mail["invitation"][0], method="REQUEST", to=ann.email, organizer=org)
    )
    update = event_of(
        check_imip(ann_mail["update"][0], method="REQUEST", to=ann.email, organizer=org)
    )
    cancel = event_of(
        check_imip(ann_mail["cancellation"][0], method="CANCEL", to=ann.email, organizer=org)
    )
    assert invitation["UID"] == update["UID"] == cancel["UID"] == s.uid
    assert update.decoded("SEQUENCE") == invitation.decoded("SEQUENCE") + 1
    # bob's removal, the trainer change and the cancellation each raised SEQUENCE.
    assert (
        cancel.decoded("SEQUENCE")
        == update.decoded("SEQUENCE") + 3
        == Session.get_by_id(s.id).sequence
    )
    assert cancel["STATUS"] == "CANCELLED"
    assert str(cancel["COMMENT"]) == "Room flooded"
    assert ann_mail["message"][0]["Subject"] == "Badge needed"
    assert "Bring your badge." in ann_mail["message"][0].get_body(("plain",)).get_content()

    bob_mail = by_kind(inbox(mail_servers, bob.email))
    assert sorted(bob_mail) == ["confirmation", "invitation", "removal", "update"]
    removal = event_of(
        check_imip(bob_mail["removal"][0], method="CANCEL", to=bob.email, organizer=org)
    )
    assert removal["UID"] == s.uid
    assert "STATUS" not in removal

    cat_mail = by_kind(inbox(mail_servers, cat.email))
    # cat, promoted after the move, gets the trainer change as an update.
    assert sorted(cat_mail) == ["cancellation", "promoted", "reminder", "update", "waitlisted"]
    check_plain(cat_mail["waitlisted"][0], to=cat.email, organizer=org)
    check_imip(cat_mail["promoted"][0], method="REQUEST", to=cat.email, organizer=org)

    tess_mail = by_kind(inbox(mail_servers, tess.person.email))
    assert sorted(tess_mail) == ["trainer_assignment", "trainer_removal", "update"]
    chair = event_of(
        check_imip(
            tess_mail["trainer_assignment"][0],
            method="REQUEST",
            to=tess.person.email,
            organizer=org,
        )
    )
    assert chair["ATTENDEE"].params["ROLE"] == "CHAIR"
    check_imip(
        tess_mail["trainer_removal"][0], method="CANCEL", to=tess.person.email, organizer=org
    )
    uma_mail = by_kind(inbox(mail_servers, new_trainer.person.email))
    assert sorted(uma_mail) == ["cancellation", "trainer_assignment"]

    # No learner's copy names another learner.
    for address in (ann.email, bob.email, cat.email):
        for msg in inbox(mail_servers, address):
            raw = msg.as_bytes()
            others = {ann.email, bob.email, cat.email} - {address}
            assert not any(o.encode() in raw for o in others)

    sent_rows = list(Outbox.select().where(Outbox.status == "sent"))
    assert all(r.sent_at and r.subject for r in sent_rows)


def test_smtp_down_loses_nothing_and_sends_once_back(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    people = [person(new_address(n)) for n in ("dee", "eve", "fay")]
    for p in people:
        booking.book(s.id, p.email)
    mail_servers.stop_smtp()
    try:
        report = send_outbox(mail_settings)
        assert report.unreachable
        assert (report.sent, report.pending) == (0, 3)
        assert {r.status for r in Outbox.select()} == {"pending"}
        assert all(not mail_servers.messages(p.email) for p in people)
    finally:
        mail_servers.start_smtp()
    report = send_outbox(mail_settings)
    assert (report.sent, report.failed, report.pending, report.unreachable) == (3, 0, 0, None)
    again = send_outbox(mail_settings)
    assert again.sent == 0
    for p in people:
        assert len(mail_servers.messages(p.email)) == 1


def test_connection_dropped_mid_batch_is_resumed(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    people = [person(new_address(f"p{i}")) for i in range(7)]
    for p in people:
        booking.book(s.id, p.email)
    mail_servers.drop_after(2)
    try:
        report = send_outbox(mail_settings)
    finally:
        mail_servers.drop_after(None)
    assert (report.sent, report.failed, report.pending) == (7, 0, 0)
    for p in people:
        assert len(mail_servers.messages(p.email)) == 1


def test_one_refused_recipient_fails_alone(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    good = [person(new_address(n)) for n in ("gil", "hal")]
    ghost = person("nobody-here@example.test")  # no mailbox: Dovecot refuses with 550
    booking.book(s.id, good[0].email)
    booking.book(s.id, ghost.email)
    booking.book(s.id, good[1].email)
    report = send_outbox(mail_settings)
    assert (report.sent, report.failed, report.pending) == (2, 1, 0)
    failed = Outbox.get(Outbox.recipient == ghost.email)
    assert failed.status == "failed"
    assert failed.last_error.startswith("550")
    for p in good:
        assert len(mail_servers.messages(p.email)) == 1
    # A failed row is not retried by the next drain.
    assert send_outbox(mail_settings).sent == 0


def test_temporary_failure_is_retried_with_backoff(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    p = person(new_address("ivy"))
    booking.book(s.id, p.email)
    owner = outbox.sender_id()
    row = outbox.claim(owner)[0]
    assert outbox.retry_later(owner, row.id, "451 try later") == "pending"
    row = Outbox.get_by_id(row.id)
    assert row.attempts == 1
    assert row.next_attempt_at > utcnow() + timedelta(seconds=50)
    assert send_outbox(mail_settings).sent == 0  # not due yet
    Outbox.update(next_attempt_at=utcnow()).execute()
    assert send_outbox(mail_settings).sent == 1


def test_two_senders_deliver_each_message_once(
    store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    people = [person(new_address(f"q{i}")) for i in range(6)]
    for p in people:
        booking.book(s.id, p.email)
    for _ in range(4):
        outbox.invite(s.id)
    total = Outbox.select().count()
    assert total == 30
    reports: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            reports.append(asyncio.run(drain_outbox(mail_settings, batch_size=5)))
        except BaseException as exc:  # surfaced below with the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    # Dovecot may answer 451 when two deliveries create a new mailbox at once; such rows
    # wait for their retry. Make them due and drain again, as the worker would later.
    for _ in range(3):
        if not Outbox.select().where(Outbox.status == "pending").exists():
            break
        Outbox.update(next_attempt_at=utcnow()).where(Outbox.status == "pending").execute()
        reports.append(send_outbox(mail_settings))
    assert sum(r.sent for r in reports) == total, [vars(r) for r in reports]
    assert sum(r.failed for r in reports) == 0
    ids: Counter[str] = Counter()
    for p in people:
        for m in mail_servers.messages(p.email):
            ids[m.headers["message-id"][0]] += 1
    assert sum(ids.values()) == total
    assert set(ids.values()) == {1}
    assert {r.status for r in Outbox.select()} == {"sent"}


def test_expired_claim_is_taken_over(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    p = person(new_address("jon"))
    booking.book(s.id, p.email)
    dead = outbox.sender_id()
    assert len(outbox.claim(dead)) == 1
    assert send_outbox(mail_settings).sent == 0  # still claimed by the dead sender
    Outbox.update(claimed_until=utcnow() - timedelta(seconds=1)).execute()
    assert send_outbox(mail_settings).sent == 1
    assert outbox.mark_sent(dead, [outbox.Sent(Outbox.get().id)]) == 0
    assert len(mail_servers.messages(p.email)) == 1


def test_outbox_payload_is_the_snapshot(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session()
    p = person(new_address("kim"))
    booking.book(s.id, p.email)
    edit_session(s.id, {"title": "Fire Safety Refresher"})  # a new title: an update
    send_outbox(mail_settings)
    confirmation, update = sorted(inbox(mail_servers, p.email), key=lambda m: m["Subject"])
    # The confirmation states the session as it was when it was queued.
    assert confirmation["Subject"].startswith("Booking confirmed: Fire Safety,")
    assert update["Subject"].startswith("Updated invitation: Fire Safety Refresher,")
    titles = [
        json.loads(o.payload)["session"]["title"] for o in Outbox.select().order_by(Outbox.id)
    ]
    assert titles == ["Fire Safety", "Fire Safety Refresher"]


def test_sent_confirmation_marks_the_enrolment_invited(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    s = session(max_attendees=1)
    lee, max_ = person(new_address("lee")), person(new_address("max"))
    booking.book(s.id, lee.email)
    booking.book(s.id, max_.email)  # waitlisted: no invitation
    rows = {e.person_id: e for e in Enrolment.select()}
    assert {e.calendar for e in rows.values()} == {"not_invited"}
    assert send_outbox(mail_settings).sent == 2
    rows = {e.person_id: e for e in Enrolment.select()}
    assert rows[lee.id].calendar == "invited"
    assert rows[lee.id].invited_at is not None
    assert rows[max_.id].calendar == "not_invited"
