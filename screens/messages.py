"""Messages shared across screens: facts posted by workers and background jobs."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from textual.message import Message


@dataclass
class StatusUpdate(Message):
    """Background work has news for the status line (mail sender, poller, long jobs).

    Post it to the app from any thread: ``app.post_message(StatusUpdate("SMTP: 3 sent"))``.
    """

    text: str
    """What to show."""
    _: KW_ONLY
    error: bool = False
    """Shown in the error colour when true."""


@dataclass
class DataChanged(Message, bubble=False):
    """A screen changed the store; other screens refresh when they are next shown.

    Post it to the app; the app hands a copy to every screen (it does not bubble back).
    """

    what: str = "sessions"
    """Which kind of rows changed: ``sessions`` or ``people``."""


@dataclass
class RuleRefused(Message):
    """A rule refused a request from a screen; carries the rule's own message and field."""

    message: str
    field: str | None = None


@dataclass
class Done(Message):
    """A rule went through: what to tell the admin (nothing when empty); the screen reads again."""

    text: str
