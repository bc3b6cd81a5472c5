"""What every rollcall screen shares: database access from workers and error reporting."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

from textual import on
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input
from textual.worker import Worker, WorkerState

from screens.messages import RuleRefused
from store.db import database


@contextlib.contextmanager
def db_thread() -> Iterator[None]:
    """Make sure this worker thread has its own connection, and keep it for the next job.

    Peewee keeps one connection per thread. Textual runs thread workers on a small
    reused pool, so each pool thread connects once, lazily, and keeps its
    connection (and SQLite's page cache: a fresh connection would re-read the
    file on every keystroke of a search).
    """
    if database.is_closed():
        database.connect(reuse_if_open=True)
    yield


def report_worker_failure(screen: Screen[Any], event: Worker.StateChanged) -> None:
    """Show an unexpected worker failure as a notification instead of ending the app."""
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    name = event.worker.name or "background work"
    screen.app.notify(
        f"{name} failed: {type(error).__name__}: {error}", severity="error", timeout=10
    )


class RollcallScreen(Screen[None]):
    """A full screen of the app: worker failures and rule refusals become notifications."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures on this screen are reported."""
        report_worker_failure(self, event)

    @on(RuleRefused)
    def _refused(self, event: RuleRefused) -> None:
        self.notify(event.message, title="Refused", severity="error", timeout=8)


T = TypeVar("T")


class RollcallModal(ModalScreen[T]):
    """A modal of the app with the same failure reporting."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report worker failures of the modal."""
        report_worker_failure(self, event)


class SearchListScreen(RollcallScreen):
    """A list screen with one search box: `/` types in it, escape steps back out."""

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one(Input).focus()

    def action_clear(self) -> None:
        """Leave the search box, or clear the search."""
        table = self.query_one(DataTable)
        if self.focused is not table:
            table.focus()
        elif self.query_one(Input).value:
            self.query_one(Input).value = ""
