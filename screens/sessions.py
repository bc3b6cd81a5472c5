"""Calendar management: every session, filtered and searched, paged from the database."""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Label, Select
from textual.worker import get_current_worker

from screens.base import Refusal, RollcallScreen, db_thread, run_rule
from screens.keymap import KEYMAP
from screens.messages import DataChanged, Done
from screens.plain import plain
from screens.widgets.foot import screen_foot
from screens.widgets.paged_table import Cell, PagedTable
from screens.widgets.table_cursor import highlighted_key
from store.clock import utcnow
from store.date_search import DayRange
from store.db import Interrupted, Interruptible
from store.read_models import (
    NO_TRAINER,
    SessionPage,
    SessionRow,
    TrainerChoice,
    count_sessions,
    first_window,
    index_of_session,
    session_page,
    trainer_choices,
)

COUNT_AFTER_SECONDS = 0.15
"""How long a read waits, once its rows are shown, before it counts all the matches.

A count reads every matching row; while keys are being typed, each would be stopped by the
next key anyway, and meanwhile compete with that key's own read for the processor.
"""


def _still_wanted_after(seconds: float) -> bool:
    """Wait `seconds` in a worker thread; False as soon as a newer read has cancelled it."""
    worker = get_current_worker()
    until = time.monotonic() + seconds
    while not worker.is_cancelled and time.monotonic() < until:
        time.sleep(0.01)
    return not worker.is_cancelled


STATUS_LABELS = {
    "scheduled": "scheduled",
    "in_progress": "in progress",
    "completed": "completed",
    "cancelled": "cancelled",
}
TYPE_LABELS = {"in_person": "in person", "online": "online"}
TRAINER_ANSWERS = {"accepted": "✓", "tentative": "?", "declined": "✗"}
"""The trainer's calendar answer, shown before their name once they answered."""


class SessionsScreen(RollcallScreen):
    """All sessions with date, time, title, type, trainer, places, waitlist and status."""

    BINDING_GROUP_TITLE = "Sessions"
    BINDINGS = KEYMAP["sessions"]

    @dataclass
    class PageLoaded(Message):
        """A window of the list, read for one filter state (`generation`)."""

        page: SessionPage
        cursor: int
        generation: int

    @dataclass
    class TotalCounted(Message):
        """How many rows match, counted after the first window was shown."""

        total: int
        generation: int

    @dataclass
    class TrainersLoaded(Message):
        """The trainers for the filter."""

        trainers: list[TrainerChoice]

    def __init__(self) -> None:
        super().__init__()
        self.generation = 0
        """Bumped on every new read; answers to older reads are dropped."""
        self.shown_generation = 0
        """The read whose rows are on screen (benchmarks and tests wait for it)."""
        self.rows: dict[str, SessionRow] = {}
        self.stale = False
        self.dates: DayRange | None = None
        """The date filter (`w`), None for any date."""
        self._counting = Interruptible()

    def compose(self) -> ComposeResult:
        """Header, filter bar, the list, info and status lines, footer."""
        yield Header()
        with Horizontal(id="filters"):
            yield Input(placeholder="/ search title, place, date (3 Dec)", id="search")
        yield PagedTable(id="sessions")
        yield from screen_foot(Label("loading…", id="position"))

    def on_mount(self) -> None:
        """Columns, then the first window around today, then the trainers."""
        self._columns()
        if not self._show_ready_window():
            self.load(None, upcoming=True)
        self.call_after_refresh(self._add_filter_menus)
        self.query_one(PagedTable).focus()

    def _add_filter_menus(self) -> None:
        """The trainer and status menus, and the trainers to fill the first.

        They come after the first frame: each menu is several widgets, and with the
        trainers read they would delay the first rows by a tenth of the start.
        """
        self.query_one("#filters").mount(
            Select[int]([], prompt="All trainers", id="trainer-filter", allow_blank=True),
            Select[str](
                [(label, key) for key, label in STATUS_LABELS.items()],
                prompt="Any status",
                id="status-filter",
            ),
        )
        self.load_trainers()

    def _menu(self, selector: str) -> Select[Any] | None:
        """The filter menu `selector` once it is mounted (after the first frame)."""
        return next(iter(self.query(selector).results(Select)), None)

    def on_screen_resume(self) -> None:
        """Reload if another screen changed sessions while this one was hidden."""
        if self.stale:
            self.stale = False
            self.reload()

    @on(DataChanged)
    def _changed(self, event: DataChanged) -> None:
        if event.what == "sessions":
            self.stale = True

    # Loading ------------------------------------------------------------

    def _filters(self) -> dict[str, Any]:
        menus = self._menu("#trainer-filter"), self._menu("#status-filter")
        trainer, status = (None if menu is None else menu.value for menu in menus)
        start_from, start_before = (
            self.dates.bounds(self.app.settings.zone)  # type: ignore[attr-defined]
            if self.dates is not None
            else (None, None)
        )
        return {
            "search": self.query_one("#search", Input).value,
            "trainer_id": trainer if isinstance(trainer, int) else None,
            "status": status if isinstance(status, str) else None,
            "start_from": start_from,
            "start_before": start_before,
        }

    def load(
        self, cursor: int | None, *, upcoming: bool = False, session_id: int | None = None
    ) -> None:
        """Read the window around absolute row `cursor` (or today, or a session)."""
        self.generation += 1
        size = self.query_one(PagedTable).page_size
        self._load(self.generation, self._filters(), cursor, upcoming, session_id, size)
        # A count still running for an older read is of no use now: stop it.
        self._counting.interrupt(before=self.generation)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions-load")
    def _load(
        self,
        generation: int,
        filters: dict[str, Any],
        cursor: int | None,
        upcoming: bool,
        session_id: int | None,
        size: int,
    ) -> None:
        now = utcnow()
        with db_thread():
            if session_id is not None:
                found = index_of_session(session_id, now=now, **filters)
                cursor = found if found is not None else cursor
            if upcoming and not any(filters.values()):
                page, cursor = self._first_window(size, now)
            else:
                cursor = cursor or 0
                offset = max(0, cursor - size // 3)
                # A window at the top needs no count to be placed: show it first and
                # count afterwards, so a search keystroke waits only for its rows.
                page = session_page(offset=offset, limit=size, now=now, count=offset > 0, **filters)
            if not page.exact:
                if get_current_worker().is_cancelled:
                    return
                self.post_message(self.PageLoaded(page, cursor, generation))
                if not _still_wanted_after(COUNT_AFTER_SECONDS):
                    return  # a newer read (the next key typed) replaces this one
                try:
                    with self._counting.running(generation):
                        total = count_sessions(now=now, **filters)
                except Interrupted:
                    return  # stopped: a newer read replaces this one
                if not get_current_worker().is_cancelled:
                    self.post_message(self.TotalCounted(total, generation))
                return
            if page.total and cursor >= page.total:
                cursor = page.total - 1
                page = session_page(
                    offset=max(0, cursor - size // 3), limit=size, now=now, **filters
                )
        if not get_current_worker().is_cancelled:
            self.post_message(self.PageLoaded(page, cursor, generation))

    def _show_ready_window(self) -> bool:
        """Show the first window at once when it was read while the app started (no wait).

        The rows are then in the screen's first frame instead of a frame after it.
        """
        early: Future[tuple[SessionPage, int, int]] | None = getattr(self.app, "first_window", None)
        if early is None or not early.done() or early.exception() is not None:
            return False
        page, cursor, rows = early.result()
        if rows != self.query_one(PagedTable).page_size or not page.exact:
            return False
        self.app.first_window = None  # type: ignore[attr-defined]
        self.generation += 1
        self._show(self.PageLoaded(page, cursor, self.generation))
        return True

    def _first_window(self, size: int, now: datetime) -> tuple[SessionPage, int]:
        """The window around the first session not ended; read while the app started, if it was."""
        early: Future[tuple[SessionPage, int, int]] | None = getattr(self.app, "first_window", None)
        if early is not None:
            self.app.first_window = None  # type: ignore[attr-defined]
            try:
                page, cursor, rows = early.result()
            except Exception:  # noqa: BLE001 - read again below, where a failure is reported
                rows = 0
            if rows == size:
                return page, cursor
        return first_window(size, now)

    @on(PageLoaded)
    def _show(self, event: PageLoaded) -> None:
        if event.generation != self.generation:
            return
        self.shown_generation = event.generation
        table = self.query_one(PagedTable)
        self.rows = {str(r.id): r for r in event.page.rows}
        now = utcnow()
        table.show_page(
            event.page.offset,
            [(str(r.id), self._cells(r, now)) for r in event.page.rows],
            event.page.total,
            event.cursor,
            exact=event.page.exact,
        )
        self._position()

    @on(TotalCounted)
    def _counted(self, event: TotalCounted) -> None:
        if event.generation != self.generation:
            return
        self.query_one(PagedTable).set_total(event.total)
        self._position()

    @on(PagedTable.PageWanted)
    def _page_wanted(self, event: PagedTable.PageWanted) -> None:
        self.load(event.index)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sessions-trainers")
    def load_trainers(self) -> None:
        """Read the trainers for the filter."""
        with db_thread():
            trainers = trainer_choices(active_only=False, count_upcoming=False)
        self.post_message(self.TrainersLoaded(trainers))

    @on(TrainersLoaded)
    def _trainers(self, event: TrainersLoaded) -> None:
        select = self.query_one("#trainer-filter", Select)
        current = select.value
        options = [("— no trainer", NO_TRAINER)] + [(t.name, t.id) for t in event.trainers]
        select.set_options(options)
        if isinstance(current, int) and any(value == current for _, value in options):
            select.value = current

    def reload(self) -> None:
        """Read the current window again, keeping the cursor on its session."""
        table = self.query_one(PagedTable)
        key = self.current_id()
        self.load(table.absolute_row, session_id=key)

    # Rendering ------------------------------------------------------------

    def _columns(self) -> None:
        table = self.query_one(PagedTable)
        table.clear(columns=True)
        wide = self.app.size.width >= 110
        table.add_column("Date", key="date", width=15 if wide else 9)
        table.add_column("Time", key="time", width=5)
        table.add_column("Title", key="title", width=29 if wide else 14)
        table.add_column("Where", key="where", width=14 if wide else 6)
        table.add_column("Trainer", key="trainer", width=14 if wide else 8)
        table.add_column("Booked", key="booked", width=10 if wide else 8)
        table.add_column("Wait", key="wait", width=4)
        table.add_column("Status", key="status", width=11 if wide else 9)
        self.wide = wide

    def _cells(self, row: SessionRow, now: datetime) -> list[Cell]:
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        start = row.start.astimezone(zone)
        past = row.end <= now or row.status in ("completed", "cancelled")
        style = "dim" if past else ""
        if row.status == "cancelled":
            style = "dim strike"
        cap = "∞" if row.max_attendees is None else str(row.max_attendees)
        booked = Text(f"{row.taken}/{cap}", style=style)
        if row.full:
            booked.append(" full" if self.wide else "●", style="bold" if not past else "")
        trainer = row.trainer if self.wide else (row.trainer.split(" ")[0] if row.trainer else "")
        answer = TRAINER_ANSWERS.get(row.trainer_calendar, "")
        if trainer and answer:
            trainer = f"{answer} {trainer}"
        return [
            Text(f"{start:%a %d %b %Y}" if self.wide else f"{start:%d %b %y}", style=style),
            Text(f"{start:%H:%M}", style=style),
            plain(row.title, style),
            plain(row.place or TYPE_LABELS.get(row.type, row.type), style),
            plain(
                trainer or "—",
                "bold red" if row.trainer_calendar == "declined" and not past else style,
            ),
            booked,
            Text(str(row.waitlisted) if row.waitlisted else "", style=style),
            Text(STATUS_LABELS.get(row.status, row.status), style=style),
        ]

    def on_resize(self) -> None:
        """Switch between the narrow and the wide columns."""
        if getattr(self, "wide", None) is None:
            return
        if (self.app.size.width >= 110) != self.wide:
            table = self.query_one(PagedTable)
            cursor, offset, total = table.absolute_row, table.window_start, table.total
            exact = table.total_exact
            self._columns()
            now = utcnow()
            table.show_page(
                offset,
                [(k, self._cells(r, now)) for k, r in self.rows.items()],
                total,
                cursor,
                exact=exact,
            )

    def _position(self) -> None:
        """The row's position under the list; and the keys, which depend on that row."""
        self.refresh_bindings()
        table = self.query_one(PagedTable)
        text = table.position_text()
        filters = self._filters()
        if self.dates is not None:
            text += f" · {self.dates.label}"
        if any(filters.values()):
            text += " (filtered)"
        label = self.query_one("#position", Label)
        shown = str(label.content)
        if text != shown:
            # The label is as wide as its text: only a new width moves what follows it, so
            # only then is the screen laid out again (a keystroke changed the text twice).
            label.update(text, layout=cell_len(text) != cell_len(shown))

    @on(DataTable.RowHighlighted, "#sessions")
    def _highlighted(self) -> None:
        self._position()

    # Actions ------------------------------------------------------------

    def current_id(self) -> int | None:
        """The id of the highlighted session, if any."""
        key = highlighted_key(self.query_one(PagedTable))
        return int(key) if key else None

    def current_row(self) -> SessionRow | None:
        """The highlighted session's row."""
        sid = self.current_id()
        return self.rows.get(str(sid)) if sid is not None else None

    ROLE_ACTIONS: ClassVar[dict[str, str]] = {
        "new": "session.create",
        "edit": "session.edit",
        "cancel_session": "session.cancel",
        "delete": "session.delete",
    }

    def why_not(self, action: str) -> str | None:
        """Session keys need a session highlighted, one still open, and (delete) no one on it."""
        refused = super().why_not(action)
        if refused or action not in ("edit", "cancel_session", "delete"):
            return refused
        row = self.current_row() if self.is_mounted else None
        if row is None:
            return "highlight a session first"
        if action in ("edit", "cancel_session") and row.status == "cancelled":
            return "the session is cancelled"
        if action == "delete" and (row.taken or row.waitlisted):
            people = row.taken + row.waitlisted
            return (
                f"{people} {'person is' if people == 1 else 'people are'} on it: "
                "cancel it instead (c), everyone is told"
            )
        return None

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one("#search", Input).focus()

    def action_focus_trainer(self) -> None:
        """Focus the trainer filter."""
        self.query_one("#trainer-filter", Select).focus()

    def action_focus_status(self) -> None:
        """Focus the status filter."""
        self.query_one("#status-filter", Select).focus()

    def action_pick_dates(self) -> None:
        """Filter by start date: this week, next week, this month, or from–to."""
        from screens.date_filter import DateFilterModal

        zone = self.app.settings.zone  # type: ignore[attr-defined]
        today = utcnow().astimezone(zone).date()

        def picked(chosen: DayRange | None) -> None:
            if chosen is None:
                return
            self.dates = chosen if chosen.first or chosen.last else None
            self.load(0, upcoming=True)

        self.app.push_screen(DateFilterModal(today, self.dates), picked)

    def action_import_attendance(self) -> None:
        """Import attendance marks from a CSV file, after a preview by line."""
        from screens.attendance_import import AttendanceImportModal

        def imported(done: bool | None) -> None:
            if done:
                self.reload()

        self.app.push_screen(AttendanceImportModal(), imported)

    def action_reload(self) -> None:
        """Read the list again."""
        self.reload()
        self.load_trainers()

    def action_clear(self) -> None:
        """Escape: leave the search box, or clear the search and filters."""
        search = self.query_one("#search", Input)
        table = self.query_one(PagedTable)
        if self.focused is not table:
            table.focus()
            return
        if any(self._filters().values()):
            search.value = ""
            self.dates = None
            self.query_one("#trainer-filter", Select).clear()
            self.query_one("#status-filter", Select).clear()
            self.load(None, upcoming=True)

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.load(0)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.query_one(PagedTable).focus()

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self.is_mounted:
            self.load(0)

    @on(DataTable.RowSelected, "#sessions")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.open_session(int(event.row_key.value))

    def open_session(self, session_id: int) -> None:
        """Show the session page."""
        from screens.session import SessionScreen

        self.app.push_screen(SessionScreen(session_id), lambda _: self.reload())

    def action_new(self) -> None:
        """Open the form for a new session."""
        from screens.session_form import SessionForm

        self.app.push_screen(SessionForm(), self._saved)

    def action_edit(self) -> None:
        """Open the form on the highlighted session."""
        from screens.session_form import SessionForm

        sid = self.current_id()
        if sid is not None:
            self.app.push_screen(SessionForm(sid), self._saved)

    def _saved(self, session_id: int | None) -> None:
        if session_id is not None:
            self.load(self.query_one(PagedTable).absolute_row, session_id=session_id)
            self.load_trainers()

    def action_cancel_session(self) -> None:
        """Cancel the highlighted session; asks for the reason."""
        from screens.dialogs import TextModal

        row = self.current_row()
        if row is None:
            return

        def reason_given(reason: str | None) -> None:
            if reason:
                self._cancel(row.id, reason, _name(row))

        self.app.push_screen(
            TextModal(
                f"Cancel “{row.title}”? Everyone booked is told, with this reason:",
                placeholder="reason (required)",
            ),
            reason_given,
        )

    @work(thread=True, exit_on_error=False, group="sessions-write")
    def _cancel(self, session_id: int, reason: str, name: str) -> None:
        from store.sessions import cancel_session

        if run_rule(self, lambda: cancel_session(session_id, reason)) is Refusal.REFUSED:
            return
        self.post_message(Done(f"Cancelled: {name}"))

    def action_delete(self) -> None:
        """Delete the highlighted session (the rule refuses one with enrolments)."""
        from screens.dialogs import confirm

        row = self.current_row()
        if row is not None:
            confirm(
                self,
                f"Delete “{row.title}” for good?",
                "Delete",
                lambda: self._delete(row.id, _name(row)),
                danger=True,
            )

    @work(thread=True, exit_on_error=False, group="sessions-write")
    def _delete(self, session_id: int, name: str) -> None:
        from store.sessions import delete_session

        if run_rule(self, lambda: delete_session(session_id)) is Refusal.REFUSED:
            return
        self.post_message(Done(f"Deleted: {name}"))


def _name(row: SessionRow) -> str:
    """The session as a toast names it: "Fire Safety, Thu 3 Dec 2026 09:30", never its id."""
    from store.session_input import session_name

    return session_name(row.title, row.start)
