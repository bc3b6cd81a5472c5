"""Trainers: who may deliver sessions; open, register, edit, deactivate."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Label

from screens.base import Refusal, db_thread, run_rule
from screens.form import SavingForm
from screens.keymap import KEYMAP
from screens.person_lists import PersonListScreen
from screens.plain import plain
from screens.widgets.buttons import dialog_buttons
from screens.widgets.pickers import FieldInput
from store import validate
from store.read_models import PersonRow, TrainerChoice, trainer_choices


class TrainersScreen(PersonListScreen):
    """Registered trainers with their coming sessions."""

    BINDING_GROUP_TITLE = "Trainers"
    WHAT = "trainer"
    BINDINGS = KEYMAP["trainers"]
    AREA = "trainers"
    SEARCH_HINT = "/ search name or email"
    INFO_ID = "trainers-count"
    COLUMNS = "trainers"

    @dataclass
    class Loaded(Message):
        """Trainers matching the search."""

        trainers: list[TrainerChoice]

    def make_table(self) -> DataTable[Text]:
        """Every matching trainer (a short list)."""
        return DataTable(id="trainers", cursor_type="row")

    def reload(self) -> None:
        """Read the trainers again (the cursor stays on its trainer)."""
        self.load()

    def set_active(self, row_id: int, active: bool) -> None:
        """Deactivate or reactivate a trainer."""
        from store.people import set_trainer_active

        set_trainer_active(row_id, active)

    def load(self) -> None:
        """Read the trainers."""
        self._load(self.query_one(Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trainers-load")
    def _load(self, search: str) -> None:
        with db_thread():
            trainers = trainer_choices(active_only=False, search=search)
        self.post_message(self.Loaded(trainers))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        table = self.query_one(DataTable)
        current = self.current()
        key = current.email if current else None
        table.clear()
        self.rows = {}
        for t in event.trainers:
            style = "" if t.active else "dim"
            self.rows[t.email] = t
            table.add_row(
                plain(t.name, style),
                plain(t.email, style),
                Text(str(t.upcoming), style=style),
                Text("" if t.active else "inactive", style=style),
                key=t.email,
            )
        if key in self.rows:
            table.move_cursor(row=list(self.rows).index(key), animate=False)
        self.query_one("#trainers-count", Label).update(f"{len(event.trainers)} trainer(s)")

    def action_new(self) -> None:
        """Register a trainer (a known person, or a new one)."""
        self.app.push_screen(TrainerForm(), self.saved)

    def action_edit(self) -> None:
        """Edit the trainer's person details."""
        row = self.current()
        if row is not None:
            self._open_person(row.email)

    @work(thread=True, exclusive=True, exit_on_error=False, group="trainers-person")
    def _open_person(self, email: str) -> None:
        from store.read_models import people_page

        with db_thread():
            rows, _ = people_page(email, limit=5)
        match = [r for r in rows if r.email.lower() == email.lower()]
        if match:
            self.post_message(self.PersonFound(match[0]))

    @dataclass
    class PersonFound(Message):
        """The trainer's person row, to edit."""

        row: PersonRow

    @on(PersonFound)
    def _edit_person(self, event: PersonFound) -> None:
        from screens.people import PersonForm

        self.app.push_screen(PersonForm(event.row), self.saved)


class TrainerForm(SavingForm):
    """Register a trainer by email; a name creates the person when they are new."""

    BINDINGS = KEYMAP["trainer-form"]
    PICK_FIELDS = ("email",)
    FIELD_CHECKS = {"email": lambda text: validate.email_address(text, "email")}
    SAVED_TEXT = "Trainer registered"
    ERROR_FIELDS = ("email", "name")

    def compose(self) -> ComposeResult:
        """Email and name."""
        with Vertical(classes="dialog"):
            yield Label("Register a trainer", id="form-title")
            yield Label("Email (or ctrl+f to pick a known person by name)", classes="field-label")
            yield FieldInput(id="email")
            yield Label("", id="error-email", classes="field-error")
            yield Label("Name (only for someone new)", classes="field-label")
            yield FieldInput(id="name")
            yield Label("", id="error-name", classes="field-error")
            yield Label("", id="error-general", classes="field-error")
            yield dialog_buttons("Save (ctrl+s)", "save")

    def on_mount(self) -> None:
        """Start with the email."""
        self.query_one("#email", Input).focus()

    async def action_save(self) -> None:
        """Register through the rule, once every key typed before is in."""
        await self.keys_settled()
        self.clear_errors()
        self.save(self.query_one("#email", Input).value, self.query_one("#name", Input).value)

    @on(Input.Submitted)
    async def _submitted(self) -> None:
        await self.action_save()

    @work(thread=True, exclusive=True, exit_on_error=False, group="trainer-save")
    def save(self, email: str, name: str) -> None:
        """Call `add_trainer`."""
        from store.people import add_trainer

        if (
            run_rule(self, lambda: add_trainer(email, name or None), self.Rejected)
            is Refusal.REFUSED
        ):
            return
        self.post_message(self.Saved())
