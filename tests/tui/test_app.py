"""App wiring: the status line, the learner-view fallback, themes, areas."""

from __future__ import annotations

import threading

from screens.messages import StatusUpdate
from screens.sessions import SessionsScreen
from store.settings import Settings
from tests.tui.conftest import Data, screen_text, settle
from tui.app import AREAS, RollcallApp, make_app


async def test_status_line_shows_news_posted_from_a_thread(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        thread = threading.Thread(
            target=lambda: app.post_message(StatusUpdate("SMTP: 3 sent, 0 failed"))
        )
        thread.start()
        thread.join()
        await pilot.pause()
        assert "SMTP: 3 sent, 0 failed" in screen_text(app)
        app.post_message(StatusUpdate("IMAP: login refused", error=True))
        await pilot.pause()
        assert app.status_error is True
        # Every screen shows the same line.
        await pilot.press("2")
        await settle(pilot)
        assert "IMAP: login refused" in screen_text(app)


async def test_learner_app_offers_no_admin_areas(data: Data, settings: Settings) -> None:
    from screens.learner import LearnerScreen

    app = make_app(settings, as_email="ann.adams@example.org")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LearnerScreen)
        assert app.areas == []
        for key in ("1", "2", "3", "4", "5"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, LearnerScreen)
            assert not isinstance(app.screen, SessionsScreen)


async def test_light_theme_and_missing_areas_left_out(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.current_theme.dark
        await pilot.press("f2")
        await pilot.pause()
        assert app.current_theme.dark is not dark
        assert "Fire Safety" in screen_text(app)
        names = [a.name for a in app.areas]
        assert names[:3] == ["sessions", "people", "trainers"]
        assert app.areas == [a for a in AREAS if "admin" in a.roles]


async def test_plugged_in_areas_open_from_their_keys(
    app: RollcallApp, data: Data, settings: Settings
) -> None:
    import importlib.util

    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for area in app.areas[3:]:
            assert area.key is not None
            await pilot.press(area.key)
            await settle(pilot)
            assert type(app.screen) is area.load()
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
    if importlib.util.find_spec("screens.learner") is None:
        return
    learner = make_app(settings, as_email="ann.adams@example.org")
    async with learner.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert type(learner.screen).__name__ == "LearnerScreen"
