"""The screen never waits: a slow query runs in a worker while keys keep working."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

import screens.sessions
from screens.help import HelpScreen
from screens.sessions import SessionsScreen
from screens.widgets.paged_table import PagedTable
from store.read_models import SessionPage, first_window, session_page
from tests.tui.conftest import Data, settle
from tui.app import RollcallApp

SLOW_SECONDS = 3.0


async def test_keys_answer_while_a_slow_query_runs(
    app: RollcallApp, data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow_page(**kwargs: Any) -> SessionPage:
        time.sleep(SLOW_SECONDS)
        return session_page(**kwargs)

    def slow_window(size: int, now: datetime | None = None) -> tuple[SessionPage, int]:
        time.sleep(SLOW_SECONDS)
        return first_window(size, now)

    monkeypatch.setattr(screens.sessions, "session_page", slow_page)
    monkeypatch.setattr(screens.sessions, "first_window", slow_window)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.monotonic()
        assert any(w.is_running for w in app.workers)  # the list is still loading
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("slash", *"fire")
        await pilot.pause()
        answered = time.monotonic() - started
        # A blocked screen would answer only after the query; allow for a loaded machine.
        assert answered < SLOW_SECONDS * 0.8, f"keys took {answered:.2f}s while the query ran"
        home = app.screen
        assert isinstance(home, SessionsScreen)
        assert home.query_one("#search").value == "fire"  # type: ignore[attr-defined]
        await settle(pilot)
        # Only the answer to the latest search is shown.
        assert home.query_one(PagedTable).total == 1
        assert home.current_id() == data.past
