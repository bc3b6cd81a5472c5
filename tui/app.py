"""The Textual application: wiring of screens, bindings and background jobs."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

from store.settings import Settings


class RollcallApp(App[None]):
    """rollcall's terminal app."""

    TITLE = "rollcall"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, settings: Settings, as_email: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.as_email = as_email

    def compose(self) -> ComposeResult:
        """Header, the session list and the footer."""
        yield Header()
        yield DataTable(id="sessions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Fill the list with the first page of sessions."""
        from store.serialize import sessions_dicts
        from store.sessions import sessions_query

        table = self.query_one(DataTable)
        table.add_columns("Date", "Time", "Title", "Booked", "Status")
        zone = self.settings.zone
        for row in sessions_dicts(list(sessions_query().limit(200))):
            from datetime import datetime

            start = datetime.fromisoformat(row["start"]).astimezone(zone)
            cap = "∞" if row["max_attendees"] is None else str(row["max_attendees"])
            table.add_row(
                f"{start:%a %d %b}",
                f"{start:%H:%M}",
                row["title"],
                f"{row['enrolled']}/{cap}",
                row["status"],
            )


def run_app(settings: Settings, as_email: str | None = None) -> None:
    """Open the app on the already opened database."""
    RollcallApp(settings, as_email=as_email).run()
