"""What every rollcall screen shares: database access from workers and error reporting."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

from textual import on
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from store.db import database
from tui.messages import RuleRefused


@contextlib.contextmanager
def db_thread() -> Iterator[None]:
    """Open this worker thread's own connection and close it when the work is done.

    Peewee keeps one connection per thread, so each thread worker connects to the
    same file or server lazily and must not leave its connection behind.
    """
    with database.connection_context():
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
