"""The fast paths of the lists: rows before the count, and cells drawn without measuring."""

from __future__ import annotations

import threading
from datetime import date, time
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Label
from textual.widgets._data_table import RowKey

import screens.sessions
from screens.sessions import SessionsScreen
from screens.widgets.fast_table import FastTable
from screens.widgets.paged_table import PagedTable
from store.read_models import count_sessions, session_page
from store.recurrence import Repeat
from store.session_input import SessionInput
from store.sessions import create_sessions
from tests.tui.conftest import NOW, Data, settle
from tui.app import RollcallApp

DRILLS = 130
"""More than two windows of the list (60 rows each)."""


@pytest.fixture
def drills(data: Data) -> int:
    """`DRILLS` daily Fire Drill sessions on top of the fixed data."""
    create_sessions(
        SessionInput(
            title="Fire Drill",
            date=date(2026, 12, 10),
            start=time(8, 0),
            duration_minutes=30,
            location="Yard",
        ),
        Repeat("daily", count=DRILLS),
    )
    return DRILLS


def test_a_page_read_without_counting_says_whether_more_follow(drills: int) -> None:
    counted = session_page(offset=0, limit=60, search="drill", now=NOW)
    assert (counted.total, counted.exact) == (drills, True)
    uncounted = session_page(offset=0, limit=60, search="drill", now=NOW, count=False)
    assert [r.id for r in uncounted.rows] == [r.id for r in counted.rows]
    # A full window: only a lower bound (one more row exists), to be counted later.
    assert (uncounted.total, uncounted.exact) == (61, False)
    assert count_sessions(search="drill", now=NOW) == drills
    # A window that reaches the end is exact without a count.
    few = session_page(offset=0, limit=60, search="first aid", now=NOW, count=False)
    assert (few.total, few.exact, len(few.rows)) == (1, True, 1)
    none = session_page(offset=0, limit=60, search="no such title", now=NOW, count=False)
    assert (none.total, none.exact, none.rows) == (0, True, [])


async def test_search_shows_its_rows_before_the_count_arrives(
    app: RollcallApp, drills: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    def held_count(**kwargs: Any) -> int:
        release.wait(10)
        return count_sessions(**kwargs)

    monkeypatch.setattr(screens.sessions, "count_sessions", held_count)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        home = app.screen
        assert isinstance(home, SessionsScreen)
        await pilot.press("slash", *"drill")
        for _ in range(200):
            await pilot.pause(0.01)
            if home.shown_generation == home.generation:
                break
        table = home.query_one(PagedTable)
        # The rows are on screen while the count is still held back.
        assert table.row_count == 60
        assert not table.total_exact
        assert "row 1 of 60+ (counting…)" in str(home.query_one("#position", Label).render())
        release.set()
        await settle(pilot)
        assert (table.total, table.total_exact) == (drills, True)
        assert "row 1 of 130 (filtered)" in str(home.query_one("#position", Label).render())
        # Moving past the first window still works once counted.
        await pilot.press("enter", "end")
        await settle(pilot)
        assert table.absolute_row == drills - 1


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        yield FastTable[Any](id="fixed", cursor_type="row")
        yield FastTable[Any](id="auto", cursor_type="row")


CELLS: list[list[Any]] = [
    [Text("Fire Safety", style="dim"), "Room [b]1[/b]", Text(""), "12"],
    [Text("A title far longer than its column", style="bold"), "x" * 30, "", Text("9")],
    [
        Text.assemble(("two ", "red"), ("styles", "italic")),
        "plain",
        Text("•", style="dim strike"),
        "",
    ],
]


async def test_fast_cells_are_drawn_exactly_like_datatable_draws_them() -> None:
    app = _Tables()
    async with app.run_test(size=(80, 20)) as pilot:
        fixed = app.query_one("#fixed", FastTable)
        for key, width in (("title", 14), ("room", 8), ("mark", 3), ("n", 4)):
            fixed.add_column(key.title(), key=key, width=width)
        for index, cells in enumerate(CELLS):
            fixed.add_row(*cells, key=str(index))
        fixed.move_cursor(row=1)
        await pilot.pause()
        compared = 0
        for row in range(-1, fixed.row_count):
            for column, spec in enumerate(fixed.ordered_columns):
                width = spec.get_render_width(fixed)
                for cursor in (False, True):
                    for hover in (False, True):
                        fixed._cell_render_cache.clear()
                        fast = fixed._render_cell(
                            row, column, fixed.rich_style, width, cursor, hover
                        )
                        fixed._cell_render_cache.clear()
                        slow = DataTable._render_cell(
                            fixed, row, column, fixed.rich_style, width, cursor, hover
                        )
                        assert _styled_chars(fast) == _styled_chars(slow), (row, column)
                        compared += 1
        assert compared == 4 * 4 * 4
        # Columns without a set width are still measured, as DataTable does.
        auto = app.query_one("#auto", FastTable)
        auto.add_column("Name", key="name")
        auto.add_row("a rather long name", key="1")
        await pilot.pause()
        assert auto.ordered_columns[0].get_render_width(auto) == len("a rather long name") + 2


def _styled_chars(lines: list[list[Any]]) -> list[list[tuple[str, Any]]]:
    return [[(char, segment.style) for segment in line for char in segment.text] for line in lines]


class _Recording(_Tables):
    def __init__(self) -> None:
        super().__init__()
        self.highlighted: list[tuple[str | None, int]] = []

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.highlighted.append((event.data_table.id, event.cursor_row))


async def test_fast_lines_and_bulk_rows_match_datatable() -> None:
    """Rows added in bulk hold what `add_row` gives, and each line under a row cursor
    (the header, the cursor's row, a hovered row, plain rows) is drawn exactly as
    DataTable draws it."""
    app = _Recording()
    async with app.run_test(size=(80, 20)) as pilot:
        bulk = app.query_one("#fixed", FastTable)
        one_by_one = app.query_one("#auto", FastTable)
        for table in (bulk, one_by_one):
            for key, width in (("title", 14), ("room", 8), ("mark", 3), ("n", 4)):
                table.add_column(key.title(), key=key, width=width)
        rows = [(str(index), cells) for index, cells in enumerate(CELLS)]
        bulk.add_rows_keyed(rows)
        for key, cells in rows:
            one_by_one.add_row(*cells, key=key)
        await pilot.pause()
        assert [r.key.value for r in bulk.ordered_rows] == ["0", "1", "2"]
        assert [bulk.get_row(k) for k, _ in rows] == [one_by_one.get_row(k) for k, _ in rows]
        assert (bulk.cursor_coordinate, bulk.virtual_size) == (
            one_by_one.cursor_coordinate,
            one_by_one.virtual_size,
        )
        assert sorted(app.highlighted) == [("auto", 0), ("fixed", 0)]
        with pytest.raises(Exception, match="already exists"):
            bulk.add_rows_keyed([("1", ["again"])])
        bulk.add_rows_keyed([])  # nothing to add: nothing changes
        assert bulk.row_count == len(CELLS)

        bulk.move_cursor(row=1)
        await pilot.pause()
        keys: list[RowKey] = [bulk._header_row_key, *(row.key for row in bulk.ordered_rows)]
        cursor = bulk.cursor_coordinate
        for hover in (cursor._replace(row=2), cursor):
            for row_key in keys:
                bulk._row_render_cache.clear()
                bulk._cell_render_cache.clear()
                fast = bulk._render_line_in_row(row_key, 0, bulk.rich_style, cursor, hover)
                bulk._row_render_cache.clear()
                bulk._cell_render_cache.clear()
                slow = DataTable._render_line_in_row(
                    bulk, row_key, 0, bulk.rich_style, cursor, hover
                )
                assert fast[0] == slow[0] == []
                assert [_styled_chars([cell]) for cell in fast[1]] == [
                    _styled_chars([cell]) for cell in slow[1]
                ], (row_key, hover)
