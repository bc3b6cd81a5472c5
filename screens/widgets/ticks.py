"""Checkboxes, radio buttons and selection lists whose state reads without colour.

Textual draws every box as ``▐X▌`` and tells ticked from not ticked by colour
alone, which a monochrome terminal, a screen reader's text or a colour-blind
admin cannot see. These draw ``[x]``/``[ ]`` and ``(•)``/``( )`` instead.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets.selection_list import SelectionType


def _glyph(on: bool, marks: tuple[str, str, str, str], style: object) -> Content:
    left, ticked, unticked, right = marks
    return Content.assemble((f"{left}{ticked if on else unticked}{right}", style))  # type: ignore[arg-type]


class TickBox(Checkbox):
    """A checkbox drawn as ``[x]`` or ``[ ]``."""

    @property
    def _button(self) -> Content:
        return _glyph(self.value, ("[", "x", " ", "]"), self.get_visual_style("toggle--button"))


class TickRadio(RadioButton):
    """A radio button drawn as ``(•)`` or ``( )``."""

    @property
    def _button(self) -> Content:
        return _glyph(self.value, ("(", "•", " ", ")"), self.get_visual_style("toggle--button"))


class TickList(SelectionList[SelectionType]):
    """A selection list whose boxes read ``[x]`` or ``[ ]``."""

    def render_line(self, y: int) -> Strip:
        """The option line with its box redrawn as text (same width as Textual's box)."""
        line = super().render_line(y)
        segments = list(line)
        if len(segments) < 4:
            return line
        try:
            option = self.get_option_at_index(self.scroll_offset.y + y)
        except Exception:  # noqa: BLE001 - a line below the last option
            return line
        mark = "x" if option.value in self._selected else " "
        style = segments[1].style
        boxed = [Segment("[", style), Segment(mark, style), Segment("]", style)]
        return Strip([*boxed, *segments[3:]], line.cell_length)
