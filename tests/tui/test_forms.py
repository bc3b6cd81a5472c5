"""Forms that forgive: whole errors cleared as the field is fixed, selected text, escape
asks, past dates warn, boxes readable without colour, focus on screen, type-ahead safe."""

from __future__ import annotations

from textual import events
from textual.widgets import Input, Label

from screens.dialogs import ConfirmModal, FormModal
from screens.people import PersonForm
from screens.session_form import SessionForm
from screens.widgets.ticks import TickBox, TickList, TickRadio
from store.models import Person, Session
from tests.tui.conftest import Data, settle
from tui.app import RollcallApp


async def open_form(app: RollcallApp, pilot: object) -> SessionForm:
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("n")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, SessionForm)
    return app.screen


def text_of(form: object, selector: str) -> str:
    return str(form.query_one(selector, Label).render())  # type: ignore[attr-defined]


async def test_a_long_error_is_shown_whole_selected_and_cleared_as_it_is_fixed(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press(*"Induction", "tab", "tab", "tab", "tab", "tab", "0", "ctrl+s")
        await settle(pilot)
        label = form.query_one("#error-duration", Label)
        assert "duration must be greater than zero, got 0" in text_of(form, "#error-duration")
        # The whole message fits: the line wraps inside the Minutes column.
        assert label.size.height >= 2
        assert label.size.width < 30
        minutes = form.query_one("#duration", Input)
        assert app.focused is minutes
        assert minutes.selected_text == "0"  # typing replaces, never "09" or "25:9909:00"
        await pilot.press("9", "0")
        await settle(pilot)
        assert minutes.value == "90"
        assert not label.has_class("-shown")  # cleared as soon as the field is right
        # A field left with bad text says so at once; fixing it clears the line.
        await pilot.press("shift+tab")  # to Start
        await pilot.press(*"25:99", "tab")
        await settle(pilot)
        assert "is not a time of day" in text_of(form, "#error-start")
        start = form.query_one("#start", Input)
        start.value = "10:00"
        await settle(pilot)
        assert not form.query_one("#error-start", Label).has_class("-shown")
    assert Session.select().where(Session.title == "Induction").count() == 0


async def test_escape_on_a_changed_form_asks_before_discarding(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        await pilot.press("escape")  # nothing typed: closes at once
        await settle(pilot)
        assert not isinstance(app.screen, SessionForm)
        form = await open_form(app, pilot)
        await pilot.press(*"Half typed")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("escape")  # no: back to the form, text intact
        await settle(pilot)
        assert app.screen is form
        assert form.query_one("#title", Input).value == "Half typed"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, SessionForm | ConfirmModal)
    assert Session.select().where(Session.title == "Half typed").count() == 0


async def test_a_date_in_the_past_warns_and_still_saves(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        warning = form.query_one("#warning-date", Label)
        assert not warning.has_class("-shown")  # tomorrow is fine
        form.query_one("#title", Input).value = "Catch-up record"
        form.query_one("#date", Input).value = "2020-05-04"
        form.query_one("#location", Input).value = "Room 3"
        await settle(pilot)
        assert warning.has_class("-shown")
        assert "in the past" in str(warning.render())
        form.query_one("#date", Input).value = "2026-12-04"
        await settle(pilot)
        assert not warning.has_class("-shown")
        form.query_one("#date", Input).value = "2020-05-04"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, SessionForm)
    saved = Session.get(Session.title == "Catch-up record")
    assert saved.start.year == 2020


async def test_boxes_read_without_colour(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        unlimited = form.query_one("#unlimited", TickBox)
        assert "[ ] Unlimited" in str(unlimited.render())
        unlimited.value = True
        assert "[x] Unlimited" in str(unlimited.render())
        assert "(•) In person" in str(form.query_one("#kind-in-person", TickRadio).render())
        assert "( ) Online" in str(form.query_one("#kind-online", TickRadio).render())
        picks = form.query_one("#departments").query_one(TickList)
        await settle(pilot)
        first = picks.get_option_at_index(0).value
        lines = ["".join(s.text for s in picks.render_line(0))]
        assert lines[0].startswith("[ ] ")
        picks.select(first)
        assert "".join(s.text for s in picks.render_line(0)).startswith("[x] ")


async def test_tab_keeps_the_focus_on_screen_through_the_whole_form(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        form = await open_form(app, pilot)
        seen = []
        for _ in range(30):
            await pilot.press("tab")
            await settle(pilot)
            focused = app.focused
            assert focused is not None
            assert focused.id != "form-body", focused  # an invisible stop
            assert app.screen.region.contains_region(focused.region), focused
            seen.append(focused.id)
        assert "add-material" in seen
        assert "expiry_months" in seen  # the field after "+ Add material", on screen too
        assert form.is_mounted


async def test_keys_in_one_burst_follow_tab_into_the_next_field(
    app: RollcallApp, data: Data
) -> None:
    """Keys posted together, before any is handled, as they arrive over a slow link."""
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        burst = [*"abc", "tab", *"def", "tab", *"ghi"]
        for key in burst:
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await settle(pilot)
        values = [form.query_one(f"#{n}", Input).value for n in ("title", "course", "description")]
        assert values == ["abc", "def", "ghi"]


async def test_person_form_clears_an_error_as_it_is_fixed_and_asks_on_escape(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("2", "n"):  # People, then a new person
            await settle(pilot)
            await pilot.press(key)
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PersonForm)
        await pilot.press(*"not-an-email", "tab", *"Ivy Irwin", "ctrl+s")
        await settle(pilot)
        assert "not a valid email address" in text_of(form, "#error-email")
        assert form.query_one("#email", Input).selected_text == "not-an-email"
        await pilot.press(*"ivy@example.org")
        await settle(pilot)
        assert not form.query_one("#error-email", Label).has_class("-shown")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert Person.select().where(Person.name == "Ivy Irwin").count() == 0


async def test_a_small_form_shows_required_under_the_field(app: RollcallApp, data: Data) -> None:
    answers: list[object] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        form = FormModal("Export", [("path", "File", ""), ("note", "Note", "")], required=("path",))
        app.push_screen(form, answers.append)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert "this is required" in text_of(form, "#error-field-path")
        await pilot.press(*"out.csv")
        await settle(pilot)
        assert not form.query_one("#error-field-path", Label).has_class("-shown")
        await pilot.press("enter")
        await settle(pilot)
    assert answers == [{"path": "out.csv", "note": ""}]


async def test_escape_on_an_unchanged_edit_form_closes_at_once(
    app: RollcallApp, data: Data
) -> None:
    """The filled-in values of an edit (materials, pickers) do not count as changes."""
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("up")  # yesterday's Fire Safety, with a material
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, SessionForm)
        assert form.query_one("#title", Input).value == "Fire Safety"
        assert not form.is_changed()
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SessionForm | ConfirmModal)
