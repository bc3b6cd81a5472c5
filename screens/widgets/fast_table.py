"""A DataTable for fixed-width, one-line columns that skips measuring and layered rendering."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import zip_longest
from typing import Any, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import Column, DuplicateKey, Row, RowKey

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

    def add_rows_keyed(self, rows: Iterable[tuple[str, Sequence[CellT]]]) -> None:
        """Add one-line rows at the bottom, as `add_row` would one by one.

        `add_row` re-validates the cursor and announces an update for every row;
        a window of hundreds of rows spent most of its filling time there. Here
        that is done once, after the last row.
        """
        columns = [column.key for column in self.ordered_columns]
        locations = self._row_locations
        was_empty = not self.rows
        added = 0
        for key, cells in rows:
            row_key = RowKey(key)
            if row_key in locations:
                raise DuplicateKey(f"The row key {row_key!r} already exists.")
            if len(cells) > len(columns):
                raise ValueError("More values provided than there are columns.")
            locations[row_key] = len(self.rows)
            self._data[row_key] = dict(zip_longest(columns, cells))
            self.rows[row_key] = Row(row_key, 1, None, False)
            self._new_rows.add(row_key)
            added += 1
        if not added:
            return
        self._require_update_dimensions = True
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.columns and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self._update_count += added
        self.check_idle()

    def _stamp(self) -> tuple[bool, int, Any]:
        """What DataTable's render caches are keyed on besides the cell and the cursor."""
        return (self._show_hover_cursor, self._update_count, self._pseudo_class_state)

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

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """A line of a row under a row cursor, as DataTable renders it, with less bookkeeping.

        DataTable works out the header's style, two coordinates and two highlight
        checks per cell, and lists its columns three times per line; for a row cursor
        over unlabelled, unfixed columns one check per line gives the same answer.
        """
        if (
            self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        show_cursor = self.show_cursor
        cache_key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            self.cursor_type,
            show_cursor,
            *self._stamp(),
        )
        cached = self._row_render_cache.get(cache_key)
        if cached is not None:
            return cached
        found = self._row_locations.get(row_key)
        row_index = -1 if found is None else found
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        row_style = self._get_row_style(row_index, base_style)
        columns = self.ordered_columns
        widths = [column.get_render_width(self) for column in columns]
        row = self.rows.get(row_key)
        if row_index < 0 or row is None or row.height != 1:
            scrollable_row = [
                self._render_cell(row_index, column_index, row_style, width, cursor, hover)[line_no]
                for column_index, width in enumerate(widths)
            ]
        else:
            scrollable_row = self._row_cells(
                row_key, row_index, row_style, columns, widths, cursor, hover
            )
        # The space right of the last column, styled like the row (DataTable's extension).
        remaining_space = max(0, self.size.width - sum(widths) - self._row_label_column_width)
        extend_style, _ = self._get_styles_to_render_cell(
            row_index == -1,
            False,
            False,
            hover_location.row == (row_index or 0),
            cursor,
            show_cursor,
            self._show_hover_cursor,
            False,
            False,
        )
        extend_style = row_style + extend_style
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        scrollable_row.append([Segment(" " * remaining_space, extend_style)])
        row_pair: tuple[list[list[Segment]], list[list[Segment]]] = ([], scrollable_row)
        self._row_render_cache[cache_key] = row_pair
        return row_pair

    def _cell_styles(
        self, is_header: bool, is_fixed: bool, hover: bool, cursor: bool
    ) -> tuple[Style, Style]:
        """A cell's component and post styles, with the table's own cursor settings."""
        return self._get_styles_to_render_cell(
            is_header,
            False,
            is_fixed,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )

    def _row_cells(
        self,
        row_key: RowKey,
        row_index: int,
        row_style: Style,
        columns: list[Column],
        widths: list[int],
        cursor: bool,
        hover: bool,
    ) -> list[list[Segment]]:
        """The cells of a one-line data row: `_render_cell`'s, with what they share read once."""
        component_style, post_style = self._cell_styles(
            False, row_index < self.fixed_rows, hover, cursor
        )
        padding = self.cell_padding
        cache = self._cell_render_cache
        stamp = self._stamp()
        cells = self._get_row_renderables(row_index).cells
        drawn = []
        for column_index, (column, width) in enumerate(zip(columns, widths, strict=True)):
            cache_key = (row_key, column.key, row_style, cursor, hover, *stamp)
            lines = cache.get(cache_key)
            if lines is None:
                cell = cells[column_index]
                if isinstance(cell, Text) and "\n" not in cell.plain:
                    lines = self._draw_cell(
                        cell,
                        (row_index, column_index),
                        row_style,
                        width - 2 * padding,
                        (component_style, post_style),
                        padding,
                    )
                    cache[cache_key] = lines
                else:
                    lines = self._render_cell(
                        row_index, column_index, row_style, width, cursor, hover
                    )
            drawn.append(lines[0])
        return drawn

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
        cache_key = (row_key, column_key, base_style, cursor, hover, *self._stamp())
        cached = self._cell_render_cache.get(cache_key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        if not isinstance(cell, Text) or "\n" in cell.plain:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        is_fixed_style_cell = not is_header and (
            row_index < self.fixed_rows or column_index < self.fixed_columns
        )
        component_style, post_style = self._cell_styles(
            is_header, is_fixed_style_cell, hover, cursor
        )
        padding = self.cell_padding
        lines = self._draw_cell(
            cell,
            (row_index, column_index),
            base_style,
            width - 2 * padding,
            (component_style, post_style),
            padding,
        )
        self._cell_render_cache[cache_key] = lines
        return lines

    def _draw_cell(
        self,
        cell: Text,
        position: tuple[int, int],
        base_style: Style,
        inner: int,
        styles: tuple[Style, Style],
        padding: int,
    ) -> list[list[Segment]]:
        """A one-line cell's segments: its text cut to `inner` cells, padded and styled."""
        component_style, post_style = styles
        meta = self._meta_styles.get(position)
        if meta is None:
            # One Style object per cell position lets Rich's cache of style sums hit.
            meta = Style.from_meta({"row": position[0], "column": position[1]})
            self._meta_styles[position] = meta
        pre_style = base_style + meta + component_style
        inner = max(0, inner)
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
        return [styled]
