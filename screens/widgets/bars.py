"""Horizontal bar charts drawn as text: every bar carries its label and its value."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

LABEL_MAX = 30
"""Longer labels are cut with an ellipsis; the table under the chart has them whole."""


def _fit(label: str, width: int) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def bar_chart(
    points: Sequence[tuple[str, float]],
    width: int,
    *,
    percent: bool = False,
    unit: str = "",
) -> Text:
    """One line per point: the label, a bar as long as its share of the largest, the value.

    `percent` scales bars to 100 (a 40% bar is 40% long) and writes values as ``40.0%``;
    otherwise bars scale to the largest value and values are written with `unit`.
    """
    if not points:
        return Text()
    label_width = min(LABEL_MAX, max(len(label) for label, _ in points))
    values = [(_fit(label, label_width), value) for label, value in points]
    shown = [f"{v:.1f}%" if percent else f"{v:g}{unit}" for _, v in values]
    room = max(4, width - label_width - max(len(s) for s in shown) - 2)
    top = 100.0 if percent else max((v for _, v in values), default=0.0) or 1.0
    text = Text(no_wrap=True, overflow="ellipsis")
    for index, ((label, value), written) in enumerate(zip(values, shown, strict=True)):
        if index:
            text.append("\n")
        length = max(0.0, min(1.0, value / top)) * room
        full = int(length)
        bar = "█" * full + ("▌" if length - full >= 0.5 else "")
        text.append(f"{label:<{label_width}} ", style="bold")
        text.append(bar, style="cyan")
        text.append(f" {written}")
    return text
