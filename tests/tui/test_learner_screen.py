"""Pilot tests of "My calendar": booking, full sessions and the waitlist, cancelling, visibility."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from screens.learner import LearnerScreen
from store.booking import enrol
from store.models import Enrolment, Person, Session
from store.pathways import add_pathway, add_requirement
from store.people import PersonInput, add_person
from store.session_input import MaterialInput, SessionInput
from store.sessions import create_sessions
from store.settings import Settings
from tests.tui.conftest import screen_text, settle


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
        await settle(pilot, rounds=2)
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
        await settle(pilot, rounds=2)
        await pilot.press("b")
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", calendar["open"]) == ("enrolled", None)
        table = app.screen.query_one(DataTable)
        assert str(table.get_row_at(0)[2]) == "Booked"

        await pilot.press("down", "b")
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", calendar["full"]) == ("waitlisted", 1)
        assert any("number 1 on the waitlist" in n.message for n in app._notifications)
        assert str(table.get_row_at(1)[2]) == "Waitlist #1"

        # Booking again is greyed out: nothing changes.
        await pilot.press("b")
        await settle(pilot, rounds=2)
        assert Enrolment.select().where(Enrolment.session == calendar["full"]).count() == 2

        await pilot.press("up", "c")
        await pilot.pause()
        await pilot.press("escape")  # answer no: nothing changes
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", calendar["open"]) == ("enrolled", None)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", calendar["open"]) == ("cancelled", None)
        assert str(table.get_row_at(0)[2]) == ""


async def test_started_session_cannot_be_booked_and_says_why(calendar: dict[str, int]) -> None:
    Session.update(cancelled_at=datetime.now(ZoneInfo("UTC")), cancel_reason="Trainer ill").where(
        Session.id == calendar["full"]
    ).execute()
    app = LearnerApp("bob@example.org")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, rounds=2)
        assert calendar["full"] in _keys(app)
        index = _keys(app).index(calendar["full"])
        app.screen.query_one(DataTable).move_cursor(row=index)
        await pilot.pause()
        detail = str(app.screen.query_one("#learner-detail", Static).render())
        assert "Cancelled: Trainer ill" in detail
        await pilot.press("b")
        await settle(pilot, rounds=2)
        assert _status("bob@example.org", calendar["full"]) == ("enrolled", None)


@pytest.fixture
def two_dates(calendar: dict[str, int]) -> dict[str, int]:
    """A second Fire Safety date, in the new year, a long online link, Ann on the waitlist."""
    second = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=_day(40),
            start="09:00",
            duration_minutes=60,
            online_url="https://meet.example.org/fire-safety-refresher"
            + "-with-a-room-name-far-longer-than-any-panel-is-wide" * 2
            + "?pwd=room-name",
        )
    )[0].id
    from store.booking import book

    book(calendar["full"], "ann@example.org")  # full: Ann waits as #1
    return calendar | {"second": second}


async def _highlight(pilot: Pilot[None], session_id: int) -> None:
    """Wait for the list, then put the cursor on `session_id`'s row."""
    await settle(pilot, rounds=2)
    app = pilot.app
    app.screen.query_one(DataTable).move_cursor(row=_keys(app).index(session_id))
    await pilot.pause()


def _detail(app: App[None]) -> str:
    return str(app.screen.query_one("#learner-detail", Static).render())


async def test_status_column_and_years_in_dates(two_dates: dict[str, int]) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, rounds=2)
        table = app.screen.query_one(DataTable)
        assert [str(c.label) for c in table.columns.values()][:4] == [
            "Date", "Time", "My status", "Title",
        ]  # fmt: skip
        keys = _keys(app)
        row = table.get_row_at(keys.index(two_dates["full"]))
        assert str(row[2]) == "Waitlist #1"
        start = Session.get_by_id(two_dates["second"]).start.astimezone(ZoneInfo("Europe/London"))
        assert str(table.get_row_at(keys.index(two_dates["second"]))[0]).endswith(f"{start:%Y}")
        # The status column is in view at 80 columns: the first three columns fit.
        widths = [c.get_render_width(table) for c in list(table.columns.values())[:3]]
        assert sum(widths) <= 80


async def test_waitlist_row_says_leave_the_waitlist(two_dates: dict[str, int]) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(120, 40)) as pilot:
        await _highlight(pilot, two_dates["full"])
        assert "Press c to leave the waitlist" in _detail(app)
        assert "cancel your booking" not in _detail(app)
        await pilot.press("c")
        await pilot.pause()
        question = app.screen.question  # type: ignore[attr-defined]
        assert question.startswith("Leave the waitlist for First Aid, ")
        await pilot.press("y")
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", two_dates["full"]) == ("cancelled", None)
        assert any("left the waitlist" in n.message for n in app._notifications)


async def test_second_booking_of_a_course_asks_naming_the_other_date(
    two_dates: dict[str, int],
) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=2)
        await pilot.press("b")  # the first Fire Safety: no question
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", two_dates["open"]) == ("enrolled", None)
        app.screen.query_one(DataTable).move_cursor(row=_keys(app).index(two_dates["second"]))
        await pilot.pause()
        await pilot.press("b")
        await pilot.pause()
        first = Session.get_by_id(two_dates["open"]).start.astimezone(ZoneInfo("Europe/London"))
        question = app.screen.question  # type: ignore[attr-defined]
        when = f"{first:%a} {first.day} {first:%b %Y} {first:%H:%M}"
        assert f"You already hold Fire Safety on {when} (booked)" in question
        await pilot.press("escape")
        await settle(pilot, rounds=2)
        assert not Enrolment.select().where(Enrolment.session == two_dates["second"]).exists()
        await pilot.press("b")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, rounds=2)
        assert _status("ann@example.org", two_dates["second"]) == ("enrolled", None)


async def test_meeting_link_is_never_broken_mid_string(two_dates: dict[str, int]) -> None:
    app = LearnerApp("ann@example.org")
    async with app.run_test(size=(120, 40)) as pilot:
        await _highlight(pilot, two_dates["second"])
        lines = screen_text(app).splitlines()
        start = [i for i, line in enumerate(lines) if "https://meet.example.org/" in line]
        assert len(start) == 1, lines
        # One line, cut with an ellipsis where the panel ends; the next line is not its tail.
        assert lines[start[0]].rstrip(" ▂▆█▁▃▄▅▇").endswith("…"), lines[start[0]]
        assert "room-name" not in lines[start[0] + 1]
        assert "https://meet.example.org/fire-safety" in lines[start[0]]


async def test_q_quits_the_learner_app(two_dates: dict[str, int], settings: Settings) -> None:
    from tui.app import make_app

    app = make_app(settings, as_email="ann@example.org")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, LearnerScreen)
        assert "q Quit" in screen_text(app).splitlines()[-1]
        await pilot.press("q")
        await pilot.pause()
        assert app._exit
