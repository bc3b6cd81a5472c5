"""The key bar at the bottom of a screen, rebuilt only when the keys it shows change."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

NARROW = 110
"""Below this width the footer is compact and leaves ``^p`` to the help screen."""


class KeyFooter(Footer):
    """Textual's footer, without rebuilding itself when the keys shown stay the same.

    Textual's footer rebuilds all its keys each time a screen's bindings are refreshed
    (focus moves, a screen reloads its data), restyling every key twice; a page with
    a dozen keys spent tens of milliseconds on it while opening.
    """

    def __init__(self) -> None:
        super().__init__()
        self._composed: Hashable | None = None

    def _shown(self, screen: Screen[Any]) -> Hashable:
        """What the footer would show for `screen`: each key's display, label and state."""
        return tuple(
            (
                binding.action,
                self.app.get_key_display(binding),
                binding.description,
                binding.show,
                enabled,
                tooltip,
            )
            for (_, binding, enabled, tooltip) in screen.active_bindings.values()
            if binding.show or binding.action == "command_palette"
        ) + (self.show_command_palette, self.compact)

    def fit(self, width: int) -> None:
        """Compact, without the palette hint, below `NARROW` columns: every key stays in view."""
        narrow = width < NARROW
        if self.compact != narrow:
            self.compact = narrow
        if self.show_command_palette == narrow:
            self.show_command_palette = not narrow

    def on_mount(self) -> None:
        """Fit the terminal's width from the start."""
        self.fit(self.app.size.width)

    def on_resize(self) -> None:
        """Follow the terminal's width."""
        self.fit(self.app.size.width)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Rebuild after the next refresh, as Textual does, if the keys to show changed by then.

        The keys are compared when the rebuild would run, not when the change is
        announced: a screen often announces before its cursor has landed, and the
        keys must show the state after it.
        """
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        try:
            if self._composed is not None and self._shown(self.screen) == self._composed:
                return
        except NoScreen:
            return  # the screen closed meanwhile
        await self.recompose()

    def compose(self) -> ComposeResult:
        """Textual's keys, remembering what they show."""
        self._composed = self._shown(self.screen) if self._bindings_ready else None
        for widget in super().compose():
            # (The palette's key is not bound to the setting: it stays compact.)
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                # A new key starts compact and is then bound to the footer's setting:
                # two restyles of it. Starting with the footer's setting skips both.
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget
