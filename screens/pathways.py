"""The pathway editor: pathways, their ordered requirements, and a person's progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Label, Static

from screens.base import Refusal, RollcallModal, RollcallScreen, db_thread, run_rule
from screens.dialogs import FormModal, confirm
from screens.keymap import KEYMAP
from screens.plain import assemble, block, plain
from screens.widgets.footer import KeyFooter
from screens.widgets.progress import progress_text

REQUIREMENT_HINT = (
    "Either courses and/or session ids (comma-separated), or one e-learning item. "
    "Mode: all (every one) or any (one of them). The label defaults from the names."
)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class ProgressDialog(RollcallModal[None]):
    """A person's progress on every pathway."""

    DEFAULT_CSS = "ProgressDialog > .dialog { width: 80; }"
    BINDINGS = KEYMAP["pathway-progress"]

    def __init__(self, email: str, rows: list[dict[str, Any]]) -> None:
        super().__init__()
        self.email = email
        self.rows = rows

    def compose(self) -> ComposeResult:
        """Title and the progress text."""
        with Vertical(classes="dialog"):
            yield Label(assemble(("Progress of ", "bold"), (self.email, "bold")))
            with VerticalScroll():
                yield Static(progress_text(self.rows), id="progress-text")
            yield Label("[dim]esc closes[/dim]")


class PathwaysScreen(RollcallScreen):
    """List and edit pathways: `n` new, `e` edit, `a` add a requirement, `x` remove it,
    `[`/`]` move it, `p` a person's progress, `delete` the pathway."""

    DEFAULT_CSS = """
    PathwaysScreen #pathways-body { height: 1fr; }
    PathwaysScreen #pathway-list { width: 1fr; }
    PathwaysScreen #pathway-side { width: 2fr; border-left: solid $primary; padding: 0 1; }
    PathwaysScreen #pathway-about { height: auto; margin-bottom: 1; }
    PathwaysScreen #requirement-list { height: 1fr; }
    """
    BINDING_GROUP_TITLE = "Pathways"
    BINDINGS = KEYMAP["pathways"]

    @dataclass
    class Loaded(Message):
        """Pathways and the selected one's detail were read."""

        pathways: list[dict[str, Any]]
        details: list[dict[str, Any]]
        pathway_id: int | None

    @dataclass
    class Changed(Message):
        """An edit went through; reload, keeping the selection on `pathway_id`."""

        text: str
        pathway_id: int | None
        step: int | None = None

    @dataclass
    class ProgressRead(Message):
        """A person's progress was read."""

        email: str
        rows: list[dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
        self.pathways: list[dict[str, Any]] = []
        self.detail: dict[str, Any] | None = None
        self.details: dict[int, dict[str, Any]] = {}
        self.selected: int | None = None
        self._step_cursor: int | None = None

    def compose(self) -> ComposeResult:
        """Pathway list on the left, the selected pathway's steps on the right."""
        with Horizontal(id="pathways-body"):
            yield DataTable(id="pathway-list", cursor_type="row")
            with Vertical(id="pathway-side"):
                yield Static("", id="pathway-about")
                yield DataTable(id="requirement-list", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns, focus and the first load."""
        self.query_one("#pathway-list", DataTable).add_columns("Pathway", "Steps")
        self.query_one("#requirement-list", DataTable).add_columns("#", "Step", "Kind", "Mode")
        self.query_one("#pathway-list", DataTable).focus()
        self.load()

    # -- reading ---------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="pathways-load")
    def load(self, pathway_id: int | None = None) -> None:
        """Read every pathway with its steps (there are tens, not thousands)."""
        from store.pathways import get_pathway, list_pathways, pathway_dict

        with db_thread():
            rows = list_pathways()
            details = [pathway_dict(get_pathway(r["id"])) for r in rows]
        self.post_message(self.Loaded(rows, details, pathway_id))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self.pathways = event.pathways
        self.details = {d["id"]: d for d in event.details}
        wanted = event.pathway_id if event.pathway_id is not None else self.selected
        if wanted not in self.details:
            wanted = event.pathways[0]["id"] if event.pathways else None
        self.selected = wanted
        self.detail = self.details.get(wanted) if wanted is not None else None
        table = self.query_one("#pathway-list", DataTable)
        table.clear()
        for row in event.pathways:
            table.add_row(plain(row["name"]), str(row["requirements"]), key=str(row["id"]))
        if self.selected is not None:
            table.move_cursor(row=[r["id"] for r in self.pathways].index(self.selected))
        self._show_detail()

    def _show_detail(self) -> None:
        about = self.query_one("#pathway-about", Static)
        steps = self.query_one("#requirement-list", DataTable)
        steps.clear()
        if self.detail is None:
            about.update("No pathways yet. Press n to create one.")
            return
        text = plain(self.detail["name"], "bold")
        if self.detail["description"]:
            text = Text("\n").join([text, block(self.detail["description"])])
        about.update(text)
        for r in self.detail["requirements"]:
            if r["kind"] == "elearning":
                kind = f"e-learning: {r['elearning']}"
            else:
                parts = r["courses"] + [f"session {s}" for s in r["sessions"]]
                kind = ", ".join(parts)
            steps.add_row(
                str(r["position"]), plain(r["label"]), plain(kind), r["mode"], key=str(r["id"])
            )
        if self._step_cursor is not None and self.detail["requirements"]:
            steps.move_cursor(row=min(self._step_cursor, len(self.detail["requirements"]) - 1))
            self._step_cursor = None

    @on(DataTable.RowHighlighted, "#pathway-list")
    def _pathway_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = self.query_one("#pathway-list", DataTable)
        if event.cursor_row != table.cursor_row:
            return  # stale: the list was refilled since
        key = int(str(event.row_key.value)) if event.row_key.value is not None else None
        if key is not None and key != self.selected and key in self.details:
            self.selected = key
            self.detail = self.details[key]
            self._show_detail()

    def _current_step(self) -> dict[str, Any] | None:
        if self.detail is None or not self.detail["requirements"]:
            return None
        table = self.query_one("#requirement-list", DataTable)
        rows = self.detail["requirements"]
        if 0 <= table.cursor_row < len(rows):
            return dict(rows[table.cursor_row])
        return None

    ROLE_ACTIONS: ClassVar[dict[str, str]] = dict.fromkeys(
        (
            "new_pathway",
            "edit_pathway",
            "add_requirement",
            "remove_requirement",
            "move",
            "delete_pathway",
        ),
        "pathways",
    )

    def why_not(self, action: str) -> str | None:
        """Pathway changes are for admins; most need a pathway or a step highlighted."""
        refused = super().why_not(action)
        if refused:
            return refused
        if action in ("edit_pathway", "add_requirement", "delete_pathway") and not self.detail:
            return "highlight a pathway first (n makes a new one)"
        if action in ("remove_requirement", "move") and self._current_step() is None:
            return "highlight a step of the pathway first (tab switches to the steps)"
        return None

    # -- actions ---------------------------------------------------------------

    def action_reload(self) -> None:
        """Read everything again."""
        self.load()

    def action_switch_list(self) -> None:
        """Move the focus between the pathway list and its steps."""
        pathways = self.query_one("#pathway-list", DataTable)
        steps = self.query_one("#requirement-list", DataTable)
        (steps if pathways.has_focus else pathways).focus()

    def action_new_pathway(self) -> None:
        """Ask for a name and description, then create the pathway."""
        form = FormModal(
            "New pathway",
            [("name", "Name", ""), ("description", "Description", "")],
            required=("name",),
        )
        self.app.push_screen(form, self._new_answered)

    def _new_answered(self, values: dict[str, str] | None) -> None:
        if values is not None:
            self.write("add_pathway", values)

    def _ask_about_pathway(self, form: FormModal, rule: str, pid: int) -> None:
        """Show `form`; its answers, with the pathway's id `pid`, go to `rule`."""

        def answered(values: dict[str, str] | None) -> None:
            if values is not None:
                self.write(rule, {**values, "id": pid})

        self.app.push_screen(form, answered)

    def action_edit_pathway(self) -> None:
        """Rename the pathway or change its description."""
        if self.detail is None:
            return
        form = FormModal(
            "Edit pathway",
            [
                ("name", "Name", self.detail["name"]),
                ("description", "Description", self.detail["description"]),
            ],
            required=("name",),
        )
        self._ask_about_pathway(form, "edit", self.detail["id"])

    def action_add_requirement(self) -> None:
        """Ask for the courses, sessions or e-learning item of a new step."""
        if self.detail is None:
            return
        form = FormModal(
            "Add a step",
            [
                ("courses", "Courses (titles, comma-separated)", ""),
                ("sessions", "Specific sessions (ids, comma-separated)", ""),
                ("elearning", "Or one e-learning item", ""),
                ("mode", "Mode (all or any)", "all"),
                ("label", "Label (optional)", ""),
            ],
            hint=REQUIREMENT_HINT,
        )
        self._ask_about_pathway(form, "require", self.detail["id"])

    def action_remove_requirement(self) -> None:
        """Remove the highlighted step after a confirmation."""
        step = self._current_step()
        if step is None:
            return
        confirm(
            self,
            f"Remove the step {step['label']!r}?",
            "Remove",
            lambda: self.write("remove", {"step": step["id"]}),
        )

    def action_move(self, offset: int) -> None:
        """Move the highlighted step up or down."""
        step = self._current_step()
        if step is not None:
            self.write("move", {"step": step["id"], "offset": offset})

    def action_delete_pathway(self) -> None:
        """Delete the pathway (completions stay) after a confirmation."""
        if self.detail is None:
            return
        pid, name = self.detail["id"], self.detail["name"]
        confirm(
            self,
            f"Delete the pathway {name!r}? Completions are kept.",
            "Delete",
            lambda: self.write("delete", {"id": pid}),
        )

    def action_progress(self) -> None:
        """Pick a person by name, email or department and show their progress."""
        from screens.people_picker import PeoplePicker

        def chosen(email: str | None) -> None:
            if email:
                self.read_progress(email)

        picker = PeoplePicker(prompt="Whose progress? Type a name, email or department; enter")
        self.app.push_screen(picker, chosen)

    # -- writing ---------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="pathways-write")
    def write(self, what: str, values: dict[str, Any]) -> None:
        """Run one pathway rule in a thread; refusals come back as `RuleRefused`."""
        from store import pathways as rules

        def apply() -> PathwaysScreen.Changed:
            if what == "add_pathway":
                made = rules.add_pathway(values["name"], values["description"])
                changed = self.Changed(f"Pathway {made.name!r} created", made.id)
            elif what == "edit":
                rules.edit_pathway(
                    values["id"], name=values["name"], description=values["description"]
                )
                changed = self.Changed("Pathway saved", values["id"])
            elif what == "require":
                step = rules.add_requirement(
                    values["id"],
                    courses=_split(values["courses"]),
                    sessions=_split(values["sessions"]),
                    elearning=values["elearning"].strip() or None,
                    mode=values["mode"].strip().lower() or "all",
                    label=values["label"].strip() or None,
                )
                changed = self.Changed(
                    f"Step {step.position} added", values["id"], step.position - 1
                )
            elif what == "remove":
                rules.remove_requirement(values["step"])
                changed = self.Changed("Step removed", None)
            elif what == "move":
                position = rules.move_requirement(values["step"], values["offset"])
                changed = self.Changed("", None, position - 1)
            elif what == "delete":
                rules.delete_pathway(values["id"])
                changed = self.Changed("Pathway deleted", None)
            else:  # pragma: no cover - the actions above are the only callers
                raise ValueError(what)
            return changed

        changed = run_rule(self, apply)
        if changed is not Refusal.REFUSED:
            self.post_message(changed)

    @on(Changed)
    def _changed(self, event: Changed) -> None:
        if event.text:
            self.notify(event.text)
        if event.step is not None:
            self._step_cursor = event.step
        self.load(event.pathway_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pathways-progress")
    def read_progress(self, email: str) -> None:
        """Read a person's progress in a thread."""
        from store.pathways import progress

        rows = run_rule(self, lambda: progress(email))
        if rows is not Refusal.REFUSED:
            self.post_message(self.ProgressRead(email, rows))

    @on(ProgressRead)
    def _progress_read(self, event: ProgressRead) -> None:
        self.app.push_screen(ProgressDialog(event.email, event.rows))
