"""The button row at the foot of every dialog and form: the main action, then the way back."""

from __future__ import annotations

from textual.containers import Horizontal
from textual.widgets import Button
from textual.widgets.button import ButtonVariant

BACK = ("Back (esc)", "back")
"""The usual way out: label and id."""


def dialog_buttons(
    label: str,
    button_id: str,
    *,
    variant: ButtonVariant = "primary",
    disabled: bool = False,
    back: tuple[str, str] | None = BACK,
) -> Horizontal:
    """The main button (its key in the label, e.g. "Save (ctrl+s)") and, unless None, `back`."""
    buttons = [Button(label, id=button_id, variant=variant, disabled=disabled)]
    if back is not None:
        buttons.append(Button(back[0], id=back[1]))
    return Horizontal(*buttons, classes="dialog-buttons")
