"""Applying replies to enrolments, and the inbound log, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mail.reply import read_reply
from store.booking import enrol
from store.clock import utcnow
from store.inbound import InboundMessage
from store.models import Enrolment, Person, Session
from store.people import PersonInput, add_person
from store.replydata import TOO_LARGE
from store.rsvp import ImapPosition, apply_reply, inbound_dict, inbound_log
from store.settings import Settings, use_settings
from tests.builders import session as new_session
from tests.replies import reply_ics, reply_message

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def setup_session(capacity: int | None = None, people: int = 1) -> Session:
    session = new_session(max_attendees=capacity)
    for n in range(people):
        email = "ann@example.test" if n == 0 else f"p{n}@example.test"
        add_person(PersonInput(email=email, name=email.split("@")[0].title()))
        enrol(session.id, email)
    Enrolment.update(calendar="invited", invited_at=utcnow()).execute()
    return Session.get_by_id(session.id)


def enrolment(email: str = "ann@example.test") -> Enrolment:
    return Enrolment.select().join(Person).where(Person.email == email).get()


def apply(ics: str, sender: str = "ann@example.test", **kw: Any) -> InboundMessage:
    raw = reply_message(ics, sender=sender, **kw)
    return apply_reply(read_reply(raw, max_bytes=5_000_000), raw=raw).entry


def test_accept_is_applied_with_time_and_comment(store: str) -> None:
    session = setup_session()
    entry = apply(reply_ics(session.uid, "ann@example.test", dtstamp=T0, comment="Looking forward"))
    assert (entry.outcome, entry.reason) == ("applied", None)
    e = enrolment()
    assert e.calendar == "accepted"
    assert e.responded_at == T0
    assert e.response_comment == "Looking forward"
    assert e.response_dtstamp == T0
    assert entry.session_id == session.id
    data = inbound_dict(inbound_log()[0])
    assert data["outcome"] == "applied"
    assert data["email"] == "ann@example.test"
    assert data["calendar"] == "accepted"
    assert data["session_id"] == session.id


def test_newest_dtstamp_wins_and_older_is_ignored(store: str) -> None:
    session = setup_session()
    apply(reply_ics(session.uid, "ann@example.test", "DECLINED", dtstamp=T0 + timedelta(hours=1)))
    stale = apply(reply_ics(session.uid, "ann@example.test", "ACCEPTED", dtstamp=T0))
    assert (stale.outcome, stale.reason) == ("ignored", "older than the reply already applied")
    assert enrolment().calendar == "declined"
    newer = apply(reply_ics(session.uid, "ann@example.test", dtstamp=T0 + timedelta(days=1)))
    assert newer.outcome == "applied"
    Session.update(sequence=3).where(Session.id == session.id).execute()
    apply(reply_ics(session.uid, "ann@example.test", "TENTATIVE", dtstamp=T0, sequence=3))
    older_seq = apply(
        reply_ics(
            session.uid, "ann@example.test", "DECLINED", dtstamp=T0 + timedelta(days=5), sequence=2
        )
    )
    assert older_seq.reason == "older than the reply already applied"
    assert enrolment().calendar == "tentative"


def test_reply_to_an_earlier_time_is_recorded_not_applied(store: str) -> None:
    session = setup_session()
    Session.update(sequence=1).where(Session.id == session.id).execute()
    old_start = session.start - timedelta(days=1)
    entry = apply(reply_ics(session.uid, "ann@example.test", dtstamp=T0, dtstart=old_start))
    assert entry.outcome == "recorded"
    assert "earlier date/time" in (entry.reason or "")
    assert enrolment().calendar == "invited"
    same_time = apply(reply_ics(session.uid, "ann@example.test", dtstamp=T0, dtstart=session.start))
    assert same_time.outcome == "applied"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("forged", "sender is not the attendee"),
        ("unknown", "unknown event"),
        ("stranger", "attendee is not on this session"),
        ("not_invited", "attendee was not invited"),
        ("malformed", "malformed calendar data"),
        ("plain", "not a calendar reply"),
        ("oversized", TOO_LARGE),
        ("needs_action", "the reply carries no answer (NEEDS-ACTION)"),
        ("other_organizer", "organizer boss@elsewhere.test is not this mailbox"),
    ],
)
def test_rejected_messages_are_logged_and_change_nothing(
    store: str, case: str, reason: str
) -> None:
    session = setup_session()
    uid = session.uid
    sender = "ann@example.test"
    ics = reply_ics(uid, "ann@example.test", dtstamp=T0)
    max_bytes = 5_000_000
    if case == "forged":
        sender = "mallory@example.test"
    elif case == "unknown":
        ics = reply_ics("someone-else@example.test", "ann@example.test", dtstamp=T0)
    elif case == "stranger":
        ics = reply_ics(uid, "zed@example.test", dtstamp=T0)
        sender = "zed@example.test"
    elif case == "not_invited":
        Enrolment.update(calendar="not_invited").execute()
    elif case == "malformed":
        ics = "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    elif case == "oversized":
        max_bytes = 100
    elif case == "needs_action":
        ics = reply_ics(uid, "ann@example.test", "NEEDS-ACTION", dtstamp=T0)
    elif case == "other_organizer":
        ics = reply_ics(uid, "ann@example.test", dtstamp=T0, organizer="boss@elsewhere.test")
    before = enrolment().__data__.copy()
    if case == "plain":
        raw = b"From: ann@example.test\r\nMessage-ID: <p@x>\r\nSubject: hi\r\n\r\nJust text.\r\n"
    else:
        raw = reply_message(ics, sender=sender)
    entry = apply_reply(read_reply(raw, max_bytes=max_bytes), raw=raw).entry
    assert entry.outcome == "ignored"
    assert entry.reason == reason
    assert enrolment().__data__ == before
    assert InboundMessage.select().count() == 1
    assert inbound_dict(entry)["reason"] == reason


def test_duplicate_message_id_is_logged_but_not_applied(store: str) -> None:
    session = setup_session()
    first = apply(
        reply_ics(session.uid, "ann@example.test", dtstamp=T0), message_id="<same@example.test>"
    )
    second = apply(
        reply_ics(session.uid, "ann@example.test", "DECLINED", dtstamp=T0 + timedelta(hours=1)),
        message_id="<same@example.test>",
    )
    assert first.outcome == "applied"
    assert second.outcome == "ignored"
    assert "duplicate" in (second.reason or "")
    assert enrolment().calendar == "accepted"


def test_same_imap_position_is_handled_once(store: str) -> None:
    session = setup_session()
    raw = reply_message(
        reply_ics(session.uid, "ann@example.test", dtstamp=T0), sender="ann@example.test"
    )
    where = ImapPosition("u@h/INBOX", "INBOX", 7, 42)
    first = apply_reply(read_reply(raw), raw=raw, position=where)
    again = apply_reply(read_reply(raw), raw=raw, position=where)
    assert first.new
    assert not again.new
    assert again.entry.id == first.entry.id
    assert InboundMessage.select().count() == 1
    assert first.entry.move_pending


def test_sender_may_be_sent_by_alias_domain_or_google_sender(
    store: str, settings: Settings
) -> None:
    session = setup_session(people=3)
    by = apply(
        reply_ics(
            session.uid,
            "ann@example.test",
            dtstamp=T0,
            attendee_params=';SENT-BY="mailto:pa@example.test"',
        ),
        sender="pa@example.test",
    )
    assert by.outcome == "applied"
    use_settings(dataclasses.replace(settings, alias_domains=("mail.example.test",)))
    alias = apply(
        reply_ics(session.uid, "p1@example.test", dtstamp=T0), sender="p1@mail.example.test"
    )
    assert alias.outcome == "applied"
    google = apply(
        reply_ics(session.uid, "p2@example.test", dtstamp=T0),
        sender="P2 <P2@Example.test>",
        extra_headers={"Sender": "calendar-notification@google.com"},
    )
    assert google.outcome == "applied"
    other_alias = apply(
        reply_ics(session.uid, "p2@example.test", dtstamp=T0 + timedelta(hours=1)),
        sender="p1@mail.example.test",
    )
    assert other_alias.reason == "sender is not the attendee"


def test_counter_is_recorded_not_applied(store: str) -> None:
    session = setup_session()
    entry = apply(
        reply_ics(session.uid, "ann@example.test", "TENTATIVE", dtstamp=T0, method="COUNTER")
    )
    assert (entry.outcome, entry.reason) == ("recorded", "counter proposal recorded, not applied")
    assert entry.session_id == session.id
    assert enrolment().calendar == "invited"
    assert inbound_dict(entry)["outcome"] == "ignored"
    assert inbound_dict(entry)["recorded"] is True


def test_delegation_is_recorded(store: str) -> None:
    session = setup_session()
    entry = apply(
        reply_ics(
            session.uid,
            "ann@example.test",
            "DELEGATED",
            dtstamp=T0,
            attendee_params=';DELEGATED-TO="mailto:bob@example.test"',
        )
    )
    assert entry.outcome == "recorded"
    assert entry.reason == "delegated to bob@example.test, not applied"
    assert enrolment().calendar == "invited"


def test_decline_cancels_moves_the_waitlist(store: str, settings: Settings) -> None:
    use_settings(dataclasses.replace(settings, decline_cancels=True, auto_promote=True))
    session = setup_session(capacity=1, people=2)
    assert enrolment("p1@example.test").status == "waitlisted"
    entry = apply(reply_ics(session.uid, "ann@example.test", "DECLINED", dtstamp=T0))
    assert entry.outcome == "applied"
    assert "cancelled" in (entry.reason or "")
    declined = enrolment()
    assert (declined.status, declined.calendar) == ("cancelled", "declined")
    assert enrolment("p1@example.test").status == "enrolled"


def test_decline_without_decline_cancels_keeps_the_place(store: str) -> None:
    session = setup_session()
    apply(reply_ics(session.uid, "ann@example.test", "DECLINED", dtstamp=T0))
    e = enrolment()
    assert (e.status, e.calendar) == ("enrolled", "declined")


def test_hostile_comment_is_stored_sanitised(store: str) -> None:
    session = setup_session()
    apply(
        reply_ics(session.uid, "ann@example.test", dtstamp=T0, comment="\x1b[2J\x1b]0;x\x07ok\x00")
    )
    assert enrolment().response_comment == "ok"


def test_recurrence_id_must_name_the_session_start(store: str) -> None:
    session = setup_session()
    other = apply(
        reply_ics(
            session.uid,
            "ann@example.test",
            dtstamp=T0,
            recurrence_id=session.start + timedelta(days=7),
        )
    )
    assert other.outcome == "ignored"
    assert (other.reason or "").startswith("answers another occurrence")
    assert enrolment().calendar == "invited"
    same = apply(
        reply_ics(session.uid, "ann@example.test", dtstamp=T0, recurrence_id=session.start)
    )
    assert same.outcome == "applied"
