"""What every rollcall screen shares: database access from workers and error reporting."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from enum import Enum
from typing import Any, TypeVar

from textual import on
from textual.events import ScreenResume, ScreenSuspend
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input
from textual.worker import Worker, WorkerState

from screens.messages import RuleRefused, StatusUpdate
from store.db import as_storage_error, database
from store.errors import RollcallError


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


T = TypeVar("T")


class Refusal(Enum):
    """What `run_rule` returns when the rule refused (the reason went to the screen)."""

    REFUSED = "refused"


def run_rule(
    poster: MessagePump,
    call: Callable[[], T],
    refused: Callable[[str, str | None], Message] = RuleRefused,
) -> T | Refusal:
    """Run a store rule in this worker thread; a refusal is posted to `poster` as a message.

    Returns the rule's result, or `Refusal.REFUSED` when the rule raised a
    `RollcallError` (posted as `refused(message, field)`, by default `RuleRefused`,
    which every rollcall screen shows as a notification).
    """
    try:
        with db_thread():
            return call()
    except RollcallError as exc:
        poster.post_message(refused(exc.message, exc.field))
        return Refusal.REFUSED


def refusal_text(event: RuleRefused) -> str:
    """The refusal as a person reads it, naming the field it concerns."""
    if event.field and not event.message.startswith(event.field):
        return f"{event.field}: {event.message}"
    return event.message


def report_worker_failure(screen: Screen[Any], event: Worker.StateChanged) -> None:
    """Show an unexpected worker failure as a notification instead of ending the app.

    A storage failure (disk full, read-only or locked database) also goes to the
    status line, in one plain line: the change was not saved, nothing half-written.
    """
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    name = event.worker.name or "background work"
    storage = as_storage_error(error) if error is not None else None
    if storage is not None:
        screen.app.post_message(StatusUpdate(str(storage), error=True))
        screen.app.notify(str(storage), title="Database", severity="error", timeout=10)
        return
    screen.app.notify(
        f"{name} failed: {type(error).__name__}: {error}", severity="error", timeout=10
    )


class RollcallScreen(Screen[None]):
    """A full screen of the app: worker failures and rule refusals become notifications."""

    shown_before = False
    """True once the screen has been covered or left (it then restyles when shown again)."""

    @on(ScreenResume)
    def _skip_fresh_restyle(self, event: ScreenResume) -> None:
        """Skip restyling a screen that has only just been styled by its mount."""
        # Textual restyles every widget of a screen each time it is resumed: for a new
        # screen that repeats what its mount just did, and a new mode's screen is resumed
        # twice. Runs before Textual's own handler (subclass handlers come first).
        if not self.shown_before:
            event.refresh_styles = False

    @on(ScreenSuspend)
    def _shown_before(self) -> None:
        """From now on, being shown again restyles the screen."""
        self.shown_before = True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures on this screen are reported."""
        report_worker_failure(self, event)

    @on(RuleRefused)
    def _refused(self, event: RuleRefused) -> None:
        self.notify(refusal_text(event), title="Refused", severity="error", timeout=8)


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
