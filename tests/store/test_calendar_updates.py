"""Who is sent what when a session changes: updates to everyone holding it, CANCEL only to them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from mail import ical
from store import outbox
from store.booking import book
from store.models import Outbox, Session
from store.session_input import MaterialInput
from store.sessions import cancel_session, edit_session
from tests.builders import person, session, trainer

pytestmark = pytest.mark.usefixtures("store")


def queued() -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, recipient, payload) of every queued message, sorted; the queue is emptied."""
    rows = sorted(
        (o.kind, o.recipient, json.loads(o.payload)) for o in Outbox.select().order_by(Outbox.id)
    )
    Outbox.delete().execute()
    return [(k, r, p) for k, r, p in rows]


def methods(sent: list[tuple[str, str, dict[str, Any]]]) -> dict[str, tuple[str, str | None]]:
    """Recipient -> (kind, iTIP method or None for a plain notice); one message each."""
    found = {r: (k, ical.method_for(p)) for k, r, p in sent}
    assert len(found) == len(sent)
    return found


@pytest.fixture
def booked() -> Session:
    """A session with a trainer, ann and bob enrolled and cat waitlisted; the queue empty."""
    trainer("tess@example.test", "Tess Trainer")
    made = session(trainer="tess@example.test", max_attendees=2)
    for name in ("ann", "bob", "cat"):
        person(f"{name}@example.org")
        book(made.id, f"{name}@example.org")
    Outbox.delete().execute()
    return made


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        ({"title": "Fire Safety Refresher"}, ("title", "Fire Safety Refresher")),
        ({"description": "Bring a pen"}, ("description", "Bring a pen")),
        (
            {"materials": [MaterialInput("Agenda", "https://example.org/agenda.pdf")]},
            ("materials", [{"name": "Agenda", "url": "https://example.org/agenda.pdf"}]),
        ),
        ({"location": "Room 7"}, ("location", "Room 7")),
    ],
)
def test_a_calendar_change_updates_everyone_holding_the_event(
    booked: Session, change: dict[str, Any], seen: tuple[str, Any]
) -> None:
    result = edit_session(booked.id, change)
    assert result.calendar_changed
    again = Session.get_by_id(booked.id)
    assert again.sequence == booked.sequence + 1
    sent = queued()
    # The waitlisted cat was never sent the event: no update for her.
    assert [(k, r) for k, r, _ in sent] == [
        ("update", "ann@example.org"),
        ("update", "bob@example.org"),
        ("update", "tess@example.test"),
    ]
    key, value = seen
    for _, _, payload in sent:
        assert payload["session"][key] == value
        assert payload["session"]["sequence"] == again.sequence
        part = ical.build_calendar(payload, datetime.now(UTC))
        assert part is not None
        assert part.method == "REQUEST"
        assert f"SEQUENCE:{again.sequence}".encode() in part.data


def test_a_new_trainer_is_named_in_every_attendee_copy(booked: Session) -> None:
    trainer("uma@example.test", "Uma Ündset")
    edit_session(booked.id, {"trainer": "uma@example.test"})
    again = Session.get_by_id(booked.id)
    assert again.sequence == booked.sequence + 1
    sent = queued()
    assert methods(sent) == {
        "uma@example.test": ("trainer_assignment", "REQUEST"),
        "tess@example.test": ("trainer_removal", "CANCEL"),
        "ann@example.org": ("update", "REQUEST"),
        "bob@example.org": ("update", "REQUEST"),
    }
    for kind, _, payload in sent:
        assert payload["session"]["trainer"]["email"] == "uma@example.test"
        if kind == "update":
            assert "Trainer: Uma Ündset" in ical.description_text(payload["session"])


def test_cancel_goes_as_a_calendar_cancel_only_to_people_sent_the_event(booked: Session) -> None:
    person("dan@example.org")
    book(booked.id, "dan@example.org")  # waitlisted behind cat
    # A waitlisted person sent the organiser's message holds no event either.
    outbox.invite(booked.id, ["dan@example.org"], "You are next in line")
    Outbox.delete().execute()
    cancel_session(booked.id, "Trainer ill")
    sent = queued()
    assert methods(sent) == {
        "ann@example.org": ("cancellation", "CANCEL"),
        "bob@example.org": ("cancellation", "CANCEL"),
        # Waitlisted, never sent the event: a plain notice.
        "cat@example.org": ("cancellation", None),
        "dan@example.org": ("cancellation", None),
        "tess@example.test": ("cancellation", "CANCEL"),
    }
    for _, _, payload in sent:
        part = ical.build_calendar(payload, datetime.now(UTC))
        if part is not None:
            # A cancellation asks for no answer.
            assert b"RSVP" not in part.data
            assert b"STATUS:CANCELLED" in part.data
