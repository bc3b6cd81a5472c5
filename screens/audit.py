"""The Audit area: who changed what, newest first, filtered by session, person and actor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Header, Input, Static

from screens.base import LiveScreen, Pager, add_columns, db_thread, post_latest
from screens.keymap import KEYMAP
from screens.messages import RuleRefused
from screens.widgets.foot import screen_foot
from store.errors import RollcallError

AUDIT_PAGE = 100
"""Audit rows per page."""


@dataclass(frozen=True)
class AuditFilter:
    """What the three filter boxes say (empty: any)."""

    session: str = ""
    person: str = ""
    actor: str = ""


def read_audit(where: AuditFilter, offset: int) -> tuple[list[dict[str, Any]], int]:
    """One page of audit rows for the filter, and how many rows match."""
    from store.access import audit_dict, audit_query
    from store.validate import positive_int

    session = positive_int(where.session, "session") if where.session.strip() else None
    query = audit_query(session=session, person=where.person, actor=where.actor)
    total = query.count()
    rows = [audit_dict(e) for e in query.limit(AUDIT_PAGE).offset(offset)]
    return rows, total


def _plain(value: object) -> Text:
    from store.printable import printable

    return Text(printable("" if value is None else value).replace("\n", " ")[:200])


class AuditScreen(LiveScreen):
    """Every change to the store, with its actor, and the values before and after."""

    BINDING_GROUP_TITLE = "Audit"
    BINDINGS = KEYMAP["audit"]
    RELOAD_ON = None
    """Every change shows in the log: read again on any."""

    @dataclass
    class Loaded(Message):
        """A page of the audit log was read."""

        rows: list[dict[str, Any]]
        total: int

    def __init__(self) -> None:
        super().__init__()
        self.pager = Pager(AUDIT_PAGE)
        self.where = AuditFilter()

    def compose(self) -> ComposeResult:
        """Three filter boxes, the summary, the table, the status line."""
        yield Header()
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="session id", id="audit-session", restrict=r"\d*")
            yield Input(placeholder="person email (ctrl+f picks)", id="audit-person")
            yield Input(placeholder="actor", id="audit-actor")
        yield Static("", id="audit-summary")
        yield DataTable(id="audit-table", cursor_type="row")
        yield from screen_foot()

    def on_mount(self) -> None:
        """Columns (the first page is read when the screen shows)."""
        table = self.query_one(DataTable)
        add_columns(table, "audit")
        table.focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="audit-read")
    def load(self) -> None:
        """Read the page at the current offset for the current filter."""
        try:
            with db_thread():
                rows, total = read_audit(self.where, self.pager.start)
        except RollcallError as exc:
            self.post_message(RuleRefused(str(exc)))
            return
        post_latest(self, self.Loaded(rows, total))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        self.pager.total = event.total
        table = self.query_one(DataTable)
        table.clear()
        for index, row in enumerate(event.rows):
            at = datetime.fromisoformat(row["at"]).astimezone(zone)
            change = f"{row['before'] or '-'} → {row['after'] or '-'}"
            table.add_row(
                f"{at:%Y-%m-%d %H:%M:%S}",
                _plain(row["actor"]),
                _plain(row["action"]),
                str(row["session_id"] or ""),
                _plain(row["person"] or ""),
                _plain(change),
                key=str(self.pager.start + index),
            )
        span = self.pager.span(len(event.rows))
        self.query_one("#audit-summary", Static).update(
            Text(f"Changes {span} (newest first; [ ] pages, / filters)")
        )

    @on(Input.Changed)
    def _filter_changed(self) -> None:
        self.where = AuditFilter(
            session=self.query_one("#audit-session", Input).value,
            person=self.query_one("#audit-person", Input).value,
            actor=self.query_one("#audit-actor", Input).value,
        )
        self.pager.start = 0
        self.load()

    @on(Input.Submitted)
    def _filter_done(self) -> None:
        self.query_one(DataTable).focus()

    def action_search(self) -> None:
        """Go to the filter boxes."""
        self.query_one("#audit-session", Input).focus()

    def action_pick_person(self) -> None:
        """Choose the person to filter by from the people list (name, email or department)."""
        from screens.people_picker import PeoplePicker

        def chosen(email: str | None) -> None:
            if email:
                # Setting the box filters through the same path as typing in it.
                self.query_one("#audit-person", Input).value = email
                self.query_one(DataTable).focus()

        self.app.push_screen(
            PeoplePicker(prompt="Changes about whom? Type a name, email or department"), chosen
        )

    def action_leave_filter(self) -> None:
        """Back from the filter boxes to the list."""
        self.query_one(DataTable).focus()

    def action_page(self, step: int) -> None:
        """The next or previous page."""
        if self.pager.turn(step):
            self.load()

    def action_reload(self) -> None:
        """Read the page again."""
        self.load()
