"""What the learner, pathway and report screens share: thread database access, dialogs."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Static
from textual.worker import Worker, WorkerState

from store.db import database

DIALOG_CSS = """
LearningDialog, ConfirmDialog, FormDialog {
    align: center middle;
}
LearningDialog > Vertical, ConfirmDialog > Vertical, FormDialog > Vertical {
    width: 72;
    height: auto;
    max-height: 90%;
    border: thick $primary;
    background: $surface;
    padding: 1 2;
}
.dialog-buttons { height: auto; margin-top: 1; }
.dialog-buttons Button { margin-right: 2; }
.field-error { color: $error; height: auto; }
.field-label { margin-top: 1; }
"""


@contextlib.contextmanager
def db_thread() -> Iterator[None]:
    """Give a worker thread its own connection and close it afterwards (Peewee is per-thread)."""
    with database.connection_context():
        yield


@dataclass
class Refused(Message):
    """A rule refused a request; carries the rule's message and the field it concerns."""

    message: str
    field: str | None = None


class LearningScreen(Screen[None]):
    """Base of these screens: worker failures and refusals become notifications."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show an unexpected worker failure instead of ending the app."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"{event.worker.name or 'background work'} failed: {error}",
                severity="error",
                timeout=10,
            )

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self.notify(event.message, title="Refused", severity="error", timeout=8)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; dismisses True for yes. "No" has the focus."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [
        Binding("escape", "answer(False)", "No", id="learning-confirm-no"),
        Binding("y", "answer(True)", "Yes", id="learning-confirm-yes"),
    ]

    def __init__(self, question: str, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical():
            yield Static(self.question)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", id="yes", variant="primary")
                yield Button("No (esc)", id="no")

    def on_mount(self) -> None:
        """A stray enter answers no."""
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        """Close with the answer."""
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few labelled one-line inputs; dismisses with their values, or None on escape."""

    DEFAULT_CSS = DIALOG_CSS
    BINDINGS = [Binding("escape", "abandon", "Back", id="learning-form-back")]

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str, str]],
        *,
        required: tuple[str, ...] = (),
        hint: str = "",
    ) -> None:
        """`fields` are (key, label, initial value)."""
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.required = required
        self.hint = hint

    def compose(self) -> ComposeResult:
        """Title, the inputs, an error line and buttons."""
        with Vertical():
            yield Label(f"[b]{self.title_text}[/b]")
            if self.hint:
                yield Static(self.hint)
            for key, label, value in self.fields:
                yield Label(label, classes="field-label")
                yield Input(value, id=f"field-{key}")
            yield Label("", id="form-error", classes="field-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK (enter)", id="ok", variant="primary")
                yield Button("Back (esc)", id="back")

    def on_mount(self) -> None:
        """Start typing in the first field."""
        self.query(Input).first().focus()

    def action_abandon(self) -> None:
        """Close without values."""
        self.dismiss(None)

    def values(self) -> dict[str, str]:
        """The current text of every field."""
        return {key: self.query_one(f"#field-{key}", Input).value for key, _, _ in self.fields}

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        values = self.values()
        missing = [
            label
            for key, label, _ in self.fields
            if key in self.required and not values[key].strip()
        ]
        if missing:
            self.query_one("#form-error", Label).update(f"{missing[0]}: this is required.")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)


def progress_text(rows: list[dict[str, Any]]) -> str:
    """Pathway progress as Rich markup: a bar per pathway and a tick per requirement."""
    if not rows:
        return "No learning pathways yet."
    lines = []
    for p in rows:
        filled = p["percent"] // 10
        bar = "█" * filled + "░" * (10 - filled)
        lines.append(f"[b]{escape(p['name'])}[/b]  {bar} {p['percent']}%")
        for r in p["requirements"]:
            mark = "[green]✓[/green]" if r["done"] else "[dim]·[/dim]"
            elearning = r["kind"] == "elearning" and "e-learning" not in r["label"].lower()
            kind = " (e-learning)" if elearning else ""
            mode = " (any one)" if r["mode"] == "any" else ""
            lines.append(f"  {mark} {escape(r['label'])}{kind}{mode}")
    return "\n".join(lines)
