"""Form pickers: a visibility set with "All", and an editable list of materials."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, SelectionList

from screens.plain import plain
from screens.widgets.ticks import TickBox, TickList
from store.textkey import fold


class VisibilityPicker(Vertical):
    """Pick values of one visibility dimension; "All" (nothing picked) is its own box."""

    DEFAULT_CSS = """
    VisibilityPicker { height: auto; width: 1fr; }
    VisibilityPicker SelectionList { height: auto; max-height: 6; }
    VisibilityPicker Checkbox { width: auto; }
    """

    def __init__(
        self, title: str, options: Sequence[str], chosen: Sequence[str] = (), *, id: str
    ) -> None:
        super().__init__(id=id)
        self.title = title
        self.options = list(options)
        for value in chosen:
            if fold(value) not in {fold(o) for o in self.options}:
                self.options.append(value)
        self.chosen = list(chosen)

    def compose(self) -> ComposeResult:
        """A label, the All box and the list of known values."""
        yield Label(plain(self.title))
        yield TickBox("All", value=not self.chosen, classes="all")
        lowered = {fold(c) for c in self.chosen}
        yield TickList[str](*[(plain(o), o, fold(o) in lowered) for o in self.options])

    @property
    def values(self) -> list[str]:
        """The picked values; empty means All."""
        if self.query_one(Checkbox).value:
            return []
        return list(self.query_one(SelectionList).selected)

    def set_values(self, values: Sequence[str]) -> None:
        """Pick exactly `values` (empty: All)."""
        picks = self.query_one(SelectionList)
        lowered = {fold(v) for v in values}
        for value in values:
            if fold(value) not in {fold(o) for o in self.options}:
                self.options.append(value)
                picks.add_option((plain(value), value))
        picks.deselect_all()
        for option in self.options:
            if fold(option) in lowered:
                picks.select(option)
        self.query_one(Checkbox).value = not values

    @on(Checkbox.Changed, ".all")
    def _all_changed(self, event: Checkbox.Changed) -> None:
        if event.value:
            self.query_one(SelectionList).deselect_all()

    @on(SelectionList.SelectedChanged)
    def _picked(self, event: SelectionList.SelectedChanged[str]) -> None:
        self.query_one(Checkbox).value = not event.selection_list.selected


class MaterialRow(Horizontal):
    """One material: a name, a URL and a remove button."""

    DEFAULT_CSS = """
    MaterialRow { height: auto; }
    MaterialRow .material-name { width: 1fr; }
    MaterialRow .material-url { width: 2fr; }
    MaterialRow Button { min-width: 5; width: 5; }
    """

    def __init__(self, name: str = "", url: str = "") -> None:
        super().__init__(classes="material-row")
        self._name = name
        self._url = url

    def compose(self) -> ComposeResult:
        """Name, URL, remove."""
        yield Input(self._name, placeholder="Name", classes="material-name")
        yield Input(self._url, placeholder="https://…", classes="material-url")
        yield Button("✕", classes="remove-material", tooltip="Remove this material")

    @property
    def value(self) -> tuple[str, str]:
        """(name, url) as typed."""
        return (
            self.query_one(".material-name", Input).value,
            self.query_one(".material-url", Input).value,
        )


class MaterialsEditor(Vertical):
    """Any number of material rows with add and remove."""

    DEFAULT_CSS = """
    MaterialsEditor { height: auto; }
    MaterialsEditor #add-material { width: auto; }
    """

    def __init__(self, materials: Sequence[tuple[str, str]] = (), *, id: str) -> None:
        super().__init__(id=id)
        self._initial = list(materials)

    def compose(self) -> ComposeResult:
        """The rows, then the add button."""
        for name, url in self._initial:
            yield MaterialRow(name, url)
        yield Button("+ Add material", id="add-material")

    @property
    def values(self) -> list[tuple[str, str]]:
        """Every row with anything typed in it."""
        return [row.value for row in self.query(MaterialRow) if any(v.strip() for v in row.value)]

    def set_values(self, materials: Sequence[tuple[str, str]]) -> None:
        """Replace the rows."""
        self.query(MaterialRow).remove()
        button = self.query_one("#add-material")
        for name, url in materials:
            self.mount(MaterialRow(name, url), before=button)

    @on(Button.Pressed, "#add-material")
    def _add(self, event: Button.Pressed) -> None:
        event.stop()
        row = MaterialRow()
        self.mount(row, before=self.query_one("#add-material"))
        self.call_after_refresh(lambda: row.query_one(Input).focus())

    @on(Button.Pressed, ".remove-material")
    def _remove(self, event: Button.Pressed) -> None:
        event.stop()
        row = event.button.parent
        if isinstance(row, MaterialRow):
            row.remove()


class FieldInput(Input):
    """A one-line input for forms (no border), so a form fits an 80x24 terminal.

    Without a border the focus shows as a marked background and a bold text.
    """

    DEFAULT_CSS = """
    FieldInput.-textual-compact:focus {
        background-tint: $accent 35%;
        text-style: bold;
    }
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("compact", True)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
