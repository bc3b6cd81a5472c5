"""Pictures of the three main screens at 80x24 and 120x40 (fixed data, frozen date)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import Data, no_blink, settle
from tui.app import RollcallApp

SIZES = [(80, 24), (120, 40)]


async def _ready(pilot: Pilot[None]) -> None:
    await settle(pilot)
    no_blink(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_home(snap_compare: Callable[..., bool], app: RollcallApp, size: Any) -> None:
    """The sessions list: header, search box and the trainer/status filters, then three
    sessions in date order. Yesterday's Fire Safety is dimmed (completed), First Aid at
    Work shows 2/2 marked full with 2 waiting and holds the cursor (the first session not
    over yet), Data Protection shows 0/∞. Below: "row 2 of 3", the status line "ready"
    and the footer keys (/ Search, n New, e Edit, c Cancel, d Delete, q Quit, ? Help)."""
    assert snap_compare(app, terminal_size=size, run_before=_ready)


async def _new_form_after(pilot: Pilot[None], *keys: str) -> None:
    """Open the new session form, press `keys` there, and let it settle."""
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    await pilot.press(*keys)
    await settle(pilot)
    await _ready(pilot)


async def _form_with_errors(pilot: Pilot[None]) -> None:
    await _new_form_after(pilot, "ctrl+s")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_session_form_with_errors(
    snap_compare: Callable[..., bool], app: RollcallApp, size: Any
) -> None:
    """The "New session" form after saving it empty: under Title, in bold error colour,
    "⚠ title is required"; the title input has the focus. Date defaults to 2026-11-24,
    start 09:30, 60 minutes, "(•) In person" chosen, "( ) Online" not. Save and Back
    buttons at the bottom."""
    assert snap_compare(app, terminal_size=size, run_before=_form_with_errors)


async def _form_with_long_error(pilot: Pilot[None]) -> None:
    await _new_form_after(pilot, *"Induction", "tab", "tab", "tab", "tab", "tab", "0", "ctrl+s")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_session_form_with_a_long_error(
    snap_compare: Callable[..., bool], app: RollcallApp, size: Any
) -> None:
    """The "New session" form titled Induction after saving 0 minutes: under Minutes, on
    as many lines as it needs, the whole "⚠ duration must be greater than zero, got 0"
    (nothing cut off); the Minutes field has the focus with its "0" selected. The in
    person/online choice reads "(•) In person" and "( ) Online" without colour."""
    assert snap_compare(app, terminal_size=size, run_before=_form_with_long_error)


async def _session_page(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await _ready(pilot)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_session_page(
    snap_compare: Callable[..., bool], app: RollcallApp, data: Data, size: Any
) -> None:
    """First Aid at Work's page: title, "#2 scheduled", Mon 30 Nov 2026 13:00-16:00 · Room
    2, trainer Ivan Petrov "✉ invited, no answer yet", 2 places, for everyone. "Attendees
    2/2" lists Ann Adams and Ben Baker, enrolled, Calendar "?" (tentative) answered 23 Nov
    07:00; the detail line repeats Ann's answer. "Waitlist (2)" lists Chloe Chen #1 and Dev
    Dubois #2. Footer: a Attended / n No-show greyed out (not started), p Promote, + Add,
    x Remove, o Note, m Email, s Sign-in sheet."""
    assert snap_compare(app, terminal_size=size, run_before=_session_page)
