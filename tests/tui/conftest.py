"""Fixtures for the app's tests: a frozen clock, a file database with fixed data, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import time_machine
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input
from textual.worker import WorkerCancelled

from store.db import write_transaction
from store.models import Enrolment, Session
from store.people import PersonInput, add_person, add_trainer
from store.session_input import MaterialInput, SessionInput
from store.sessions import create_sessions
from store.settings import Settings
from tui.app import RollcallApp, make_app

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
"""The frozen "now" of every app test: Monday 23 November 2026, 10:00 in London."""


@pytest.fixture
def frozen() -> Iterator[None]:
    """Freeze the date (the clock still ticks, so timers and workers run)."""
    with time_machine.travel(NOW, tick=True):
        yield


@dataclass
class Data:
    """Ids of the fixed data set."""

    past: int
    """Yesterday's Fire Safety: five people enrolled, none marked yet."""
    full: int
    """Next week's First Aid: 2 places, both taken, 2 on the waitlist."""
    empty: int
    """An online session with nobody booked."""
    people: list[str]
    """Emails of everyone, by name."""


def make_data() -> Data:
    """A small fixed data set (no randomness) around `NOW`."""
    names = [
        ("ann.adams@example.org", "Ann Adams", "Sales"),
        ("ben.baker@example.org", "Ben Baker", "Engineering"),
        ("chloe.chen@example.org", "Chloe Chen", "Operations"),
        ("dev.dubois@example.org", "Dev Dubois", "Finance"),
        ("elena.evans@example.org", "Elena Evans", "Sales"),
        ("farid.fischer@example.org", "Farid Fischer", "People"),
        ("grace.garcia@example.org", "Grace Garcia", "Engineering"),
    ]
    for email, name, department in names:
        add_person(PersonInput(email=email, name=name, department=department, role="Associate"))
    add_trainer("hana.trainer@example.org", "Hana Morris")
    add_trainer("ivan.trainer@example.org", "Ivan Petrov")
    past = create_sessions(
        SessionInput(
            title="Fire Safety",
            date="2026-11-22",
            start=time(9, 30),
            duration_minutes=60,
            location="Room 1",
            trainer="hana.trainer@example.org",
            max_attendees=12,
            expiry_months=12,
            materials=[MaterialInput("Evacuation plan", "https://example.org/plan.pdf")],
        )
    )[0]
    with write_transaction():
        for email, _, _ in names[:5]:
            from store.people import get_person

            Enrolment.create(
                session=past,
                person=get_person(email),
                status="enrolled",
                calendar="accepted",
                invited_at=NOW - timedelta(days=5),
                responded_at=NOW - timedelta(days=4, hours=2),
            )
    full = create_sessions(
        SessionInput(
            title="First Aid at Work",
            date="2026-11-30",
            start=time(13, 0),
            duration_minutes=180,
            location="Room 2",
            trainer="ivan.trainer@example.org",
            max_attendees=2,
        )
    )[0]
    from store.booking import book

    for email, _, _ in names[:4]:
        book(full.id, email, check_visibility=False, now=NOW)
    Enrolment.update(calendar="tentative", responded_at=NOW - timedelta(hours=3)).where(
        Enrolment.session == full.id
    ).execute()
    empty = create_sessions(
        SessionInput(
            title="Data Protection Essentials",
            date="2026-12-02",
            start=time(10, 0),
            duration_minutes=90,
            online_url="https://meet.example.org/dp",
            max_attendees=None,
        )
    )[0]
    return Data(past=past.id, full=full.id, empty=empty.id, people=[n[0] for n in names])


@pytest.fixture
def data(frozen: None, sqlite_store: str) -> Data:
    """The fixed data set in a fresh SQLite file."""
    return make_data()


@pytest.fixture
def app(data: Data, settings: Settings) -> RollcallApp:
    """The admin app over the fixed data."""
    return make_app(settings)


async def workers_done(app: App[Any]) -> None:
    """Wait for the app's workers; one cancelled by a newer one in its group is not an error.

    Exclusive workers (the decline check, a list's reload) are replaced when asked for
    again, which ``WorkerManager.wait_for_complete`` reports as ``WorkerCancelled``.
    A worker that failed still raises.
    """
    for worker in list(app.workers):
        try:
            await worker.wait()
        except WorkerCancelled:
            pass


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let workers finish and their messages be handled (they may start more work)."""
    for _ in range(rounds):
        await workers_done(pilot.app)
        await pilot.pause()


def screen_text(app: App[Any]) -> str:
    """The screen as plain text, for assertions on what the admin sees."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def no_blink(app: RollcallApp) -> None:
    """Stop input cursors blinking so pictures are stable."""
    for widget in app.screen.query(Input):
        widget.cursor_blink = False


def session_row(session_id: int) -> Session:
    """The session as stored now."""
    return Session.get_by_id(session_id)


async def preview_csv(pilot: Pilot[None], path: object) -> str:
    """Type a CSV path into the open import modal, press enter and return the preview text."""
    from textual.widgets import Static

    modal = pilot.app.screen
    modal.query_one("#path", Input).value = str(path)
    await pilot.press("enter")
    await settle(pilot)
    return str(modal.query_one("#preview", Static).render())


async def pick_in_picker(pilot: Pilot[None], text: str) -> None:
    """Type `text` into the open people picker and choose the first match."""
    await pilot.press(*text)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
