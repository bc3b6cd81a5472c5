"""The Team area: a manager's people, their bookings, attendance and renewals (read only)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Header, Static, TabbedContent, TabPane

from screens.base import LiveScreen, Refusal, add_columns, post_latest, run_rule
from screens.keymap import KEYMAP
from screens.widgets.foot import screen_foot
from screens.widgets.table_cursor import highlighted_key
from store.team import ATTENDANCE_DAYS, DUE_DAYS, Team, TeamBooking

STATUS_WORDS = {
    "enrolled": "booked",
    "waitlisted": "waitlist",
    "requested": "waiting for you",
    "offered": "place offered",
    "attended": "attended",
    "no_show": "no-show",
}
"""How a booking's status reads to a manager."""

TABLES = ("members", "bookings", "attendance", "due")
"""The tabs, each a table whose columns are ``team-<tab>`` in `screens.columns.COLUMNS`."""


class TeamScreen(LiveScreen):
    """The people who report to the manager and their training; nothing here changes data."""

    BINDING_GROUP_TITLE = "Team"
    DEFAULT_CSS = """
    TeamScreen DataTable { height: 1fr; }
    TeamScreen #team-summary { height: auto; padding: 0 1; }
    """
    BINDINGS = KEYMAP["team"]

    @dataclass
    class Loaded(Message):
        """The team as read now."""

        team: Team

    def __init__(self, manager: str | None = None) -> None:
        super().__init__()
        self.manager = manager
        """The manager whose team is shown; None for the person using the app."""

    def compose(self) -> ComposeResult:
        """Summary, one tab per list, status line, footer."""
        yield Header()
        yield Static("loading…", id="team-summary")
        with TabbedContent(id="team-tabs"):
            for name, title in (
                ("members", "People"),
                ("bookings", "Bookings to come"),
                ("attendance", "Attendance"),
                ("due", "Due for renewal"),
            ):
                with TabPane(title, id=f"tab-{name}"):
                    yield DataTable(id=f"team-{name}", cursor_type="row", zebra_stripes=True)
        yield from screen_foot()

    def on_mount(self) -> None:
        """Columns of every table."""
        for name in TABLES:
            add_columns(self.query_one(f"#team-{name}", DataTable), f"team-{name}")
        self.query_one("#team-members", DataTable).focus()

    def action_reload(self) -> None:
        """Read the team again."""
        self.load()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """Open the highlighted person's page (their bookings, completions, pathways)."""
        from screens.person import PersonScreen

        email = self._highlighted_email()
        if email:
            self.app.push_screen(PersonScreen(email))

    def _highlighted_email(self) -> str | None:
        key = highlighted_key(self.focused if isinstance(self.focused, DataTable) else None)
        return key.split("\n", 1)[0] if key else None

    def action_tab(self, name: str) -> None:
        """Show one tab and put the cursor in its table."""
        self.query_one(TabbedContent).active = f"tab-{name}"
        self.query_one(f"#team-{name}", DataTable).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="team-load")
    def load(self) -> None:
        """Read in a thread."""
        from store.team import team, team_manager

        result = run_rule(self, lambda: team(team_manager(self.manager)))
        if result is not Refusal.REFUSED:
            post_latest(self, self.Loaded(result))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        data = event.team
        zone = self.app.settings.zone  # type: ignore[attr-defined]

        def when(b: TeamBooking) -> str:
            return f"{b.start.astimezone(zone):%a %d %b %Y %H:%M}"

        def status(b: TeamBooking) -> str:
            word = STATUS_WORDS.get(b.status, b.status)
            return f"{word} #{b.waitlist_position}" if b.waitlist_position else word

        self._fill(
            "members",
            [
                (Text(m.name), Text(m.email), Text(m.department))
                + tuple(str(n) for n in (m.booked, m.attended, m.no_shows, m.due))
                for m in data.members
            ],
            [m.email for m in data.members],
        )
        self._fill(
            "bookings",
            [
                (when(b), Text(b.title), Text(b.name), status(b), b.calendar.replace("_", " "))
                for b in data.bookings
            ],
            [b.email for b in data.bookings],
        )
        self._fill(
            "attendance",
            [(when(a), Text(a.title), Text(a.name), status(a)) for a in data.attendance],
            [a.email for a in data.attendance],
        )
        self._fill(
            "due",
            [
                (
                    f"{d.expires_on:%d %b %Y}",
                    Text(d.item),
                    Text(d.name),
                    f"session {d.booked_session}" if d.booked_session else "not booked",
                )
                for d in data.due
            ],
            [d.email for d in data.due],
        )
        self.query_one("#team-summary", Static).update(
            Text(
                f"Team of {data.manager}: {len(data.members)} people, "
                f"{len(data.bookings)} bookings to come, attendance of the last "
                f"{ATTENDANCE_DAYS} days, {len(data.due)} renewals due within {DUE_DAYS} days "
                "(read only)"
            )
        )

    def _fill(self, name: str, rows: list[tuple[str | Text, ...]], emails: list[str]) -> None:
        table = self.query_one(f"#team-{name}", DataTable)
        cursor = table.cursor_row
        table.clear()
        for index, (row, email) in enumerate(zip(rows, emails, strict=True)):
            # The person's email opens their page; the index keeps keys unique.
            table.add_row(*row, key=f"{email}\n{index}")
        if table.row_count:
            table.move_cursor(row=min(max(cursor, 0), table.row_count - 1), animate=False)
