"""Small modals: confirm, ask for a reason or a note, a few fields, and a notice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from screens.base import RollcallModal
from screens.form import RollcallForm
from screens.keymap import KEYMAP
from screens.plain import block, plain
from screens.widgets.buttons import dialog_buttons


class ConfirmModal(RollcallModal[bool]):
    """Ask a yes/no question; dismisses with True for yes."""

    BINDINGS = KEYMAP["confirm"]

    def __init__(self, question: str, yes: str = "Yes", *, danger: bool = False) -> None:
        super().__init__()
        self.question = question
        self.yes = yes
        self.danger = danger

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical(classes="dialog"):
            yield Static(block(self.question), classes="dialog-text")
            yield dialog_buttons(
                f"{self.yes} (y)",
                "yes",
                variant="error" if self.danger else "primary",
                back=("No (esc)", "no"),
            )

    def on_mount(self) -> None:
        """Focus "No" so a stray enter does nothing harmful."""
        self.query_one("#no", Button).focus()

    def action_answer(self, value: bool) -> None:
        """Close with the answer."""
        self.dismiss(value)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


def confirm(
    screen: Screen[Any],
    question: str,
    yes: str,
    then: Callable[[], object],
    *,
    danger: bool = False,
) -> None:
    """Ask `question` over `screen` (the yes button says `yes`); run `then` only on yes."""

    def answered(answer: bool | None) -> None:
        if answer:
            then()

    screen.app.push_screen(ConfirmModal(question, yes, danger=danger), answered)


class TextModal(RollcallModal[str | None]):
    """Ask for one line of text (a cancellation reason, a note); None when abandoned."""

    BINDINGS = KEYMAP["text"]

    def __init__(
        self,
        prompt: str,
        *,
        placeholder: str = "",
        required: bool = True,
        value: str = "",
        context: str = "",
    ) -> None:
        super().__init__()
        self.prompt = prompt
        self.placeholder = placeholder
        self.required = required
        self.value = value
        self.context = context
        """Plain text shown above the prompt (e.g. the notes so far); never read as markup."""

    def compose(self) -> ComposeResult:
        """Context, prompt, input, error line, buttons."""
        with Vertical(classes="dialog"):
            if self.context:
                yield Label(block(self.context), id="text-context", classes="dialog-text")
            yield Label(block(self.prompt), classes="dialog-text")
            yield Input(self.value, placeholder=self.placeholder, id="text")
            yield Label("", id="text-error", classes="field-error")
            yield dialog_buttons("OK (enter)", "ok")

    def on_mount(self) -> None:
        """Start typing at once."""
        self.query_one(Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        text = self.query_one(Input).value.strip()
        if self.required and not text:
            error = self.query_one("#text-error", Label)
            error.update("This is required.")
            error.add_class("-shown")
            return
        self.dismiss(text)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)


class NoticeModal(RollcallModal[None]):
    """A message with one button."""

    BINDINGS = KEYMAP["notice"]

    def __init__(self, text: str, title: str = "") -> None:
        super().__init__()
        self.text = text
        self.title_text = title

    def compose(self) -> ComposeResult:
        """Title, text, OK."""
        with Vertical(classes="dialog"):
            if self.title_text:
                yield Label(plain(self.title_text), classes="dialog-title")
            yield Static(block(self.text), classes="dialog-text")
            yield dialog_buttons("OK", "ok", back=None)

    def on_mount(self) -> None:
        """Focus OK."""
        self.query_one(Button).focus()

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)

    @on(Button.Pressed)
    def _ok(self) -> None:
        self.dismiss(None)


class FormModal(RollcallForm[dict[str, str] | None]):
    """A few labelled one-line inputs; dismisses with their values, or None on escape."""

    BINDINGS = KEYMAP["form"]

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
        with Vertical(classes="dialog"):
            yield Label(plain(self.title_text), classes="dialog-title")
            if self.hint:
                yield Static(block(self.hint), classes="dialog-text")
            for key, label, value in self.fields:
                yield Label(plain(label), classes="field-label")
                yield Input(value, id=f"field-{key}")
                yield Label("", id=f"error-field-{key}", classes="field-error")
            yield Label("", id="error-general", classes="field-error")
            yield dialog_buttons("OK (enter)", "ok")

    def on_mount(self) -> None:
        """Start typing in the first field."""
        self.query(Input).first().focus()

    def values(self) -> dict[str, str]:
        """The current text of every field."""
        return {key: self.query_one(f"#field-{key}", Input).value for key, _, _ in self.fields}

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        values = self.values()
        missing = [
            key for key, _, _ in self.fields if key in self.required and not values[key].strip()
        ]
        if missing:
            self.show_field_error(f"field-{missing[0]}", "this is required")
            return
        self.dismiss(values)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.action_abandon()
