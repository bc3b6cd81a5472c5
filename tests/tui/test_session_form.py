"""The session form: validation next to the field, the switches and pickers, recurrence."""

from __future__ import annotations

from textual.widgets import Button, Checkbox, Input, Label, RadioButton, Select

from screens.session_form import SessionForm
from screens.widgets.pickers import MaterialRow, VisibilityPicker
from store.models import Material, Series, Session, SessionVisibility
from tests.tui.conftest import Data, settle
from tui.app import RollcallApp


async def open_form(app: RollcallApp, pilot: object, key: str = "n") -> SessionForm:
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press(key)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, SessionForm)
    return app.screen


def error_of(form: SessionForm, name: str) -> str:
    return str(form.query_one(f"#error-{name}", Label).render())


async def test_errors_show_next_to_the_field_and_nothing_is_saved(
    app: RollcallApp, data: Data
) -> None:
    before = Session.select().count()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "title is required" in error_of(form, "title")
        assert app.focused is form.query_one("#title", Input)
        form.query_one("#title", Input).value = "Induction"
        form.query_one("#date", Input).value = "2026-13-40"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert error_of(form, "title") == ""
        assert "is not a date (use YYYY-MM-DD)" in error_of(form, "date")
        form.query_one("#date", Input).value = "2026-12-01"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "give a location (in person) or an online URL" in error_of(form, "location")
        # A trainer clash names the clashing session.
        form.query_one("#location", Input).value = "Room 9"
        form.query_one("#date", Input).value = "2026-11-30"
        form.query_one("#start", Input).value = "14:00"
        form.query_one("#trainer", Select).value = "ivan.trainer@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "already delivers" in error_of(form, "trainer")
        assert isinstance(app.screen, SessionForm)
    assert Session.select().count() == before


async def test_online_session_with_generated_link_materials_and_visibility(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#title", Input).value = "Remote Onboarding"
        form.query_one("#kind-online", RadioButton).value = True
        await pilot.pause()
        assert form.query_one("#online-box").display is True
        assert form.query_one("#field-location").display is False
        form.query_one("#generate_link", Checkbox).value = True
        form.query_one("#unlimited", Checkbox).value = True
        form.query_one("#expiry_months", Input).value = "12"
        form.query_one("#departments", VisibilityPicker).set_values(["Sales"])
        form.query_one("#add-material", Button).press()
        await pilot.pause()
        row = form.query_one(MaterialRow)
        row.query_one(".material-name", Input).value = "Welcome pack"
        row.query_one(".material-url", Input).value = "https://example.org/welcome.pdf"
        await pilot.press("ctrl+s")
        await settle(pilot)
    created = Session.get(Session.title == "Remote Onboarding")
    assert created.type == "online"
    assert created.online_url.startswith("https://meet.jit.si/rollcall-")
    assert created.max_attendees is None
    assert created.expiry_months == 12
    assert [(m.name, m.url) for m in Material.select().where(Material.session == created)] == [
        ("Welcome pack", "https://example.org/welcome.pdf")
    ]
    rules = SessionVisibility.select().where(SessionVisibility.session == created)
    assert [(r.dimension, r.value) for r in rules] == [("department", "Sales")]


async def test_recurrence_creates_a_series(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        form.query_one("#title", Input).value = "Excel Clinic"
        form.query_one("#location", Input).value = "Room 4"
        form.query_one("#date", Input).value = "2026-12-07"
        form.query_one("#repeat", Select).value = "weekly"
        form.query_one("#count", Input).value = "0"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "count must be greater than zero" in error_of(form, "count")
        form.query_one("#count", Input).value = "4"
        await pilot.press("ctrl+s")
        await settle(pilot)
    made = list(Session.select().where(Session.title == "Excel Clinic").order_by(Session.start))
    assert len(made) == 4
    assert made[0].series_id is not None
    assert len({s.series_id for s in made}) == 1
    assert Series.get_by_id(made[0].series_id).rule == "FREQ=WEEKLY;COUNT=4"


async def test_edit_refuses_capacity_below_the_enrolled(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot, "e")
        assert form.session_id == data.full
        assert form.query_one("#max", Input).value == "2"
        form.query_one("#max", Input).value = "1"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "2 people are already enrolled" in error_of(form, "max")
    assert Session.get_by_id(data.full).max_attendees == 2
