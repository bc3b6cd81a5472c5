"""The foot every main screen ends with: the info bar above the key bar."""

from __future__ import annotations

from collections.abc import Iterator

from textual.containers import Horizontal
from textual.widget import Widget

from screens.widgets.footer import KeyFooter
from screens.widgets.status_line import StatusLine


def screen_foot(*first: Widget) -> Iterator[Widget]:
    """The info bar (`first`, e.g. a row position, then the mail notice and news) and the keys."""
    yield Horizontal(*first, StatusLine(), classes="info-bar")
    yield KeyFooter()
