"""The app's attendance capture: sign-in sheet key, attendance import, the trainer's answer."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
from textual.widgets import Button, Input, Select, Static

from screens.attendance_import import AttendanceImportModal
from screens.dialogs import TextModal
from screens.people_picker import PeoplePicker
from screens.session_form import SessionForm
from screens.sessions import SessionsScreen
from store.models import Completion, Enrolment, Person, Session
from tests.tui.conftest import Data, pick_in_picker, preview_csv, screen_text, settle
from tests.tui.test_session_page import open_session
from tui.app import RollcallApp


async def test_sheet_key_writes_the_pdf_in_the_background(
    app: RollcallApp, data: Data, tmp_path: Path
) -> None:
    target = tmp_path / "sheets" / "fire.pdf"
    async with app.run_test(size=(120, 40)) as pilot:
        await open_session(app, pilot, data.past)
        await pilot.press("s")
        modal = app.screen
        assert isinstance(modal, TextModal)
        suggested = modal.query_one(Input).value
        assert suggested.endswith(f"sign-in-{data.past}-Fire-Safety.pdf")
        modal.query_one(Input).value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    text = "\n".join(
        p.extract_text() for p in pypdf.PdfReader(io.BytesIO(target.read_bytes())).pages
    )
    for name in ("Ann Adams", "Ben Baker", "Chloe Chen", "Dev Dubois", "Elena Evans"):
        assert name in text
    assert "Hana Morris" in text


async def test_attendance_import_previews_then_marks(
    app: RollcallApp, data: Data, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"session_id,email,status\n{data.past},ann.adams@example.org,attended\n"
        f"{data.past},ben.baker@example.org,maybe\n{data.full},ann.adams@example.org,attended\n",
        encoding="utf-8",
    )
    good = tmp_path / "good.csv"
    good.write_text(
        f"session_id,email,status\n{data.past},ann.adams@example.org,attended\n"
        f"{data.past},grace.garcia@example.org,no-show\n",
        encoding="utf-8",
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("i")
        modal = app.screen
        assert isinstance(modal, AttendanceImportModal)
        preview = await preview_csv(pilot, bad)
        assert "line 3: status must be attended, no-show or no_show" in preview
        assert "line 4: session_id: session" in preview
        assert "not started" in preview
        assert modal.query_one("#import", Button).disabled
        modal.query_one("#path", Input).value = str(good)
        await pilot.press("enter")
        await settle(pilot)
        preview = str(modal.query_one("#preview", Static).render())
        assert "2 mark(s), 1 enrolled after the fact" in preview
        assert Completion.select().count() == 0
        modal.query_one("#import", Button).press()
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
    grace = Enrolment.get(
        (Enrolment.session == data.past)
        & (Enrolment.person == Person.get(Person.email == "grace.garcia@example.org"))
    )
    assert (grace.status, grace.recorded_after) == ("no_show", True)
    assert Completion.select().count() == 1


async def test_trainer_decline_shows_and_offers_another_trainer(
    app: RollcallApp, data: Data
) -> None:
    Session.update(trainer_calendar="declined", trainer_response_comment="On leave").where(
        Session.id == data.full
    ).execute()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.status_text.startswith("Trainer declined: Ivan Petrov for First Aid at Work")
        assert app.status_error
        page = await open_session(app, pilot, data.full)
        shown = screen_text(app)
        assert "✗ declined" in shown
        assert "On leave" in shown
        assert "t assigns another trainer" in shown
        await pilot.press("t")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SessionForm)
        assert form.focused is form.query_one("#trainer", Select)
        assert page is not None


async def test_people_can_be_added_to_a_session_that_took_place(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.past)
        await pilot.press("plus")
        await settle(pilot)
        assert isinstance(app.screen, PeoplePicker)
        await pick_in_picker(pilot, "grace")
        assert app.screen is page
        assert "Grace Garcia" in screen_text(app)
    grace = Enrolment.get(
        (Enrolment.session == data.past)
        & (Enrolment.person == Person.get(Person.email == "grace.garcia@example.org"))
    )
    assert (grace.status, grace.recorded_after) == ("enrolled", True)
