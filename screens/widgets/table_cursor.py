"""Which row of a table the cursor is on, read safely while the table changes under it."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist


def highlighted_key(table: DataTable[Any] | None) -> str | None:
    """The key of the row under `table`'s cursor.

    None without a table or rows, or while the cursor still points past a table that
    has just shrunk.
    """
    if table is None or not table.row_count:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except CellDoesNotExist:
        return None
