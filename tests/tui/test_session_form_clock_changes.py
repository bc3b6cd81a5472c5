"""The session form on a day the clocks go back: it asks which 01:30, next to Start."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.pilot import Pilot
from textual.widgets import Input

from screens.session_form import SessionForm
from store.models import Session
from tests.tui.conftest import Data, settle
from tests.tui.test_session_form import error_of, open_form
from tui.app import RollcallApp

REPEATED = "2027-10-31"
"""Europe/London's clocks go back from 02:00 BST to 01:00 GMT that morning."""


async def save(pilot: Pilot[None], form: SessionForm, **values: str) -> None:
    """Type `values` into the inputs of those ids and press save."""
    for name, value in values.items():
        form.query_one(f"#{name}", Input).value = value
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_a_repeated_start_is_asked_about_then_kept_as_chosen(
    app: RollcallApp, data: Data
) -> None:
    before = Session.select().count()
    async with app.run_test(size=(120, 40)) as pilot:
        form = await open_form(app, pilot)
        await save(
            pilot, form, title="Night Shift Safety", location="Depot", date=REPEATED, start="01:30"
        )
        # The error under Start names both instants, as they can be typed.
        message = " ".join(error_of(form, "start").split())
        assert "happens twice" in message
        assert "01:30 BST" in message
        assert "01:30 GMT" in message
        assert Session.select().count() == before
        await save(pilot, form, date="2027-03-28")
        assert "does not exist" in " ".join(error_of(form, "start").split())
        assert Session.select().count() == before
        await save(pilot, form, date=REPEATED, start="01:30 GMT")
        made = Session.get(Session.title == "Night Shift Safety")
        assert made.start.astimezone(UTC) == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
        assert (made.end - made.start).total_seconds() == 60 * 60
        # Opened again, the form shows which 01:30 the session is.
        await app.push_screen(SessionForm(made.id))
        await settle(pilot)
        again = app.screen
        assert isinstance(again, SessionForm)
        assert again.query_one("#start", Input).value == "01:30 GMT"
