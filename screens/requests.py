"""The Requests area: bookings waiting for a manager's approval, approved or declined with a key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Header, Static

from screens.base import LiveScreen, Refusal, add_columns, post_latest, run_rule
from screens.dialogs import TextModal
from screens.keymap import KEYMAP
from screens.messages import DataChanged
from screens.widgets.foot import screen_foot


@dataclass(frozen=True)
class RequestLine:
    """One pending request as the table shows it."""

    session_id: int
    title: str
    start: datetime
    learner: str
    learner_email: str
    manager: str
    requested_at: datetime


def read_requests(manager: str | None) -> list[RequestLine]:
    """Pending requests, oldest first (one manager's team, or all for an admin)."""
    from store.approvals import pending_requests

    return [
        RequestLine(
            r.session_id,
            r.session.title,
            r.session.start,
            r.learner.name,
            r.learner.email,
            r.manager.email if r.manager_id else "",
            r.requested_at,
        )
        for r in pending_requests(manager)
    ]


class RequestsScreen(LiveScreen):
    """Requests: `a` approves, `d` declines (each with an optional note for the learner)."""

    BINDING_GROUP_TITLE = "Requests"
    DEFAULT_CSS = """
    RequestsScreen DataTable { height: 1fr; }
    """
    BINDINGS = KEYMAP["requests"]

    @dataclass
    class Loaded(Message):
        """The pending requests as read now."""

        lines: list[RequestLine]

    @dataclass
    class Decided(Message):
        """A decision went through (empty text: it was refused)."""

        text: str

    def __init__(self, manager: str | None = None) -> None:
        super().__init__()
        if manager is None:
            from store.access import current_actor

            actor = current_actor()
            # A manager who opens the area sees their own team's requests.
            manager = actor.name if actor.role == "manager" else None
        self.manager = manager
        """The manager whose team's requests are shown; None for an admin (all of them)."""
        self.lines: list[RequestLine] = []

    def compose(self) -> ComposeResult:
        """Summary, table, status line, footer."""
        yield Header()
        yield Static("", id="requests-summary")
        yield DataTable(id="requests-table", cursor_type="row", zebra_stripes=True)
        yield from screen_foot()

    def on_mount(self) -> None:
        """Columns and the first read."""
        table = self.query_one(DataTable)
        add_columns(table, "requests")
        table.focus()

    def action_reload(self) -> None:
        """Read the pending requests again."""
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="requests-load")
    def load(self) -> None:
        """Read in a thread."""
        lines = run_rule(self, lambda: read_requests(self.manager))
        if lines is not Refusal.REFUSED:
            post_latest(self, self.Loaded(lines))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear()
        self.lines = event.lines
        for line in event.lines:
            table.add_row(
                f"{line.start.astimezone(zone):%a %d %b %H:%M}",
                Text(line.title),
                Text(line.learner),
                Text(line.manager),
                f"{line.requested_at.astimezone(zone):%d %b %H:%M}",
                key=f"{line.session_id}:{line.learner_email}",
            )
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1), animate=False)
        whose = f"the team of {self.manager}" if self.manager else "everyone"
        self.query_one("#requests-summary", Static).update(
            Text(f"{len(event.lines)} waiting for approval ({whose}); a approves, d declines")
        )

    def _current(self) -> RequestLine | None:
        table = self.query_one(DataTable)
        if not self.lines or not 0 <= table.cursor_row < len(self.lines):
            return None
        return self.lines[table.cursor_row]

    def action_decide(self, what: str) -> None:
        """Ask for an optional note, then approve or decline the highlighted request."""
        line = self._current()
        if line is None:
            self.notify("No request is waiting.", severity="warning")
            return
        prompt = f"{what.capitalize()} {line.learner} on {line.title}? A note for them (optional):"

        def answered(note: str | None) -> None:
            if note is not None:
                self.decide(what, line, note)

        self.app.push_screen(TextModal(prompt, required=False), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="requests-write")
    def decide(self, what: str, line: RequestLine, note: str) -> None:
        """Run the decision in a thread."""
        from store import approvals

        rule = approvals.approve if what == "approve" else approvals.decline
        result = run_rule(
            self, lambda: rule(line.session_id, line.learner_email, by=self.manager, note=note)
        )
        if result is Refusal.REFUSED:
            self.post_message(self.Decided(""))
            return
        text = f"{line.learner}: {result.request.status} ({result.status})"
        self.post_message(self.Decided(text))

    @on(Decided)
    def _decided(self, event: Decided) -> None:
        if event.text:
            self.notify(event.text)
            self.app.post_message(DataChanged("sessions"))
        self.load()
