"""Finding sessions by date: the `w` filter, dates in the search, the Where column, footer keys."""

from __future__ import annotations

import asyncio
from datetime import time
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Label, Select

from screens.date_filter import DateFilterModal
from screens.sessions import SessionsScreen
from store.read_models import NO_TRAINER
from store.session_input import SessionInput
from store.sessions import create_sessions
from tests.tui.conftest import Data, screen_text, settle
from tui.app import RollcallApp


async def the_list(app: RollcallApp, pilot: Pilot[None]) -> SessionsScreen:
    """The sessions list once its first rows are read."""
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, SessionsScreen)
    return screen


def shown(screen: SessionsScreen) -> list[str]:
    """Titles in the list, top to bottom."""
    return [row.title for row in sorted(screen.rows.values(), key=lambda r: (r.start, r.id))]


async def test_w_filters_by_next_week_and_by_a_typed_range(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await the_list(app, pilot)
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, DateFilterModal)
        text = screen_text(app)
        assert "this week: Mon 23 Nov – Sun 29 Nov 2026" in text
        assert "next week: Mon 30 Nov – Sun 06 Dec 2026" in text
        await pilot.press("down", "down", "down", "enter")  # any date, today, this week, next
        await settle(pilot)
        assert app.screen is screen
        assert shown(screen) == ["First Aid at Work", "Data Protection Essentials"]
        assert "next week" in str(screen.query_one("#position", Label).render())

        await pilot.press("w")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, DateFilterModal)
        modal.query_one("#from", Input).value = "20 Nov"
        modal.query_one("#to", Input).value = "soon"
        modal.query_one("#to", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is modal  # a wrong end keeps the modal open and says which
        assert "to 'soon' is not a date" in str(modal.query_one("#date-error", Label).render())
        modal.query_one("#to", Input).value = "2026-11-30"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert shown(screen) == ["Fire Safety", "First Aid at Work"]

        await pilot.press("escape")  # clears every filter, the dates too
        await settle(pilot)
        assert screen.dates is None
        assert len(screen.rows) == 3


async def test_search_reads_dates_as_typed(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await the_list(app, pilot)
        search = screen.query_one("#search", Input)
        for typed, titles in (
            ("30 Nov", ["First Aid at Work"]),
            ("2026-12-02", ["Data Protection Essentials"]),
            ("2/12", ["Data Protection Essentials"]),
            ("Nov", ["Fire Safety", "First Aid at Work"]),
            ("fire nov", ["Fire Safety"]),
            ("1 Dec", []),
        ):
            search.value = typed
            await settle(pilot)
            assert shown(screen) == titles, typed


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
async def test_where_column_and_every_filter_key_in_the_footer(
    app: RollcallApp, data: Data, size: tuple[int, int]
) -> None:
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        text = screen_text(app)
        assert "Where" in text
        assert "Room 1" in text
        assert "online" in text
        footer = text.splitlines()[-1]
        for key in ("t Trainer", "s Status", "w When", "q Quit"):
            assert key in footer, footer


async def test_the_trainer_filter_offers_no_trainer(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await the_list(app, pilot)
        await pilot.press("t")
        await settle(pilot)
        select = screen.query_one("#trainer-filter", Select)
        assert app.focused is select
        select.value = NO_TRAINER
        await settle(pilot)
        assert shown(screen) == ["Data Protection Essentials"]
        create_sessions(
            SessionInput(
                title="Coaching Basics", date="2026-12-05", start=time(9, 0),
                duration_minutes=60, location="Room 4",
            )
        )  # fmt: skip
        await pilot.press("r")
        await settle(pilot)
        assert shown(screen) == ["Data Protection Essentials", "Coaching Basics"]


async def test_cancel_toast_names_the_session_by_title_and_date(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await the_list(app, pilot)
        screen.query_one("#search", Input).value = "2 Dec"
        await settle(pilot)
        assert shown(screen) == ["Data Protection Essentials"]
        await pilot.press("c")  # the list has the focus: c cancels the highlighted session
        await settle(pilot)
        await pilot.press(*"room closed", "enter")
        await settle(pilot)
        toast = [n.message for n in app._notifications][-1]
        assert toast == "Cancelled: Data Protection Essentials, Wed 2 Dec 2026 10:00"


async def test_typing_counts_the_matches_once_the_keys_stop(
    app: RollcallApp, data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each key shows its rows at once; all matches are counted once, after the last key."""
    import screens.sessions
    from store.read_models import count_sessions

    counted: list[str] = []

    def counting(**filters: Any) -> int:
        counted.append(str(filters.get("search")))
        return count_sessions(**filters)

    for day in range(1, 29):  # more matches than the first window holds
        for hour in ("09:00", "14:00", "17:00"):
            create_sessions(SessionInput("Workshop", f"2027-02-{day:02d}", hour, 60, "Room 9"))
    monkeypatch.setattr(screens.sessions, "count_sessions", counting)
    monkeypatch.setattr(screens.sessions, "COUNT_AFTER_SECONDS", 1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await the_list(app, pilot)
        await settle(pilot)
        counted.clear()
        await pilot.press("slash", *"shop")
        for _ in range(100):
            if screen.shown_generation == screen.generation:
                break
            await asyncio.sleep(0.01)
        assert set(shown(screen)) == {"Workshop"}  # the rows came before the count
        assert counted == []
        await settle(pilot)
        assert counted == ["shop"]
        assert "of 84" in str(screen.query_one("#position", Label).render())
