"""Rooms checked like trainers in the form; adding someone outside the audience asks first."""

from __future__ import annotations

from textual.widgets import Input, Label

from screens.dialogs import ConfirmModal
from screens.people_picker import PeoplePicker
from screens.session import SessionScreen
from screens.session_form import SessionForm
from store.models import Enrolment, Session
from store.sessions import edit_session
from tests.tui.conftest import Data, pick_in_picker, screen_text, settle
from tui.app import RollcallApp


async def fill_clashing_form(app: RollcallApp, pilot: object) -> SessionForm:
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("n")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    form = app.screen
    assert isinstance(form, SessionForm)
    form.query_one("#title", Input).value = "Induction"
    form.query_one("#date", Input).value = "2026-11-30"
    form.query_one("#start", Input).value = "14:00"
    form.query_one("#location", Input).value = "room 2"  # First Aid at Work is in "Room 2"
    await pilot.press("ctrl+s")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    return form


async def test_an_overlap_in_the_same_room_asks_and_no_keeps_the_form(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await fill_clashing_form(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
        question = screen_text(app)
        assert "First Aid at Work" in question
        assert "Mon 30 Nov 2026 13:00" in question
        assert "Book the place anyway?" in question
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is form
        error = str(form.query_one("#error-location", Label).render())
        assert "Room 2 is already booked" in error
    assert not Session.select().where(Session.title == "Induction").exists()


async def test_book_anyway_saves_the_shared_room(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await fill_clashing_form(app, pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, SessionForm)
    made = Session.get(Session.title == "Induction")
    assert made.location == "room 2"


async def test_adding_someone_outside_the_audience_asks_naming_why(
    app: RollcallApp, data: Data
) -> None:
    edit_session(data.empty, {"departments": ["Engineering", "Finance"]})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.screen.open_session(data.empty)  # type: ignore[attr-defined]
        await settle(pilot)
        page = app.screen
        assert isinstance(page, SessionScreen)
        await pilot.press("plus")
        assert isinstance(app.screen, PeoplePicker)
        await pick_in_picker(pilot, "elena")  # Sales
        assert isinstance(app.screen, ConfirmModal)
        text = app.screen.question
        assert "Elena Evans is outside this session's audience" in text
        assert "department Sales is not Engineering or Finance" in text
        assert "Engineering or Finance" in " ".join(screen_text(app).split())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PeoplePicker)
        assert not Enrolment.select().where(Enrolment.session == data.empty).exists()
        await pick_in_picker(pilot, "")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is page
        assert Enrolment.select().where(Enrolment.session == data.empty).count() == 1
        # Someone inside the audience is added without a question.
        await pilot.press("plus")
        await pick_in_picker(pilot, "ben")  # Engineering
        assert app.screen is page
        assert Enrolment.select().where(Enrolment.session == data.empty).count() == 2
