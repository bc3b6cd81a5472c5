"""Pictures of the three main screens at 80x24 and 120x40 (fixed data, frozen date)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import Data, no_blink, settle
from tui.app import RollcallApp

SIZES = [(80, 24), (120, 40)]


@pytest.fixture(autouse=True)
def home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's home directory is the home, so paths on screen read the same every run."""
    monkeypatch.setenv("HOME", str(isolated_env))


async def _ready(pilot: Pilot[None]) -> None:
    await settle(pilot)
    no_blink(pilot.app)  # type: ignore[arg-type]
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_home(snap_compare: Callable[..., bool], app: RollcallApp, size: Any) -> None:
    """The sessions list: header, search box and the trainer/status filters, then three
    sessions in date order with a Where column (Room 1, Room 2, online). Yesterday's Fire
    Safety is dimmed (completed), First Aid at Work shows 2/2 marked full with 2 waiting and
    holds the cursor (the first session not over yet), Data Protection shows 0/∞. Below:
    "row 2 of 3" and, with no SMTP server configured, the standing notice in bold warning
    colour "⚠ Mail not sent: set smtp_host in ~/config/rollcall/config.toml; 8 messages
    waiting…" (cut with … at 80 columns), the news line "ready" under it, and the footer keys
    (/ Search, n New, e Edit, c Cancel, d Delete, t Trainer, s Status, w When, q Quit, ? Help;
    at 80 columns compact, without the ^p hint, so that every key fits)."""
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
    x Remove, o Note, m Email, f Finalise, s Sign-in sheet (compact at 80 columns)."""
    assert snap_compare(app, terminal_size=size, run_before=_session_page)


@pytest.fixture
def learner_app(data: Data, settings: Any) -> RollcallApp:
    """Chloe's own view: booked on Data Protection, first on First Aid's waitlist."""
    from store.booking import book
    from tui.app import make_app

    book(data.empty, "chloe.chen@example.org")
    return make_app(settings, as_email="chloe.chen@example.org")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
def test_learner_status_column(
    snap_compare: Callable[..., bool], learner_app: RollcallApp, size: Any
) -> None:
    """Chloe Chen's "My calendar": columns Date (with the year: "Mon 30 Nov 2026"), Time,
    My status, Title, Where, Trainer, Places. First Aid at Work (the cursor's row) shows
    "Waitlist #1" in yellow, Data Protection Essentials "Booked" in green; both in view at
    80 columns. Below the list (at both sizes) the detail of First Aid at Work ends with "You
    are number 1 on the waitlist" and "Press c to leave the waitlist". Footer: b Book,
    c Cancel booking, r Reload, a Accept offer, i Interested, q Quit, ? Help."""
    assert snap_compare(learner_app, terminal_size=size, run_before=_ready)
