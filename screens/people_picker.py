"""Pick a person (to add to a session, or wherever an email is asked): search by name, email
or department."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Label

from screens.base import RollcallModal, add_columns, db_thread
from screens.keymap import KEYMAP
from screens.plain import plain
from screens.widgets.table_cursor import highlighted_key
from store.read_models import PersonRow, people_page, people_to_add


class PeoplePicker(RollcallModal[str | None]):
    """Type to narrow, enter to choose; dismisses with the chosen email."""

    BINDINGS = KEYMAP["people-picker"]

    @dataclass
    class Found(Message):
        """People matching the search."""

        people: list[PersonRow]

    @dataclass
    class Checked(Message):
        """Whether the chosen person is in the session's audience (`reasons` empty) or not."""

        email: str
        name: str
        reasons: list[str]

    ADD_PROMPT = "Add a person: type a name, email or department; enter to add"

    def __init__(self, session_id: int | None = None, *, prompt: str = "") -> None:
        """`session_id`: offer only people not on that session; None: everyone."""
        super().__init__()
        self.session_id = session_id
        self.prompt = prompt or self.ADD_PROMPT

    def compose(self) -> ComposeResult:
        """Search box and matches."""
        with Vertical(classes="dialog", id="picker"):
            yield Label(plain(self.prompt))
            yield Input(placeholder="search", id="picker-search")
            yield DataTable(id="picker-list", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        """Columns and the first matches."""
        table = self.query_one(DataTable)
        add_columns(table, "people-picker")
        self.query_one(Input).focus()
        self.search("")

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker-search")
    def search(self, text: str) -> None:
        """Find people (not on the session yet, when picking for one)."""
        with db_thread():
            if self.session_id is None:
                people, _ = people_page(text, limit=50)
            else:
                people = people_to_add(self.session_id, text)
        self.post_message(self.Found(people))

    @on(Found)
    def _found(self, event: Found) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for p in event.people:
            table.add_row(plain(p.name), plain(p.email), plain(p.department), key=p.email)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 1:
            self._choose(table)
        else:
            table.focus()

    def action_to_list(self) -> None:
        """Move from the search box to the list."""
        self.query_one(DataTable).focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.check(event.row_key.value)

    def _choose(self, table: DataTable[str]) -> None:
        key = highlighted_key(table)
        if key:
            self.check(key)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker-check")
    def check(self, email: str) -> None:
        """Read whether the person is in the session's audience before adding them (any
        person is fine when picking for no session)."""
        from store.models import Session
        from store.people import get_person
        from store.visibility import outside_audience

        with db_thread():
            person = get_person(email)
            reasons = (
                []
                if self.session_id is None
                else outside_audience(person, Session.get_by_id(self.session_id))
            )
        self.post_message(self.Checked(email, person.name, reasons))

    @on(Checked)
    def _checked(self, event: Checked) -> None:
        from screens.dialogs import confirm

        if not event.reasons:
            self.dismiss(event.email)
            return

        # An admin may enrol anyone (visibility does not apply), but should know first.
        question = (
            f"{event.name} is outside this session's audience: {'; '.join(event.reasons)}. "
            "They would not see it in their own calendar. Add them anyway?"
        )
        confirm(self, question, "Add anyway", lambda: self.dismiss(event.email))
