"""The `rollcall` program: the scripting interface, opening the app when no command is given."""

from __future__ import annotations

import gc
import sys
from concurrent.futures import Future
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: a scripting command must not pay for the screens' read models.
    from store.read_models import SessionPage
    from store.settings import Settings

FIRST_WINDOW_ROWS = 60
"""Rows of the home list's first window (the sessions table's window size)."""


def read_first_window() -> Future[tuple[SessionPage, int, int]]:
    """Start reading the home list's first rows in a thread of their own.

    Loading Textual takes a few hundred milliseconds; the database answers meanwhile
    (SQLite works without holding the interpreter lock). The future holds the page,
    the row of the first session not ended and the window size it was read for.
    """
    from store.db import read_in_thread

    def read() -> tuple[SessionPage, int, int]:
        from store.read_models import first_window

        page, cursor = first_window(FIRST_WINDOW_ROWS)
        return page, cursor, FIRST_WINDOW_ROWS

    return read_in_thread(read, "first rows")


def open_app(
    settings: Settings,
    as_email: str | None,
    *,
    restricted: bool = False,
    kiosk_session: int | None = None,
) -> None:
    """Run the Textual app; imported only now so scripting commands never load Textual."""
    if kiosk_session is None:
        # Until its first frame (`tui.app` switches it on again), as in `main`.
        gc.disable()
    early = read_first_window() if as_email is None and kiosk_session is None else None
    from tui.app import run_app

    run_app(
        settings,
        as_email=as_email,
        restricted=restricted,
        kiosk_session=kiosk_session,
        first_window=early,
    )


def main() -> None:
    """Entry point of the `rollcall` console script."""
    if len(sys.argv) == 1:
        # No command: the app. Collecting garbage while it loads and builds its first
        # screen costs a tenth of its start, and nearly all it allocates lives as long
        # as the app: the app switches the collector on after its first frame.
        gc.disable()
    from cli import main as cli_main

    cli_main(obj=open_app)
