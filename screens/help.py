"""The help screen: every key of the screen it was opened from, and the global ones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from screens.base import RollcallModal
from screens.keymap import KEYMAP

GENERAL = [
    ("↑ ↓ pgup pgdn home end", "move in a list"),
    ("tab, shift+tab", "next or previous field or list"),
    ("/", "search or filter; enter moves to the list"),
    ("enter", "open the highlighted row"),
    ("escape", "back"),
    ("ctrl+p", "command palette: every area's actions"),
    ("?", "this help"),
    ("q", "quit (from the sessions list)"),
]


class HelpScreen(RollcallModal[None]):
    """Keys of the current screen plus the general ones; greyed-out keys say why."""

    BINDINGS = KEYMAP["help"]

    def __init__(
        self,
        title: str,
        keys: Sequence[tuple[str, str]],
        notes: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.keys = list(keys)
        """(key, what it does), the screen's own first."""
        self.notes = dict(notes or {})
        """Why a key of `keys` does nothing now (it is greyed out in the footer)."""

    def compose(self) -> ComposeResult:
        """Two tables of keys."""
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        table.add_row(Text(self.title_text, style="underline"), "")
        seen = set()
        for key, description in self.keys:
            if (key, description) in seen:
                continue
            seen.add((key, description))
            shown = Text(description)
            note = self.notes.get((key, description))
            if note:
                shown = Text.assemble((description, "dim"), (f" — not now: {note}", "dim italic"))
            table.add_row(Text(key), shown)
        table.add_row("", "")
        table.add_row(Text("Everywhere", style="underline"), "")
        for key, description in GENERAL:
            table.add_row(Text(key), Text(description))
        with VerticalScroll(id="help-body", classes="dialog"):
            yield Static(table)
        yield Footer()

    def action_close(self) -> None:
        """Back to the screen."""
        self.dismiss(None)
