"""A footer that keeps every key of a busy screen in view at 80 columns."""

from __future__ import annotations

from textual.widgets import Footer

NARROW = 110
"""Below this width the footer is compact and leaves ``^p`` to the help screen."""


def fit_footer(footer: Footer, width: int) -> None:
    """Compact `footer` and drop its palette hint when the terminal is narrower than `NARROW`."""
    narrow = width < NARROW
    footer.compact = narrow
    footer.show_command_palette = not narrow
