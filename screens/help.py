"""The help screen: every key of the screen it was opened from, and the global ones."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from screens.base import RollcallModal

GENERAL = [
    ("/", "search or filter; enter moves to the list"),
    ("enter", "open the highlighted row"),
    ("escape", "back"),
    ("ctrl+p", "command palette: every screen and action"),
    ("?", "this help"),
    ("q", "quit (from the sessions screen)"),
]


class HelpScreen(RollcallModal[None]):
    """Keys of the current screen plus the general ones."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close"),
    ]

    def __init__(self, title: str, keys: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.keys = list(keys)

    def compose(self) -> ComposeResult:
        """Two tables of keys."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row(f"[u]{self.title_text}[/u]", "")
        seen = set()
        for key, description in self.keys:
            if (key, description) in seen:
                continue
            seen.add((key, description))
            table.add_row(key, description)
        table.add_row("", "")
        table.add_row("[u]Everywhere[/u]", "")
        for key, description in GENERAL:
            table.add_row(key, description)
        with VerticalScroll(id="help-body", classes="dialog"):
            yield Static(table)
        yield Footer()

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
