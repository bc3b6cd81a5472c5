"""Pilot tests of "My calendar": booking, full sessions and the waitlist, cancelling, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from textual.app import App
from textual.widgets import DataTable, Static

from screens.learner import LearnerScreen
from store.booking import enrol
from store.models import Enrolment, Person, Session
from store.pathways import add_pathway, add_requirement
from store.people import PersonInput, add_person
from store.session_input import MaterialInput, SessionInput
from store.sessions import create_sessions


class LearnerApp(App[None]):
    """A bare app that shows only the learner screen."""

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def on_mount(self) -> None:
        """Open the screen under test."""
        self.push_screen(LearnerScreen(self.email))


def _day(offset: int) -> str:
    return (datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=offset)).isoformat()


@pytest.fixture
def calendar(sqlite_store: str) -> dict[str, int]:
    """Ann (Sales) and Bob; an open session, a full one, one for Engineering only."""
    add_person(PersonInput(email="ann@example.org", name="Ann", department="Sales"))
    add_person(PersonInput(email="bob@example.org", name="Bob", department="Sales"))

    def one(title: str, offset: int, **extra: object) -> int:
        data = SessionInput(
            title=title,
            date=_day(offset),
            start="10:00",
            duration_minutes=60,
            location="Room 1",
            **extra,  # type: ignore[arg-type]
        )
        return create_sessions(data)[0].id

    ids = {
        "open": one(
            "Fire Safety",
            3,
            max_attendees=5,
            materials=[MaterialInput("Evacuation map", "https://example.org/map.pdf")],
        ),
        "full": one("First Aid", 4, max_attendees=1),
        "hidden": one("Secure Coding", 5, departments=["Engineering"]),
    }
    enrol(ids["full"], "bob@example.org")
    pathway = add_pathway("New Starter")
    add_requirement(pathway.id, courses=["Fire Safety"])
    return ids


async def _settle(pilot: object) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def _keys(app: App[None]) -> list[int]:
    table = app.screen.query_one(DataTable)
    return [int(str(row.value)) for row in table.rows]


def _status(email: str, session_id: int) -> tuple[str, int | None]:
    e = Enrolment.get(
        (Enrolment.session == session_id) & (Enrolment.person == Person.get(Person.email == email))
    )
    return e.status, e.waitlist_position


async def test_invisible_sessions_are_absent_and_full_is_shown(calendar: dict[str, int]) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(pilot)
        assert _keys(app) == [calendar["open"], calendar["full"]]
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(1)[6]) == "Session full"
        assert str(table.get_row_at(0)[6]) == "5 places left"
        detail = str(app.screen.query_one("#learner-detail", Static).render())
        assert "Evacuation map" in detail
        assert "Open for booking" in detail
        progress = str(app.screen.query_one("#learner-progress", Static).render())
        assert "New Starter" in progress
        assert "0%" in progress


async def test_book_waitlist_and_cancel(calendar: dict[str, int]) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(pilot)
        await pilot.press("b")
        await _settle(pilot)
        assert _status("ann@example.org", calendar["open"]) == ("enrolled", None)
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[7]) == "Booked"

        await pilot.press("down", "b")
        await _settle(pilot)
        assert _status("ann@example.org", calendar["full"]) == ("waitlisted", 1)
        assert any("number 1 on the waitlist" in n.message for n in app._notifications)
        assert str(table.get_row_at(1)[7]) == "Waitlist #1"

        # Booking again is greyed out: nothing changes.
        await pilot.press("b")
        await _settle(pilot)
        assert Enrolment.select().where(Enrolment.session == calendar["full"]).count() == 2

        await pilot.press("up", "c")
        await pilot.pause()
        await pilot.press("escape")  # answer no: nothing changes
        await _settle(pilot)
        assert _status("ann@example.org", calendar["open"]) == ("enrolled", None)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await _settle(pilot)
        assert _status("ann@example.org", calendar["open"]) == ("cancelled", None)
        assert str(table.get_row_at(0)[7]) == ""


async def test_started_session_cannot_be_booked_and_says_why(calendar: dict[str, int]) -> None:
    Session.update(cancelled_at=datetime.now(ZoneInfo("UTC")), cancel_reason="Trainer ill").where(
        Session.id == calendar["full"]
    ).execute()
    app = LearnerApp("bob@example.org")
    async with app.run_test(size=(160, 40)) as pilot:
        await _settle(pilot)
        assert calendar["full"] in _keys(app)
        index = _keys(app).index(calendar["full"])
        app.screen.query_one(DataTable).move_cursor(row=index)
        await pilot.pause()
        detail = str(app.screen.query_one("#learner-detail", Static).render())
        assert "Cancelled: Trainer ill" in detail
        await pilot.press("b")
        await _settle(pilot)
        assert _status("bob@example.org", calendar["full"]) == ("enrolled", None)
