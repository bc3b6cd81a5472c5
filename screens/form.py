"""What every form shares: errors under their field, fixed as you type, and no silent loss.

A form's error lines are labels with the id ``error-<field>`` (class
``field-error``) next to an input with the id ``<field>``. `RollcallForm`
shows a rule's message there whole, focuses the field with its text
selected (typing replaces it), checks the field again as it changes and when
it is left, and asks before escape throws away what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from textual import on
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, SelectionList, TextArea
from textual.widgets._toggle_button import ToggleButton

from screens.base import RollcallModal
from screens.plain import plain
from store.errors import RollcallError

T = TypeVar("T")

FieldCheck = Callable[[str], object]
"""A check of one field's text: raises `RollcallError` when the text cannot be saved."""


class RollcallForm(RollcallModal[T]):
    """A modal form with forgiving errors; subclasses set `FIELD_CHECKS` and `abandoned`."""

    FIELD_CHECKS: ClassVar[dict[str, FieldCheck]] = {}
    """Field id -> a quick check of its text, run as the field changes and when it is left."""

    DISCARD_QUESTION = "Discard what you typed in this form?"

    PICK_FIELDS: ClassVar[tuple[str, ...]] = ()
    """Email fields a person can be picked into by name (ctrl+f, the people picker)."""

    def __init__(self) -> None:
        super().__init__()
        self._clean: tuple[Any, ...] | None = None

    async def action_save(self) -> None:
        """Hand the fields to the rule (in a worker); ctrl+s and the Save button."""
        raise NotImplementedError

    @on(Button.Pressed, "#save")
    async def _save_pressed(self) -> None:
        await self.action_save()

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.action_abandon()

    # Changed or not ------------------------------------------------------

    def snapshot(self) -> tuple[Any, ...]:
        """Every value a person can change in the form, in order."""
        values: list[Any] = []
        for widget in self.query("*"):
            if isinstance(widget, Input | ToggleButton):
                values.append(widget.value)
            elif isinstance(widget, TextArea):
                values.append(widget.text)
            elif isinstance(widget, Select):
                values.append(widget.value)
            elif isinstance(widget, SelectionList):
                values.append(tuple(widget.selected))
        return tuple(values)

    def mark_clean(self) -> None:
        """Take the current values as the unchanged form (after it is filled)."""
        self._clean = self.snapshot()

    def is_changed(self) -> bool:
        """Whether anything differs from the values taken by `mark_clean`."""
        return self._clean is not None and self.snapshot() != self._clean

    def on_mount(self) -> None:
        """Take the values once the first layout has filled the form."""
        self.call_after_refresh(self._first_clean)

    def _first_clean(self) -> None:
        if self._clean is None:
            self.mark_clean()

    def abandoned(self) -> T:
        """What the form dismisses with when left without saving."""
        return None  # type: ignore[return-value]

    def action_abandon(self) -> None:
        """Back without saving; ask first when something was typed."""
        if not self.is_changed():
            self.dismiss(self.abandoned())
            return
        from screens.dialogs import confirm

        confirm(
            self,
            self.DISCARD_QUESTION,
            "Discard",
            lambda: self.dismiss(self.abandoned()),
            danger=True,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The person picker only where a field takes a person's email."""
        if action == "pick_person":
            return bool(self.PICK_FIELDS)
        return True

    def action_pick_person(self) -> None:
        """Pick a person by name into the focused email field (or the form's first one)."""
        if not self.PICK_FIELDS:
            return
        focused = self.focused
        name = focused.id if isinstance(focused, Input) and focused.id in self.PICK_FIELDS else None
        target = self.query_one(f"#{name or self.PICK_FIELDS[0]}", Input)
        from screens.people_picker import PeoplePicker

        def chosen(email: str | None) -> None:
            if email:
                target.value = email
                target.focus()

        prompt = "Pick a person: type a name, email or department; enter to choose"
        self.app.push_screen(PeoplePicker(prompt=prompt), chosen)

    # Errors -------------------------------------------------------------

    def error_label(self, name: str) -> Label | None:
        """The error line of field `name`, if the form has one."""
        found = self.query(f"#error-{name}").results(Label)
        return next(iter(found), None)

    def show_field_error(self, name: str, message: str, *, focus: bool = True) -> None:
        """Show `message` whole under field `name` (or the general line) and go to the field.

        The field's text is selected, so what is typed next replaces it.
        """
        label = self.error_label(name) or self.error_label("general")
        if label is None:
            self.notify(message, severity="error")
            return
        label.update(plain(f"⚠ {message}"))
        label.add_class("-shown")
        if not focus:
            return
        widget = self.field_widget(name)
        if widget is not None and widget.focusable:
            widget.focus()
            if isinstance(widget, Input):
                widget.select_all()
        self._scroll_into_view(label)
        if widget is not None:
            self._scroll_into_view(widget)

    def _scroll_into_view(self, widget: Widget) -> None:
        for ancestor in widget.ancestors:
            if isinstance(ancestor, ScrollableContainer):
                ancestor.scroll_to_widget(widget, animate=False)
                return

    def field_widget(self, name: str) -> Widget | None:
        """The input of field `name`."""
        found = self.query(f"#{name}")
        return found.first() if found else None

    def clear_field_error(self, name: str) -> None:
        """Hide the error line of field `name`."""
        label = self.error_label(name)
        if label is not None and label.has_class("-shown"):
            label.update("")
            label.remove_class("-shown")

    def clear_errors(self) -> None:
        """Hide every error line (before a new save)."""
        for label in self.query(".field-error").results(Label):
            label.update("")
            label.remove_class("-shown")

    def check_field(self, name: str, value: str) -> str | None:
        """The problem with `value` in field `name`, or None when it looks right."""
        check = self.FIELD_CHECKS.get(name)
        if check is None:
            return None
        try:
            check(value)
        except RollcallError as exc:
            return exc.message
        return None

    def _recheck(self, name: str, value: str, *, on_leave: bool) -> None:
        label = self.error_label(name)
        if label is None:
            return
        shown = label.has_class("-shown")
        if not shown and not (on_leave and value.strip()):
            return  # no error yet: only a left, filled-in field is checked
        problem = self.check_field(name, value)
        if problem is None:
            if shown:
                self.clear_field_error(name)
        elif shown or name in self.FIELD_CHECKS:
            self.show_field_error(name, problem, focus=False)

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        if event.input.id:
            self._recheck(event.input.id, event.value, on_leave=False)

    @on(TextArea.Changed)
    def _area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id:
            self._recheck(event.text_area.id, event.text_area.text, on_leave=False)

    @on(Input.Blurred)
    def _field_left(self, event: Input.Blurred) -> None:
        if event.input.id:
            self._recheck(event.input.id, event.input.value, on_leave=True)


class SavingForm(RollcallForm[bool]):
    """A form whose rule runs in a worker: True once saved, False when left.

    The worker posts `Saved` or `Rejected`; a refusal shows under the field it
    names when that is one of `ERROR_FIELDS`, else on the general line.
    """

    SAVED_TEXT = "Saved"
    ERROR_FIELDS: tuple[str, ...] = ()

    @dataclass
    class Rejected(Message):
        """The rule refused."""

        message: str
        field: str | None

    class Saved(Message):
        """The rule accepted."""

    def abandoned(self) -> bool:
        """Nothing saved."""
        return False

    @on(Saved)
    def _saved(self) -> None:
        self.app.notify(self.SAVED_TEXT)
        self.dismiss(True)

    @on(Rejected)
    def _rejected(self, event: Rejected) -> None:
        known = event.field in self.ERROR_FIELDS and self.query(f"#{event.field}")
        self.show_field_error(event.field if known and event.field else "general", event.message)
