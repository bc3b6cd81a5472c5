"""The status line: a standing mail notice, and the last news from background work."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from screens.plain import clean


class StatusLine(Static):
    """The bottom of each screen: the app's `mail_notice` (when there is one) and `status_text`.

    The notice (mail that cannot go out, replies not read) has a line of its own
    for as long as it holds, so news from background work never pushes it away.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: auto;
        max-height: 2;
        width: 1fr;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        color: $text-muted;
        padding: 0 1;
    }
    StatusLine.-error {
        color: $text-error;
    }
    """

    def on_mount(self) -> None:
        """Follow the app's notice and status text from now on."""
        self.watch(self.app, "status_text", self._show, init=True)
        self.watch(self.app, "mail_notice", self._show, init=False)
        self.watch(self.app, "status_error", self._mark, init=True)

    def _show(self, _: str = "") -> None:
        notice = clean(getattr(self.app, "mail_notice", ""), one_line=True)
        news = Content(clean(getattr(self.app, "status_text", ""), one_line=True))
        if notice:
            # Styled, not parsed: stored text never becomes markup here.
            news = Content.styled(f"⚠ {notice}", "bold $text-warning") + "\n" + news
        self.update(news)

    def _mark(self, error: bool) -> None:
        self.set_class(error, "-error")
