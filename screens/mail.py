"""The Mail area: the outbox (what is being sent) and the inbox log (what replies did)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from screens.base import (
    LiveScreen,
    Pager,
    Refusal,
    add_columns,
    db_thread,
    post_latest,
    run_rule,
)
from screens.keymap import KEYMAP
from screens.plain import plain as literal
from screens.widgets.foot import screen_foot

OUTBOX_ROWS = 200
"""Newest outbox rows shown; `mail outbox` on the command line lists them all."""
INBOX_PAGE = 100
"""Inbound log entries per page."""
FILTERS: tuple[str | None, ...] = (None, "pending", "sending", "sent", "failed")
"""What `f` cycles through."""
OUTCOMES = {"applied": "applied", "ignored": "ignored", "recorded": "recorded"}


def plain(value: object, limit: int = 200) -> Text:
    """Text as typed by a stranger, shown literally and cut to `limit` characters."""
    return literal(value, limit=limit)


@dataclass(frozen=True)
class OutboxLine:
    """One outbox row as the table shows it."""

    id: int
    status: str
    recipient: str
    subject: str
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class InboxLine:
    """One inbound log entry as the table shows it."""

    id: int
    received_at: datetime | None
    sender: str
    outcome: str
    reason: str | None
    session_id: int | None
    email: str | None
    calendar: str | None
    method: str | None
    comment: str | None


def read_outbox(status: str | None) -> tuple[list[OutboxLine], dict[str, int]]:
    """The newest outbox rows (of one status) and the count per status."""
    from mail.compose import subject_for
    from store.outbox import counts, outbox_query

    lines = []
    for row in outbox_query(status, OUTBOX_ROWS):
        subject = row.subject
        if not subject:
            try:
                subject = subject_for(json.loads(row.payload))
            except Exception:  # noqa: BLE001 - an odd payload must not hide the row
                subject = row.kind
        lines.append(
            OutboxLine(
                row.id,
                row.status,
                row.recipient,
                subject,
                row.attempts,
                row.last_error,
                row.sent_at,
            )
        )
    return lines, counts()


def read_inbox(offset: int) -> tuple[list[InboxLine], int]:
    """One page of the inbound log, newest first, and how many entries there are."""
    from store.rsvp import inbound_count, inbound_log

    lines = [
        InboxLine(
            entry.id,
            entry.received_at,
            entry.from_address,
            entry.outcome,
            entry.reason,
            entry.session_id,
            entry.email,
            entry.calendar,
            entry.method,
            entry.comment,
        )
        for entry in inbound_log(INBOX_PAGE, offset)
    ]
    return lines, inbound_count()


class MailScreen(LiveScreen):
    """Outbox and inbox: `s` sends now, `r` retries failed mail, `f` filters by status."""

    BINDING_GROUP_TITLE = "Mail"
    DEFAULT_CSS = """
    MailScreen TabbedContent, MailScreen TabPane { height: 1fr; }
    MailScreen DataTable { height: 1fr; }
    """
    BINDINGS = KEYMAP["mail"]

    @dataclass
    class OutboxLoaded(Message):
        """The outbox as read now."""

        lines: list[OutboxLine]
        counts: dict[str, int]

    @dataclass
    class InboxLoaded(Message):
        """A page of the inbound log."""

        lines: list[InboxLine]
        total: int

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.inbox_page = Pager(INBOX_PAGE)
        """The page of the inbound log on show."""

    def compose(self) -> ComposeResult:
        """Two tabs, the status line and the footer."""
        yield Header()
        with TabbedContent(initial="outbox"):
            with TabPane("Outbox", id="outbox"):
                yield Static("", id="outbox-summary")
                yield DataTable(id="outbox-table", cursor_type="row")
            with TabPane("Inbox", id="inbox"):
                yield Static("", id="inbox-summary")
                yield DataTable(id="inbox-table", cursor_type="row")
        yield from screen_foot()

    def on_mount(self) -> None:
        """Columns (both lists are read when the screen shows)."""
        outbox = self.query_one("#outbox-table", DataTable)
        add_columns(outbox, "outbox")
        add_columns(self.query_one("#inbox-table", DataTable), "inbox")
        outbox.focus()

    # Reading ------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail-outbox")
    def load_outbox(self) -> None:
        """Read the outbox."""
        with db_thread():
            lines, counts = read_outbox(self.status_filter)
        post_latest(self, self.OutboxLoaded(lines, counts))

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail-inbox")
    def load_inbox(self) -> None:
        """Read one page of the inbound log."""
        with db_thread():
            lines, total = read_inbox(self.inbox_page.start)
        post_latest(self, self.InboxLoaded(lines, total))

    @on(OutboxLoaded)
    def _outbox_loaded(self, event: OutboxLoaded) -> None:
        from mail.health import MailHealth, why_waiting

        zone = self.app.settings.zone  # type: ignore[attr-defined]
        health = getattr(self.app, "mail_health", None) or MailHealth()
        table = self.query_one("#outbox-table", DataTable)
        cursor = table.cursor_row
        table.clear()
        for line in event.lines:
            table.add_row(
                Text(line.status, style="bold red" if line.status == "failed" else ""),
                plain(line.recipient),
                plain(line.subject),
                str(line.attempts),
                plain(why_waiting(line.status, line.last_error, health)),
                _when(line.sent_at, zone),
                key=str(line.id),
            )
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
        shown = self.status_filter or "all"
        counts = " · ".join(f"{n} {status}" for status, n in event.counts.items())
        self.query_one("#outbox-summary", Static).update(
            Text(f"Showing {shown} (newest {len(event.lines)}; f filters) — {counts}")
        )

    @on(InboxLoaded)
    def _inbox_loaded(self, event: InboxLoaded) -> None:
        zone = self.app.settings.zone  # type: ignore[attr-defined]
        self.inbox_page.total = event.total
        table = self.query_one("#inbox-table", DataTable)
        table.clear()
        for line in event.lines:
            outcome = line.outcome
            if line.method and line.method.upper() in ("COUNTER", "DECLINECOUNTER"):
                outcome = f"{outcome} {line.method.upper()}"
            style = {"applied": "green", "recorded": "yellow"}.get(line.outcome, "dim")
            table.add_row(
                _when(line.received_at, zone),
                plain(line.sender),
                Text(outcome, style=style),
                plain(line.reason or ""),
                str(line.session_id or ""),
                plain(line.email or ""),
                plain(line.calendar or ""),
                plain(line.comment or ""),
                key=str(line.id),
            )
        span = self.inbox_page.span(len(event.lines))
        self.query_one("#inbox-summary", Static).update(
            Text(f"Replies {span} (newest first; [ ] pages)")
        )

    # Actions ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Paging belongs to the inbox, filtering and retrying to the outbox."""
        tabs = self.query(TabbedContent)
        tab = tabs.first().active if tabs else "outbox"
        # Keys of the other tab are hidden, not greyed: they never apply here.
        if action == "page":
            return tab == "inbox"
        if action in ("filter", "retry_failed"):
            return tab == "outbox"
        return True

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.refresh_bindings()

    def action_tab(self, name: str) -> None:
        """Show the outbox or the inbox."""
        self.query_one(TabbedContent).active = name
        self.query_one(f"#{name}-table", DataTable).focus()

    def action_reload(self) -> None:
        """Read both lists again."""
        self.load_outbox()
        self.load_inbox()

    def action_filter(self) -> None:
        """Show the next status only (all, pending, sending, sent, failed)."""
        index = FILTERS.index(self.status_filter)
        self.status_filter = FILTERS[(index + 1) % len(FILTERS)]
        self.load_outbox()

    def action_page(self, step: int) -> None:
        """The next or previous page of the inbound log."""
        if self.inbox_page.turn(step):
            self.load_inbox()

    def action_send_now(self) -> None:
        """Drain the outbox now."""
        run = getattr(self.app, "mail_run_now", None)
        if run is not None:
            run("send")

    def action_poll_now(self) -> None:
        """Read the organizer's mailbox now."""
        run = getattr(self.app, "mail_run_now", None)
        if run is not None:
            run("poll")

    def action_retry_failed(self) -> None:
        """Put every failed message back in the queue and send."""
        self._retry()

    @work(thread=True, exclusive=True, exit_on_error=False, group="mail-retry")
    def _retry(self) -> None:
        from store.outbox import retry_failed

        count = run_rule(self, lambda: retry_failed())
        if count is Refusal.REFUSED:
            return
        self.post_message(self.Retried(count))

    @dataclass
    class Retried(Message):
        """Failed rows went back to the queue."""

        count: int

    @on(Retried)
    def _retried(self, event: Retried) -> None:
        self.notify(f"{event.count} failed message(s) queued again", timeout=3)
        self.load_outbox()
        if event.count:
            self.action_send_now()


def _when(value: datetime | None, zone: Any) -> str:
    if value is None:
        return ""
    return f"{value.astimezone(zone):%d %b %H:%M}"
