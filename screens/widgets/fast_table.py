"""A DataTable for fixed-width, one-line columns that skips measuring and layered rendering."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import RowKey

CellT = TypeVar("CellT")
_NEWLINE = Text("\n")


class FastTable(DataTable[CellT]):
    """A DataTable whose columns all have a set width and whose rows are one line high.

    DataTable measures every new cell (to size auto-width columns) and renders each
    visible cell through three nested Rich renderables; for a table of fixed-width
    columns the measuring is wasted and the nesting costs most of a repaint. This
    class takes a direct path for that case, producing the same segments, and falls
    back to DataTable for anything else (auto widths, labels, taller rows,
    multi-line cells, the header).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._meta_styles: dict[tuple[int, int], Style] = {}

    def _fixed_layout(self) -> bool:
        return not self._labelled_row_exists and not any(
            column.auto_width for column in self.columns.values()
        )

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Only the virtual size changes when every column has a set width."""
        rows = list(new_rows)
        if not self._fixed_layout() or any(
            (row := self.rows.get(key)) is not None and (row.auto_height or row.label is not None)
            for key in rows
        ):
            super()._update_dimensions(rows)
            return
        header_height = self.header_height if self.show_header else 0
        width = sum(column.get_render_width(self) for column in self.columns.values())
        self.virtual_size = Size(
            width + self._row_label_column_width, self._total_row_height + header_height
        )

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """One line of text cropped and padded to the column, styled like DataTable does."""
        is_header = row_index == -1
        if column_index < 0 or row_index < -1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        if is_header:
            row_key: RowKey | None = self._header_row_key
            height = self.header_height
        else:
            row_key = self._row_locations.get_key(row_index)
            row = self.rows.get(row_key) if row_key is not None else None
            height = row.height if row is not None else 0
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None or height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        cache_key = (
            row_key,
            column_key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(cell, Text) or "\n" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        is_fixed_style_cell = not is_header and (
            row_index < self.fixed_rows or column_index < self.fixed_columns
        )
        component_style, post_style = self._get_styles_to_render_cell(
            is_header,
            False,
            is_fixed_style_cell,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        meta = self._meta_styles.get((row_index, column_index))
        if meta is None:
            # One Style object per cell position lets Rich's cache of style sums hit.
            meta = Style.from_meta({"row": row_index, "column": column_index})
            self._meta_styles[(row_index, column_index)] = meta
        pre_style = base_style + meta + component_style
        padding = self.cell_padding
        inner = max(0, width - 2 * padding)
        line = cell
        if cell_len(cell.plain) > inner:
            line = cell.copy()
            line.truncate(inner, overflow=cell.overflow or "fold")
        if line.spans:
            # Joining gives the text's own style a span, as Rich does before rendering.
            body = list(_NEWLINE.join([line]).render(self.app.console, end=""))
        elif line.style:
            text_style = self.app.console.get_style(line.style)
            body = [Segment(line.plain, text_style)] if line.plain else []
        else:
            body = [Segment(line.plain)]
        used = sum(segment.cell_length for segment in body)
        plain = pre_style + post_style
        edge = [Segment(" " * padding, plain)] if padding else []
        styled = [
            *edge,
            *(
                Segment(text, pre_style + style + post_style if style else plain)
                for text, style, _ in body
            ),
        ]
        if used < inner:
            styled.append(Segment(" " * (inner - used), plain))
        styled.extend(edge)
        lines = [styled]
        self._cell_render_cache[cache_key] = lines
        return lines
