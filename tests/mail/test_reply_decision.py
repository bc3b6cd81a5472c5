"""The reply decision on plain facts: no database, no mailbox (rules P1-P8)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mail.reply import read_reply
from store.reply_decision import (
    NOT_ATTENDEE,
    NOT_ON_SESSION,
    OLDER,
    SAME,
    UNKNOWN_EVENT,
    Decision,
    EnrolmentFacts,
    SessionFacts,
    decide,
)
from store.replydata import NOT_CALENDAR
from store.settings import load_settings
from tests.replies import reply_ics, reply_message

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
UID = "rollcall-1@example.test"
SESSION = SessionFacts(1, 0, datetime(2026, 12, 1, 9, 30, tzinfo=UTC), None)
SETTINGS = load_settings(environ={}, organizer_email="training@example.test")


def ann(**changes: object) -> EnrolmentFacts:
    facts = EnrolmentFacts(7, "enrolled", "invited", None, None, "ann@example.test")
    for name, value in changes.items():
        setattr(facts, name, value)
    return facts


def run(
    partstat: str = "ACCEPTED",
    *,
    sender: str = "ann@example.test",
    enrolments: dict[str, EnrolmentFacts] | None = None,
    session: SessionFacts | None = SESSION,
    dtstamp: datetime = T0,
    method: str = "REPLY",
) -> tuple[Decision, object]:
    raw = reply_message(
        reply_ics(UID, "ann@example.test", partstat, dtstamp=dtstamp, method=method),
        sender=sender,
    )
    message = read_reply(raw)
    item = message.items[0] if message.items else None
    facts = {"ann@example.test": ann()} if enrolments is None else enrolments
    return decide(message, item, SETTINGS, session, facts, T0, NOW)


def test_an_invited_attendees_answer_applies_with_its_change() -> None:
    decision, change = run("TENTATIVE")
    assert (decision.outcome, decision.calendar, decision.email) == (
        "applied",
        "tentative",
        "ann@example.test",
    )
    assert change is not None
    assert change.state == "tentative"  # type: ignore[attr-defined]
    assert change.responded == T0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"session": None}, UNKNOWN_EVENT),
        ({"enrolments": {}}, NOT_ON_SESSION),
        ({"sender": "mallory@example.test"}, NOT_ATTENDEE),
        (
            {"enrolments": {"ann@example.test": ann(calendar="not_invited")}},
            "attendee was not invited",
        ),
        ({"enrolments": {"ann@example.test": ann(status="cancelled")}}, "enrolment is cancelled"),
        (
            {"enrolments": {"ann@example.test": ann(response_sequence=0, response_dtstamp=T0)}},
            OLDER,
        ),
    ],
)
def test_what_is_not_applied_says_why_and_changes_nothing(
    kwargs: dict[str, Any], reason: str
) -> None:
    if reason == OLDER:
        kwargs = {**kwargs, "dtstamp": T0 - timedelta(minutes=5)}
    decision, change = run(**kwargs)
    assert decision.outcome == "ignored"
    assert decision.reason == reason
    assert change is None


def test_the_same_answer_again_is_recognised() -> None:
    facts = {"ann@example.test": ann(calendar="accepted", response_sequence=0, response_dtstamp=T0)}
    decision, change = run(enrolments=facts)
    assert (decision.outcome, decision.reason, change) == ("ignored", SAME, None)


def test_a_counter_proposal_is_recorded_not_applied() -> None:
    decision, change = run(method="COUNTER")
    assert decision.outcome == "recorded"
    assert change is None


def test_a_message_without_a_calendar_is_not_a_reply() -> None:
    message = read_reply(b"From: ann@example.test\r\nSubject: hi\r\n\r\nhello\r\n")
    decision, change = decide(message, None, SETTINGS, SESSION, {}, T0, NOW)
    assert (decision.outcome, decision.reason, change) == ("ignored", NOT_CALENDAR, None)
