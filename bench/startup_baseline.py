"""The start-up baseline of `bench_startup.py`: a minimal Textual app showing a 40-row DataTable.

Its rows read like the session list's (title and number), so the bench waits for the same text.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

TITLES = ["Fire Safety", "First Aid at Work", "Excel Clinic", "Coaching Basics"]


class TableApp(App[None]):
    """One DataTable of 40 rows and eight columns, filled on mount."""

    def compose(self) -> ComposeResult:
        """The table."""
        yield DataTable()

    def on_mount(self) -> None:
        """Columns and rows."""
        table = self.query_one(DataTable)
        table.add_columns("Date", "Time", "Title", "Type", "Trainer", "Booked", "Wait", "Status")
        for i in range(40):
            table.add_row(
                "Sat 28 Nov 2026",
                "09:00",
                f"{TITLES[i % len(TITLES)]} {i}",
                "in person",
                f"Person {i:05d}",
                "9/12",
                "",
                "scheduled",
            )


if __name__ == "__main__":
    TableApp().run()
