"""Pilot tests of the reports screen: switching reports, the chart, CSV export."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, OptionList, Static
from textual_plotext import PlotextPlot

from screens.reports import ReportsScreen
from store.models import Completion, Course, Enrolment, Person
from store.people import PersonInput, add_person
from store.session_input import SessionInput
from store.sessions import create_sessions
from tests.tui.conftest import settle


class ReportsApp(App[None]):
    """A bare app that shows only the reports screen."""

    def on_mount(self) -> None:
        """Open the screen under test."""
        self.push_screen(ReportsScreen())


@pytest.fixture
def marked(sqlite_store: str) -> None:
    """One past Fire Safety session: Ann attended, Bob did not come."""
    [session] = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=(datetime.now(ZoneInfo("Europe/London")).date() - timedelta(days=30)),
            start="10:00",
            duration_minutes=60,
            location="R1",
            max_attendees=4,
        )
    )
    for email, status in (("ann@example.org", "attended"), ("bob@example.org", "no_show")):
        person = add_person(PersonInput(email=email, name=email[:3], department="Sales"))
        Enrolment.create(session=session, person=person, status=status)


def _cells(app: App[None]) -> list[list[str]]:
    table = app.screen.query_one(DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.mark.usefixtures("marked")
async def test_switch_reports_chart_and_export(tmp_path: Path) -> None:
    app = ReportsApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, rounds=2)
        assert _cells(app) == [["Fire Safety", "2", "1", "1", "50.0"]]
        await pilot.press("p")  # all sessions -> the last 12 months
        await settle(pilot, rounds=2)
        title = str(app.screen.query_one("#report-title").render())
        assert "last 12 months" in title
        assert _cells(app) == [["Fire Safety", "2", "1", "1", "50.0"]]
        bars = app.screen.query_one("#report-bars", Static)
        assert not bars.has_class("hidden")  # horizontal bars, each labelled
        assert "Fire Safety" in str(bars.render())
        assert "50.0%" in str(bars.render())
        assert app.screen.query_one(PlotextPlot).has_class("hidden")

        options = app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("no-shows")
        await settle(pilot, rounds=2)
        assert [row[0] for row in _cells(app)] == ["bob@example.org", "ann@example.org"]
        assert app.screen.query_one(PlotextPlot).has_class("hidden")  # a table, no chart
        assert app.screen.query_one("#report-bars").has_class("hidden")

        await pilot.press("x")
        await pilot.pause()
        target = tmp_path / "no-shows.csv"
        app.screen.query_one("#field-path", Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot, rounds=2)
        assert target.read_text().splitlines() == [
            "email,name,department,marked,attended,no_shows,rate",
            "bob@example.org,bob,Sales,1,0,1,100.0",
            "ann@example.org,ann,Sales,1,1,0,0.0",
        ]


@pytest.mark.usefixtures("marked")
async def test_days_switches_to_expiring_and_refuses_bad_input() -> None:
    app = ReportsApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, rounds=2)
        await pilot.press("d")
        await pilot.pause()
        app.screen.query_one("#field-days", Input).value = "-2"
        await pilot.press("enter")
        await settle(pilot, rounds=2)
        assert any("days" in n.message for n in app._notifications)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        assert screen.report == "no-shows-course"
        await pilot.press("d")
        await pilot.pause()
        app.screen.query_one("#field-days", Input).value = "60"
        await pilot.press("enter")
        await settle(pilot, rounds=2)
        assert (screen.report, screen.days) == ("expiring", 60)
        assert screen.rows == []


@pytest.mark.usefixtures("marked")
async def test_opening_computes_only_the_chosen_report() -> None:
    loaded: dict[int, str] = {}

    def hook(message: object) -> None:
        # A message is seen once per node it bubbles through; count each one once.
        if isinstance(message, ReportsScreen.Loaded):
            loaded[id(message)] = message.name

    app = ReportsApp()
    async with app.run_test(size=(160, 50), message_hook=hook) as pilot:
        await settle(pilot, rounds=2)
        await settle(pilot, rounds=2)
    assert list(loaded.values()) == ["no-shows-course"]


def _fire_safety_due_in_five_days(person: Person) -> None:
    """`person`'s Fire Safety completion, expiring five days from today."""
    today = datetime.now(ZoneInfo("Europe/London")).date()
    Completion.create(
        person=person,
        course=Course.get(Course.title == "Fire Safety"),
        completed_on=today - timedelta(days=360),
        expires_on=today + timedelta(days=5),
        source="attendance",
    )


class DueApp(App[None]):
    """The reports screen opened on the renewals list."""

    def on_mount(self) -> None:
        """Open the screen under test."""
        self.push_screen(ReportsScreen(report="due"))


@pytest.mark.usefixtures("marked")
async def test_book_someone_due_onto_the_next_session() -> None:
    today = datetime.now(ZoneInfo("Europe/London")).date()
    ann = Person.get(Person.email == "ann@example.org")
    _fire_safety_due_in_five_days(ann)
    [coming] = create_sessions(
        SessionInput(
            title="Fire Safety",
            date=today + timedelta(days=10),
            start="10:00",
            duration_minutes=60,
            location="R1",
        )
    )
    app = DueApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, rounds=2)
        # Who, what and when first; the email and kind after.
        assert _cells(app)[0][:2] == ["ann", "Fire Safety"]
        app.screen.query_one(DataTable).focus()
        await pilot.press("b")
        await settle(pilot, rounds=2)
        day = today + timedelta(days=10)
        when = f"{day:%a} {day.day} {day:%b %Y}"
        question = app.screen.question  # type: ignore[attr-defined]
        assert f"onto Fire Safety, {when}" in question
        assert "10:00?" in question
        await pilot.press("y")
        await settle(pilot, rounds=2)
        booked = Enrolment.get((Enrolment.session == coming.id) & (Enrolment.person == ann))
        assert booked.status == "enrolled"
        toast = [n.message for n in app._notifications][-1]
        assert f"ann@example.org enrolled on Fire Safety, {when}" in toast
        assert "10:00" in toast
        assert "session " not in toast  # named by title and date, never by id
        assert _cells(app)[0][5] == str(coming.id)  # the list shows the booking now


@pytest.mark.usefixtures("marked")
async def test_register_someone_due_on_the_course_interest_list() -> None:
    from store.workflow_models import Interest

    ann = Person.get(Person.email == "ann@example.org")
    _fire_safety_due_in_five_days(ann)
    app = DueApp()
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, rounds=2)
        app.screen.query_one(DataTable).focus()
        await pilot.press("i")
        await settle(pilot, rounds=2)
        assert any("interest list of Fire Safety" in n.message for n in app._notifications)
    [entry] = list(Interest.select())
    assert (entry.person.email, entry.course.title, entry.source) == (
        "ann@example.org",
        "Fire Safety",
        "renewal",
    )


@pytest.fixture
def nine_courses(sqlite_store: str) -> list[str]:
    """Nine past sessions of courses with long titles, each with someone who did not come."""
    titles = [f"Course number {n} with a rather long descriptive title" for n in range(1, 10)]
    day = datetime.now(ZoneInfo("Europe/London")).date() - timedelta(days=20)
    for n, title in enumerate(titles):
        [session] = create_sessions(
            SessionInput(
                title=title, date=day, start="10:00", duration_minutes=60, location=f"R{n}"
            )
        )
        for k, status in enumerate(("attended",) * n + ("no_show",)):
            person = add_person(PersonInput(email=f"p{n}-{k}@example.org", name=f"P {n} {k}"))
            Enrolment.create(session=session, person=person, status=status)
    return titles


async def test_every_bar_is_labelled(nine_courses: list[str]) -> None:
    app = ReportsApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=2)
        lines = str(app.screen.query_one("#report-bars", Static).render()).splitlines()
        bars = [line for line in lines if "█" in line or "▌" in line]
        assert len(bars) == 9
        for n in range(1, 10):
            # One line per course: its (possibly shortened) title, its bar and its value.
            [line] = [b for b in bars if b.startswith(f"Course number {n} ")]
            assert line.rstrip().endswith("%")
        # The highest no-show rate first: course 1 (1 of 1 did not come).
        assert bars[0].startswith("Course number 1 ")
        assert bars[0].rstrip().endswith("100.0%")


async def test_due_for_renewal_shows_the_expiry_columns_at_120_columns(marked: None) -> None:
    from tests.tui.conftest import screen_text

    today = datetime.now(ZoneInfo("Europe/London")).date()
    long = add_person(
        PersonInput(
            email="anneliese.fitzgerald-montgomery@example.org",
            name="Anneliese Fitzgerald-Montgomery",
            department="Customer Operations and Support",
        )
    )
    _fire_safety_due_in_five_days(long)
    app = DueApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, rounds=2)
        text = screen_text(app)
        assert "expires on" in text
        assert "days left" in text
        assert (today + timedelta(days=5)).isoformat() in text
