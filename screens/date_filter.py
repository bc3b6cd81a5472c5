"""The sessions list's date filter: this week, next week, this month, or a from–to range."""

from __future__ import annotations

from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList
from textual.widgets.option_list import Option

from screens.base import RollcallModal
from screens.keymap import KEYMAP
from screens.widgets.buttons import dialog_buttons
from store.date_search import DayRange, parse_range, preset_ranges
from store.errors import RollcallError


class DateFilterModal(RollcallModal[DayRange | None]):
    """Pick a date filter; dismisses with it, with an "any date" filter, or None (escape)."""

    DEFAULT_CSS = """
    DateFilterModal #date-presets { height: auto; max-height: 8; }
    DateFilterModal .date-range { height: auto; }
    DateFilterModal .date-range Input { width: 1fr; }
    DateFilterModal #date-error { height: auto; }
    """
    BINDINGS = KEYMAP["date-filter"]

    def __init__(self, today: date, current: DayRange | None = None) -> None:
        super().__init__()
        self.today = today
        self.current = current
        self.choices = preset_ranges(today)

    def compose(self) -> ComposeResult:
        """The presets, then a from and a to box."""
        with Vertical(classes="dialog", id="date-filter"):
            yield Label("Show sessions starting…", classes="dialog-title")
            options = [Option("any date", id="any")]
            for key, choice in self.choices.items():
                options.append(Option(f"{choice.label}: {choice.days}", id=key))
            yield OptionList(*options, id="date-presets")
            yield Label("or from … to … (2026-12-03, 3 Dec, Dec; either may stay empty):")
            with Horizontal(classes="date-range"):
                first = self.current.first if self.current else None
                last = self.current.last if self.current else None
                yield Input(f"{first:%Y-%m-%d}" if first else "", placeholder="from", id="from")
                yield Input(f"{last:%Y-%m-%d}" if last else "", placeholder="to", id="to")
            yield Label("", id="date-error", classes="error")
            yield dialog_buttons("Apply range", "apply")

    def on_mount(self) -> None:
        """Start on the presets."""
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _preset(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id or "any"
        self.dismiss(self.choices.get(key, DayRange("any date")))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "from":
            self.query_one("#to", Input).focus()
        else:
            self._apply()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self._apply()
        else:
            self.dismiss(None)

    def _apply(self) -> None:
        try:
            chosen = parse_range(
                self.query_one("#from", Input).value, self.query_one("#to", Input).value, self.today
            )
        except RollcallError as error:
            self.query_one("#date-error", Label).update(f"⚠ {error}")
            self.query_one(f"#{error.field or 'from'}", Input).focus()
            return
        self.dismiss(chosen)
