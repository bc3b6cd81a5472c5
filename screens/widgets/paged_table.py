"""A DataTable holding one window of a long list; it asks for the next one at the edges."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message

from screens.widgets.fast_table import FastTable

Cell = str | Text


class PagedTable(FastTable[Cell]):
    """A window of at most `page_size` rows out of `total`; the owner loads the windows.

    The widget never queries anything: when the cursor would leave the window it
    posts `PageWanted` with the absolute row it wants, and the owner's worker
    answers with `show_page`. A plain DataTable measures every cell it holds, so
    holding 100,000 rows costs seconds; a window of a hundred costs milliseconds.
    """

    BINDINGS = [
        Binding("home", "first_row", "First", show=False),
        Binding("end", "last_row", "Last", show=False),
    ]

    @dataclass
    class PageWanted(Message):
        """The cursor wants row `index` (absolute), which is outside the window."""

        table: PagedTable
        index: int

        @property
        def control(self) -> PagedTable:
            """The table that asked."""
            return self.table

    def __init__(self, *, page_size: int = 60, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.page_size = page_size
        """How many rows one window holds."""
        self.window_start = 0
        """Absolute index of the window's first row."""
        self.total = 0
        """How many rows the whole list has (a lower bound until `total_exact`)."""
        self.total_exact = True
        """False while the list is still being counted."""
        self._pending: int | None = None

    @property
    def absolute_row(self) -> int:
        """Absolute index of the cursor row in the whole list."""
        return self.window_start + self.cursor_row

    def window_for(self, index: int) -> int:
        """The offset of a window that puts `index` well inside it."""
        return max(0, index - self.page_size // 3)

    def show_page(
        self,
        offset: int,
        rows: Iterable[tuple[str, Sequence[Cell]]],
        total: int,
        cursor: int | None = None,
        *,
        exact: bool = True,
    ) -> None:
        """Replace the window with `rows` starting at `offset`; put the cursor on `cursor`.

        With ``exact=False`` `total` is a lower bound until `set_total` gives the count.
        """
        self._pending = None
        self.window_start = offset
        self.total = total
        self.total_exact = exact
        self.clear()
        self.add_rows_keyed(rows)
        if self.row_count:
            target = cursor if cursor is not None else offset
            row = min(max(0, target - offset), self.row_count - 1)
            self.move_cursor(row=row, animate=False, scroll=True)

    def set_total(self, total: int) -> None:
        """The counted number of rows, arriving after the window was shown."""
        self.total = max(total, self.window_start + self.row_count)
        self.total_exact = True

    def want(self, index: int) -> None:
        """Ask the owner for the window holding absolute row `index`."""
        index = max(0, min(index, self.total - 1))
        if self.window_start <= index < self.window_start + self.row_count:
            self.move_cursor(row=index - self.window_start, animate=False)
            return
        if self._pending == index:
            return
        self._pending = index
        self.post_message(self.PageWanted(self, index))

    def action_cursor_down(self) -> None:
        """Down, loading the next window at the bottom edge."""
        if (
            self.cursor_row >= self.row_count - 1
            and self.window_start + self.row_count < self.total
        ):
            self.want(self.window_start + self.row_count)
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        """Up, loading the previous window at the top edge."""
        if self.cursor_row <= 0 and self.window_start > 0:
            self.want(self.window_start - 1)
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        """A screenful down, across windows."""
        step = max(1, self.scrollable_content_region.height - 1)
        target = self.absolute_row + step
        if (
            target >= self.window_start + self.row_count
            and self.window_start + self.row_count < self.total
        ):
            self.want(target)
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        """A screenful up, across windows."""
        step = max(1, self.scrollable_content_region.height - 1)
        target = self.absolute_row - step
        if target < self.window_start and self.window_start > 0:
            self.want(target)
            return
        super().action_page_up()

    def action_first_row(self) -> None:
        """The first row of the whole list."""
        self.want(0)

    def action_last_row(self) -> None:
        """The last row of the whole list."""
        self.want(self.total - 1)

    def position_text(self) -> str:
        """``row 42 of 100,000`` for the info line."""
        if not self.total:
            return "no rows"
        if not self.total_exact:
            return f"row {self.absolute_row + 1:,} of {self.total - 1:,}+ (counting…)"
        return f"row {self.absolute_row + 1:,} of {self.total:,}"
