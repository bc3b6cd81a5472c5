"""What the People and Trainers lists share: search, the highlighted row, the person page,
and (de)activation after a question."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Header, Input, Label

from screens.base import Refusal, SearchListScreen, add_columns, run_rule
from screens.messages import Done
from screens.widgets.foot import screen_foot
from screens.widgets.table_cursor import highlighted_key

"""A list column: (heading, key, width)."""


class PersonListScreen(SearchListScreen):
    """A searchable list of people; subclasses read the rows and name the store rules.

    `rows` maps each row key to an object with ``id``, ``email``, ``name`` and
    ``active``; enter on a row opens that person's page.
    """

    WHAT = "person"
    """What one row is, in questions ("Deactivate the trainer Ann Adams?")."""
    AREA = "people"
    """The ids' stem: ``<AREA>-search-box``."""
    SEARCH_HINT = "/ search"
    INFO_ID = "people-position"
    """The info bar's label (row position or count)."""
    COLUMNS = "people"
    """The name of the list's columns in `screens.columns.COLUMNS`."""
    ROLE_ACTIONS: ClassVar[dict[str, str]] = dict.fromkeys(
        ("new", "edit", "toggle_active", "import_csv"), "people"
    )

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Any] = {}

    def make_table(self) -> DataTable[Any]:
        """The list widget."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        """Search, list, info bar, footer."""
        yield Header()
        yield Input(placeholder=self.SEARCH_HINT, id=f"{self.AREA}-search-box")
        yield self.make_table()
        yield from screen_foot(Label("", id=self.INFO_ID))

    def on_mount(self) -> None:
        """Columns, then the first rows."""
        table = self.query_one(DataTable)
        add_columns(table, self.COLUMNS)
        table.focus()
        self.search_changed()

    def action_reload(self) -> None:
        """Read the list again."""
        self.reload()

    def reload(self) -> None:
        """Read the rows again, keeping the cursor where it is."""
        raise NotImplementedError

    def search_changed(self) -> None:
        """Read the rows for a new search."""
        self.reload()

    def set_active(self, row_id: int, active: bool) -> None:
        """The store rule that (de)activates a row (runs in a worker thread)."""
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        """Pick up changes made elsewhere."""
        if self.is_mounted:
            self.reload()

    def current(self) -> Any | None:
        """The highlighted row."""
        return self.rows.get(highlighted_key(self.query_one(DataTable)) or "")

    @on(Input.Changed)
    def _typed(self) -> None:
        self.search_changed()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        """The highlighted person's page."""
        row = self.current()
        if row is None:
            return
        from screens.person import PersonScreen

        self.app.push_screen(PersonScreen(row.email), lambda _: self.reload())

    def saved(self, saved: bool | None) -> None:
        """After a form: read again when something was saved."""
        if saved:
            self.reload()

    def action_toggle_active(self) -> None:
        """Deactivate the highlighted row after a question (reactivating needs none)."""
        row = self.current()
        if row is None:
            return
        if not row.active:
            self._toggle(row.id, True, row.name)
            return
        from screens.dialogs import confirm

        question = (
            f"Deactivate the {self.WHAT} {row.name} <{row.email}>? Their record is kept; "
            "d again reactivates."
        )
        confirm(
            self, question, "Deactivate", lambda: self._toggle(row.id, False, row.name), danger=True
        )

    @work(thread=True, exit_on_error=False, group="person-list-write")
    def _toggle(self, row_id: int, active: bool, name: str) -> None:
        if run_rule(self, lambda: self.set_active(row_id, active)) is Refusal.REFUSED:
            return
        self.post_message(Done(f"{name} {'reactivated' if active else 'deactivated'}"))
