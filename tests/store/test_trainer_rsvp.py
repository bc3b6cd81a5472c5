"""The trainer's calendar reply: applied like an attendee's, stored on the session."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mail.reply import read_reply
from store.inbound import InboundMessage
from store.models import Outbox, Session
from store.people import add_trainer
from store.read_models import session_detail, session_page, trainer_declines
from store.rsvp import apply_reply
from store.serialize import session_dict
from store.sessions import edit_session
from tests.builders import session
from tests.replies import reply_ics, reply_message

pytestmark = pytest.mark.usefixtures("store")

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TRAINER = "tess@example.test"


def apply(ics: str, sender: str = TRAINER, **kw: Any) -> InboundMessage:
    raw = reply_message(ics, sender=sender, **kw)
    return apply_reply(read_reply(raw, max_bytes=5_000_000), raw=raw).entry


@pytest.fixture
def taught() -> Session:
    """A session ten days ahead with Tess as its trainer (invited when assigned)."""
    add_trainer(TRAINER, "Tess Trainer")
    return session(trainer=TRAINER)


def test_assignment_counts_as_invited_and_shows_in_json(taught: Session) -> None:
    data = session_dict(Session.get_by_id(taught.id))
    assert (data["trainer_calendar"], data["trainer_responded_at"]) == ("invited", None)


def test_trainer_accept_is_stored_on_the_session(taught: Session) -> None:
    entry = apply(reply_ics(taught.uid, TRAINER, dtstamp=T0, comment="See you there"))
    assert (entry.outcome, entry.email, entry.calendar) == ("applied", TRAINER, "accepted")
    fresh = Session.get_by_id(taught.id)
    assert fresh.trainer_calendar == "accepted"
    assert fresh.trainer_responded_at == T0
    assert fresh.trainer_response_comment == "See you there"
    data = session_dict(fresh)
    assert data["trainer_calendar"] == "accepted"
    assert data["trainer_responded_at"] == T0.isoformat()
    detail = session_detail(taught.id)
    assert detail is not None
    assert detail.trainer_calendar == "accepted"
    assert session_page().rows[0].trainer_calendar == "accepted"
    assert Outbox.select().where(Outbox.kind == "trainer_declined").count() == 0


def test_trainer_reply_follows_the_attendee_rules(taught: Session) -> None:
    forged = apply(reply_ics(taught.uid, TRAINER, "DECLINED", dtstamp=T0), sender="x@example.test")
    assert (forged.outcome, forged.reason) == ("ignored", "sender is not the attendee")
    apply(reply_ics(taught.uid, TRAINER, "ACCEPTED", dtstamp=T0 + timedelta(hours=1)))
    older = apply(reply_ics(taught.uid, TRAINER, "DECLINED", dtstamp=T0))
    assert older.reason == "older than the reply already applied"
    assert Session.get_by_id(taught.id).trainer_calendar == "accepted"
    unknown = apply(reply_ics("nope@example.test", TRAINER, dtstamp=T0 + timedelta(hours=2)))
    assert unknown.reason == "unknown event"


def test_trainer_decline_alerts_the_organizer(taught: Session) -> None:
    apply(reply_ics(taught.uid, TRAINER, "DECLINED", dtstamp=T0, comment="On leave"))
    assert Session.get_by_id(taught.id).trainer_calendar == "declined"
    alert = Outbox.get(Outbox.kind == "trainer_declined")
    assert alert.recipient == "training@example.test"
    payload = json.loads(alert.payload)
    assert "Tess Trainer" in payload["message"]
    assert "On leave" in payload["message"]
    assert [d.session_id for d in trainer_declines()] == [taught.id]
    # The same decline again (a re-sent message) alerts nobody twice.
    apply(reply_ics(taught.uid, TRAINER, "DECLINED", dtstamp=T0 + timedelta(minutes=5)))
    assert Outbox.select().where(Outbox.kind == "trainer_declined").count() == 1


def test_assigning_another_trainer_resets_the_answer(taught: Session) -> None:
    apply(reply_ics(taught.uid, TRAINER, "DECLINED", dtstamp=T0))
    add_trainer("max@example.test", "Max Mentor")
    edit_session(taught.id, {"trainer": "max@example.test"})
    fresh = Session.get_by_id(taught.id)
    assert (fresh.trainer_calendar, fresh.trainer_responded_at) == ("invited", None)
    assert trainer_declines() == []
    # The old trainer's late reply is no longer about this session's trainer.
    late = apply(reply_ics(taught.uid, TRAINER, "ACCEPTED", dtstamp=T0 + timedelta(hours=1)))
    assert late.outcome == "ignored"
