"""Builders the tests and benchmarks share: people, trainers and sessions with sensible defaults."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from store.clock import utcnow
from store.models import Person, Session
from store.people import PersonInput, add_person, add_trainer
from store.session_input import SessionInput
from store.sessions import create_sessions


def person(email: str, name: str | None = None, **fields: str) -> Person:
    """Add a person with a name derived from the email."""
    return add_person(PersonInput(email=email, name=name or email.split("@")[0].title(), **fields))


def future_day(days: int = 10) -> date:
    """A date `days` from today."""
    return (utcnow() + timedelta(days=days)).date()


def session_input(**overrides: Any) -> SessionInput:
    """An in-person session ten days ahead, with `overrides` applied."""
    values: dict[str, Any] = {
        "title": "Fire Safety",
        "date": future_day(),
        "start": "09:30",
        "duration_minutes": 60,
        "location": "Room 1",
    }
    values.update(overrides)
    return SessionInput(**values)


def session(**overrides: Any) -> Session:
    """Create one in-person session ten days ahead, with `overrides` applied.

    Many tests make several sessions at this default time in "Room 1": the room
    rule is tested on its own (tests/store/test_place_clash.py), so it is waived here.
    """
    return create_sessions(session_input(**overrides), allow_clash=True)[0]


def trainer(email: str = "trainer@example.test", name: str = "Tess Trainer") -> Any:
    """Register a trainer."""
    return add_trainer(email, name)
