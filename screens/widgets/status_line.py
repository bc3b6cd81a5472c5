"""The status line: the last news from background work, fed by `StatusUpdate` messages."""

from __future__ import annotations

from textual.widgets import Static

from screens.plain import plain


class StatusLine(Static):
    """One line at the bottom of each screen showing the app's `status_text`."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        width: 1fr;
        color: $text-muted;
        padding: 0 1;
    }
    StatusLine.-error {
        color: $text-error;
    }
    """

    def on_mount(self) -> None:
        """Follow the app's status text from now on."""
        self.watch(self.app, "status_text", self._show, init=True)
        self.watch(self.app, "status_error", self._mark, init=True)

    def _show(self, text: str) -> None:
        self.update(plain(text))

    def _mark(self, error: bool) -> None:
        self.set_class(error, "-error")
