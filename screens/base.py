"""What every rollcall screen shares: database access from workers and error reporting."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.events import ScreenResume, ScreenSuspend
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Input
from textual.worker import Worker, WorkerState, get_current_worker

from screens.columns import COLUMNS, Column
from screens.messages import DataChanged, Done, RuleRefused, StatusUpdate
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


@dataclass
class Pager:
    """Which page of a long log a screen shows: the first row's offset and the rows in all."""

    size: int
    """Rows a page holds."""
    start: int = 0
    total: int = 0

    def turn(self, step: int) -> bool:
        """Move `step` pages (never before the first row); False, staying put, past the last."""
        offset = max(0, self.start + step * self.size)
        if offset >= self.total and step > 0:
            return False
        self.start = offset
        return True

    def span(self, shown: int) -> str:
        """Which rows a page of `shown` rows holds, e.g. "101–200 of 345"."""
        first = self.start + 1 if shown else 0
        return f"{first}–{self.start + shown} of {self.total}"


def add_columns(table: DataTable[Any], columns: Sequence[Column] | str) -> None:
    """Give `table` its columns: a list, or the name of one in `screens.columns.COLUMNS`."""
    if isinstance(columns, str):
        columns = COLUMNS[columns]
    for title, key, width in columns:
        table.add_column(title, key=key, width=width)


def post_latest(poster: MessagePump, message: Message) -> None:
    """Post what this worker read, unless a newer read replaced it (exclusive workers).

    A cancelled thread worker still runs to its end; posting its rows could show
    an older read after the newer one.
    """
    if not get_current_worker().is_cancelled:
        poster.post_message(message)


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


def report_worker_failure(app: App[Any], event: Worker.StateChanged) -> None:
    """Show an unexpected worker failure as a notification instead of ending the app.

    It takes the app, not a screen: a worker may end after the last screen has closed.

    A storage failure (disk full, read-only or locked database) also goes to the
    status line, in one plain line: the change was not saved, nothing half-written.
    """
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    name = event.worker.name or "background work"
    storage = as_storage_error(error) if error is not None else None
    if storage is not None:
        app.post_message(StatusUpdate(str(storage), error=True))
        app.notify(str(storage), title="Database", severity="error", timeout=10)
        return
    app.notify(f"{name} failed: {type(error).__name__}: {error}", severity="error", timeout=10)


class ExplainsKeys:
    """A screen or modal whose switched-off keys say why.

    `why_not` is the one place a screen decides that an action cannot run now;
    its key is then greyed out in the footer and the help, and pressing it shows
    the reason (the app asks `why_not` when a key's action is switched off)
    instead of doing nothing. `ROLE_ACTIONS` names the store permission each
    action needs, so a role without it sees the key greyed out with the reason.
    """

    ROLE_ACTIONS: ClassVar[dict[str, str]] = {}
    """Action name -> the permission of `store.access.require` it needs."""

    def trains_current(self) -> bool:
        """Whether the person using the app trains the session the keys concern."""
        return False

    def why_not(self, action: str) -> str | None:
        """Why `action` cannot run now, as a sentence, or None when it can."""
        permission = self.ROLE_ACTIONS.get(action)
        if permission is None:
            return None
        from store.access import role_refusal

        return role_refusal(permission, trains=self.trains_current())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out (None) what `why_not` refuses."""
        return None if self.why_not(action) is not None else True


class RollcallScreen(ExplainsKeys, Screen[None]):
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
        report_worker_failure(self.app, event)

    @on(RuleRefused)
    def _refused(self, event: RuleRefused) -> None:
        self.notify(refusal_text(event), title="Refused", severity="error", timeout=8)

    @on(Done)
    def _rule_done(self, event: Done) -> None:
        if event.text:
            self.notify(event.text)
        self.action_reload()

    def action_reload(self) -> None:
        """Read the screen's data again (after `Done`, or on its reload key)."""


class LiveScreen(RollcallScreen):
    """A screen that reads its data when it shows, and again when that data changes."""

    RELOAD_ON: ClassVar[frozenset[str] | None] = frozenset({"sessions", "mail"})
    """The `DataChanged` topics that make the screen read again (None: every change)."""

    def on_screen_resume(self) -> None:
        """Read when the screen shows (first time included) and on coming back to it."""
        self.action_reload()

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        if self.RELOAD_ON is None or event.what in self.RELOAD_ON:
            self.action_reload()

    def action_reload(self) -> None:
        """Read again now."""
        raise NotImplementedError


TYPE_AHEAD_SAFE: list[BindingType] = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="focus-next"),
    Binding(
        "shift+tab", "app.focus_previous", "Previous field", show=False, priority=True,
        id="focus-previous",
    ),
]  # fmt: skip
"""Tab and shift+tab as priority bindings, so a burst of keys keeps its order.

The app reads keys one by one and hands each to the focused widget's own
queue. A plain Tab binding only runs once the focused input has worked
through its queue, after the app has already handed it the keys typed after
Tab. So over a slow link ``abc⇥def`` all landed in the first field. A
priority binding moves the focus while the app reads the Tab, before it reads
the next key.
"""


class RollcallModal(ExplainsKeys, ModalScreen[T]):
    """A modal of the app with the same failure reporting; Tab moves focus at once."""

    BINDINGS = TYPE_AHEAD_SAFE

    def action_abandon(self) -> None:
        """Close without an answer (escape): the filter, choice or text stays as it was."""
        self.dismiss(None)

    async def keys_settled(self) -> None:
        """Wait until every field has handled the keys the app already gave it.

        A priority binding (ctrl+s) runs as the app reads its key, while keys
        typed just before it may still wait in a field's queue; reading the
        fields now would save a half-typed form. A callback queued behind those
        keys in each field's queue tells when they are through.
        """
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[None]] = []
        for widget in self.query("*"):
            if widget.can_focus:
                done: asyncio.Future[None] = loop.create_future()
                if widget.call_later(_resolve, done):
                    waits.append(done)
        if waits:
            await asyncio.wait(waits, timeout=2)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Report worker failures of the modal."""
        report_worker_failure(self.app, event)


def _resolve(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


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
