"""The kiosk mode: self check-in at the door, locked to one screen until the exit PIN."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest
from textual.widgets import Input, Static

from screens.kiosk import KioskScreen
from store.booking import book
from store.models import Enrolment, Person
from store.session_input import SessionInput
from store.sessions import create_sessions
from store.settings import Settings
from tests.tui.conftest import NOW, Data, screen_text, settle
from tui.app import KioskApp

PIN = "2468"


@pytest.fixture
def door(data: Data) -> int:
    """A session starting at 10:15 today (it is 10:00), Ann booked, room for one more."""
    made = create_sessions(
        SessionInput(
            title="Ladder Safety",
            date="2026-11-23",
            start=time(10, 15),
            duration_minutes=60,
            location="Yard",
            max_attendees=2,
        )
    )[0]
    book(made.id, "ann.adams@example.org", now=NOW.replace(hour=8))
    return int(made.id)


@pytest.fixture
def kiosk(settings: Settings) -> Settings:
    return replace(settings, kiosk_exit_pin=PIN)


def status_of(email: str, session_id: int) -> str | None:
    row = (
        Enrolment.select(Enrolment.status)
        .join(Person)
        .where((Person.email == email) & (Enrolment.session == session_id))
        .first()
    )
    return row.status if row else None


async def type_in(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    pilot.app.screen.query_one("#kiosk-input", Input).value = text
    await pilot.press("enter")
    await settle(pilot)


def result_text(app: KioskApp) -> str:
    return str(app.screen.query_one("#kiosk-result", Static).render())


async def test_enrolled_email_is_checked_in_and_strangers_refused(
    door: int, kiosk: Settings
) -> None:
    app = KioskApp(kiosk, door)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, KioskScreen)
        shown = screen_text(app)
        assert "Ladder Safety" in shown
        assert "Check-in open until 11:15" in shown
        await type_in(pilot, "ANN.adams@example.org")
        assert "Welcome, Ann Adams!" in result_text(app)
        assert status_of("ann.adams@example.org", door) == "attended"
        assert app.screen.query_one("#kiosk-input", Input).value == ""
        await type_in(pilot, "mallory@example.org")
        assert "could not find" in result_text(app)
        # Ben is not booked; a place is free: he is offered it, and joins with "y".
        await type_in(pilot, "ben.baker@example.org")
        assert "would you like to join" in result_text(app)
        assert status_of("ben.baker@example.org", door) is None
        await type_in(pilot, "y")
        assert "You are checked in (you joined the session)" in result_text(app)
        assert status_of("ben.baker@example.org", door) == "attended"
        # Now full: Chloe is refused, not offered.
        await type_in(pilot, "chloe.chen@example.org")
        assert "not booked" in result_text(app)
        assert status_of("chloe.chen@example.org", door) is None


async def test_no_key_leaves_the_kiosk_without_the_pin(door: int, kiosk: Settings) -> None:
    app = KioskApp(kiosk, door)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        for key in ("escape", "ctrl+q", "ctrl+c", "ctrl+p", "question_mark", "1", "f2", "tab"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key
            assert app.is_running, key
        await pilot.press("ctrl+x")
        await type_in(pilot, "0000")
        assert "Wrong PIN" in result_text(app)
        assert app.is_running
        await pilot.press("ctrl+x")
        assert app.screen.query_one("#kiosk-input", Input).password
        await type_in(pilot, PIN)
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_outside_the_window_it_says_when_check_in_opens(data: Data, kiosk: Settings) -> None:
    later = create_sessions(
        SessionInput(
            title="Forklift Basics",
            date="2026-11-23",
            start=time(14, 0),
            duration_minutes=60,
            location="Yard",
        )
    )[0]
    book(later.id, "ann.adams@example.org", now=NOW)
    app = KioskApp(kiosk, later.id)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "Check-in opens at 13:30 on Mon 23 Nov" in screen_text(app)
        await type_in(pilot, "ann.adams@example.org")
        assert "Check-in opens at 13:30" in result_text(app)
    assert status_of("ann.adams@example.org", later.id) == "enrolled"
