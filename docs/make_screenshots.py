"""Write docs/home.svg and docs/session.svg from the demo data at a fixed date.

Run: ``.venv/bin/python docs/make_screenshots.py`` (needs the dev extra for time-machine).
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import time_machine

DOCS = Path(__file__).parent
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def shoot() -> None:
    """Open the app on demo data and save the two pictures."""
    from store.db import open_database
    from store.demo import fill_demo
    from store.settings import load_settings, use_settings
    from tui.app import make_app

    folder = Path(tempfile.mkdtemp())
    settings = load_settings(
        environ={"ROLLCALL_TIMEZONE": "Europe/London"}, db=str(folder / "demo.db")
    )
    use_settings(settings)
    open_database(settings.db)
    fill_demo()
    app = make_app(settings)
    async with app.run_test(size=(120, 36)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot("home.svg", str(DOCS))
        await pilot.press("enter")
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        app.save_screenshot("session.svg", str(DOCS))


if __name__ == "__main__":
    with time_machine.travel(NOW, tick=True):
        asyncio.run(shoot())
