"""People: list, search, open, add, edit, deactivate, and import from CSV with a preview."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from screens.base import RollcallModal, db_thread
from screens.form import FieldCheck, SavingForm
from screens.keymap import KEYMAP
from screens.person_lists import PersonListScreen
from screens.plain import block, plain
from screens.widgets.buttons import dialog_buttons
from screens.widgets.paged_table import PagedTable
from screens.widgets.pickers import FieldInput
from store import validate
from store.errors import RollcallError
from store.people import PersonInput
from store.read_models import PersonRow, people_page


class PeopleScreen(PersonListScreen):
    """Everyone who can book training."""

    BINDING_GROUP_TITLE = "People"
    BINDINGS = KEYMAP["people"]
    SEARCH_HINT = "/ search name, email, department"
    COLUMNS = "people"

    @dataclass
    class Loaded(Message):
        """A window of people."""

        rows: list[PersonRow]
        offset: int
        total: int
        cursor: int

    def make_table(self) -> PagedTable:
        """A window of at most 200 people at a time."""
        return PagedTable(id="people", page_size=200)

    def reload(self) -> None:
        """Read the window around the cursor again."""
        self.load(self.query_one(PagedTable).absolute_row)

    def search_changed(self) -> None:
        """A new search starts at the top."""
        self.load(0)

    def set_active(self, row_id: int, active: bool) -> None:
        """Deactivate or reactivate a person."""
        from store.people import set_person_active

        set_person_active(row_id, active)

    def load(self, cursor: int) -> None:
        """Read the window around `cursor`."""
        table = self.query_one(PagedTable)
        self._load(self.query_one(Input).value, cursor, table.page_size)

    @work(thread=True, exclusive=True, exit_on_error=False, group="people-load")
    def _load(self, search: str, cursor: int, size: int) -> None:
        offset = max(0, cursor - size // 3)
        with db_thread():
            rows, total = people_page(search, offset=offset, limit=size)
        self.post_message(self.Loaded(rows, offset, total, cursor))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.rows = {str(r.id): r for r in event.rows}
        table = self.query_one(PagedTable)
        table.show_page(
            event.offset, [(str(r.id), _cells(r)) for r in event.rows], event.total, event.cursor
        )
        self._position()

    @on(PagedTable.PageWanted)
    def _wanted(self, event: PagedTable.PageWanted) -> None:
        self.load(event.index)

    @on(DataTable.RowHighlighted)
    def _position(self) -> None:
        self.query_one("#people-position", Label).update(self.query_one(PagedTable).position_text())

    def action_new(self) -> None:
        """Add a person."""
        self.app.push_screen(PersonForm(None), self.saved)

    def action_edit(self) -> None:
        """Edit the highlighted person."""
        row = self.current()
        if row is not None:
            self.app.push_screen(PersonForm(row), self.saved)

    def action_import_csv(self) -> None:
        """Import people from a CSV file, after a preview."""
        self.app.push_screen(ImportModal(), self.saved)


def _cells(r: PersonRow) -> list[str | Text]:
    style = "" if r.active else "dim"
    flags = []
    if r.trainer:
        flags.append("trainer")
    if not r.active:
        flags.append("inactive")
    return [
        plain(r.name, style),
        plain(r.email, style),
        plain(r.department, style),
        plain(r.role, style),
        plain(r.location, style),
        Text(" ".join(flags), style=style),
    ]


PERSON_FIELDS = ("email", "name", "department", "role", "location", "notes")

PERSON_CHECKS: dict[str, FieldCheck] = {
    "email": lambda text: validate.email_address(text, "email"),
    "name": lambda text: validate.required_text(text, "name"),
    "manager": lambda text: validate.email_address(text, "manager") if text.strip() else None,
}
"""The rules' checks of one field, run as it is typed and left."""


class PersonForm(SavingForm):
    """Add or edit a person; errors next to the field."""

    BINDINGS = KEYMAP["person-form"]
    FIELD_CHECKS = PERSON_CHECKS
    PICK_FIELDS = ("manager",)
    SAVED_TEXT = "Person saved"
    ERROR_FIELDS = (*PERSON_FIELDS, "manager")

    def __init__(self, person: PersonRow | None) -> None:
        super().__init__()
        self.person = person

    def compose(self) -> ComposeResult:
        """One input per field."""
        p = self.person
        values = {
            "email": p.email if p else "",
            "name": p.name if p else "",
            "department": p.department if p else "",
            "role": p.role if p else "",
            "location": p.location if p else "",
            "notes": "",
        }
        with Vertical(classes="dialog", id="person-form"):
            yield Label(plain("New person" if p is None else f"Edit {p.name}"), id="form-title")
            with VerticalScroll():
                for name in PERSON_FIELDS:
                    if name == "notes" and p is not None:
                        continue
                    yield Label(name.capitalize(), classes="field-label")
                    yield FieldInput(values[name], id=name)
                    yield Label("", id=f"error-{name}", classes="field-error")
                yield Label(
                    "Manager (email, or ctrl+f to pick by name; approves their training)",
                    classes="field-label",
                )
                yield FieldInput("", id="manager")
                yield Label("", id="error-manager", classes="field-error")
                yield Label("", id="error-general", classes="field-error")
            yield dialog_buttons("Save (ctrl+s)", "save")

    def on_mount(self) -> None:
        """Start at the first field; an edit reads the current manager."""
        self.query_one(Input).focus()
        if self.person is not None:
            self.load_manager(self.person.id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-manager")
    def load_manager(self, person_id: int) -> None:
        """Read the person's manager in a thread and fill the field."""
        from store.models import Person

        with db_thread():
            person = Person.get_or_none(Person.id == person_id)
            email = person.manager.email if person is not None and person.manager_id else ""
        self.app.call_from_thread(self._manager_loaded, email)

    def _manager_loaded(self, email: str) -> None:
        self.query_one("#manager", Input).value = email
        self.call_after_refresh(self.mark_clean)

    async def action_save(self) -> None:
        """Hand the fields to the rule, once every key typed before is in."""
        await self.keys_settled()
        self.clear_errors()
        data = {
            name: self.query_one(f"#{name}", Input).value
            for name in PERSON_FIELDS
            if self.query(f"#{name}")
        }
        self.save(PersonInput(**data), self.query_one("#manager", Input).value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False, group="person-save")
    def save(self, data: PersonInput, manager: str = "") -> None:
        """Add or update through the rules (the person and their manager in one transaction)."""
        from store.approvals import set_manager
        from store.db import write_transaction
        from store.people import add_person, update_person

        try:
            with db_thread(), write_transaction():
                if self.person is None:
                    saved = add_person(data)
                else:
                    from store.models import Person

                    existing = Person.get_by_id(self.person.id)
                    saved = update_person(self.person.id, _with_notes(data, existing.notes))
                set_manager(saved.email, manager or None)
        except RollcallError as exc:
            self.post_message(self.Rejected(exc.message, exc.field))
            return
        self.post_message(self.Saved())


def _with_notes(data: PersonInput, notes: str) -> PersonInput:
    from dataclasses import replace

    return replace(data, notes=notes)


class ImportModal(RollcallModal[bool]):
    """Read a CSV file, show what it would do and its errors by line, then import.

    The people import by default; a subclass names another import by overriding
    `HEADING`, `check`, `run`, `headline`, `rows` and `done_text`.
    """

    BINDINGS = KEYMAP["person-import"]
    HEADING = "Import people from CSV (email,name,department,role,location)"
    PLACEHOLDER = "path/to/people.csv (~ is your home), enter to preview"

    @dataclass
    class Previewed(Message):
        """The preview of a file (or why it could not be read)."""

        text: str
        summary: Any
        error: str | None

    @dataclass
    class Imported(Message):
        """The import went through; what to say."""

        text: str

    def __init__(self) -> None:
        super().__init__()
        self.csv_text: str | None = None

    def compose(self) -> ComposeResult:
        """Path, preview, buttons."""
        with Vertical(classes="dialog", id="import-box"):
            yield Label(self.HEADING)
            yield Input(placeholder=self.PLACEHOLDER, id="path")
            with VerticalScroll(id="preview-box"):
                yield Static("", id="preview")
            yield dialog_buttons("Import (ctrl+s)", "import", disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        """Start with the path."""
        self.query_one(Input).focus()

    def why_not(self, action: str) -> str | None:
        """Import is greyed out until a preview without errors."""
        if action == "import_now" and self.csv_text is None:
            return "preview a file without errors first (enter in the path field)"
        return super().why_not(action)

    def check(self, text: str) -> Any:
        """The store's preview of `text` (runs in a worker thread)."""
        from store.people import preview_people_csv

        return preview_people_csv(text)

    def run(self, text: str) -> Any:
        """The store's all-or-nothing import of `text` (runs in a worker thread)."""
        from store.people import import_people_csv

        return import_people_csv(text)

    def headline(self, summary: Any) -> str:
        """The counts a preview starts with."""
        return f"{len(summary.new)} new, {len(summary.updates)} updated"

    def rows(self, summary: Any) -> list[str]:
        """One line per new person, and per field each existing person would change."""
        from store.textkey import fold

        lines = [f"+ {p.name} <{p.email}> {p.department}" for p in summary.new[:50]]
        for p in summary.updates[:50]:
            changes = summary.changes.get(fold(p.email), [])
            lines.append(f"~ {p.name} <{p.email}>" + ("" if changes else ": no change"))
            lines += [
                f"    {name}: {old or '(blank)'} → {new or '(blank)'}" for name, old, new in changes
            ]
        return lines

    def done_text(self, result: Any) -> str:
        """What the notification says after the import."""
        return f"Imported: {len(result.new)} added, {len(result.updates)} updated"

    @on(Input.Submitted, "#path")
    def _path(self, event: Input.Submitted) -> None:
        self.preview(event.value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-preview")
    def preview(self, path: str) -> None:
        """Read and check the file without writing anything."""
        from store.people import read_csv_file

        try:
            text = read_csv_file(path)
            with db_thread():
                summary = self.check(text)
        except RollcallError as exc:
            self.post_message(self.Previewed("", None, exc.message))
            return
        self.post_message(self.Previewed(text, summary, None))

    @on(Previewed)
    def _previewed(self, event: Previewed) -> None:
        out = Text()
        button = self.query_one("#import", Button)
        if event.error:
            out.append_text(block(event.error, "bold"))
            self.csv_text = None
            button.disabled = True
        else:
            s = event.summary
            out.append(f"{self.headline(s)}, {len(s.errors)} error(s)\n")
            for line, message in s.errors:
                out.append_text(plain(f"line {line}: {message}", "bold") + "\n")
            rows = self.rows(s)
            for row in rows:
                out.append_text(plain(row) + "\n")
            self.csv_text = event.text if s.ok and rows else None
            if s.errors:
                out.append("Fix the errors and preview again; nothing is imported.", style="bold")
            button.disabled = self.csv_text is None
        self.query_one("#preview", Static).update(out)
        self.refresh_bindings()

    @on(Button.Pressed, "#import")
    def action_import_now(self) -> None:
        """Import the previewed file (only after a preview without errors)."""
        if self.csv_text:
            self.run_import(self.csv_text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="import-run")
    def run_import(self, text: str) -> None:
        """Import every row or none."""
        try:
            with db_thread():
                result = self.run(text)
        except RollcallError as exc:
            self.post_message(self.Previewed("", None, exc.message))
            return
        self.post_message(self.Imported(self.done_text(result)))

    @on(Imported)
    def _imported(self, event: Imported) -> None:
        self.app.notify(event.text)
        self.dismiss(True)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(False)

    def action_abandon(self) -> None:
        """Back without importing."""
        self.dismiss(False)
