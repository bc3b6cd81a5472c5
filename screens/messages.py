"""Messages shared across screens: facts posted by workers and background jobs."""

from __future__ import annotations

from textual.message import Message


class StatusUpdate(Message):
    """Background work has news for the status line (mail sender, poller, long jobs).

    Post it to the app from any thread: ``app.post_message(StatusUpdate("SMTP: 3 sent"))``.
    """

    def __init__(self, text: str, *, error: bool = False) -> None:
        super().__init__()
        self.text = text
        """What to show."""
        self.error = error
        """Shown in the error colour when true."""


class DataChanged(Message, bubble=False):
    """A screen changed the store; other screens refresh when they are next shown.

    Post it to the app; the app hands a copy to every screen (it does not bubble back).
    """

    def __init__(self, what: str = "sessions") -> None:
        super().__init__()
        self.what = what
        """Which kind of rows changed: ``sessions`` or ``people``."""


class RuleRefused(Message):
    """A rule refused a request from a screen; carries the rule's own message and field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__()
        self.message = message
        self.field = field
