"""Pilot tests of the pathway editor: create, add, reorder and remove steps, see progress."""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App
from textual.widgets import DataTable, Input, Label, Static

from screens.dialogs import FormModal
from screens.pathways import PathwaysScreen, ProgressDialog
from screens.people_picker import PeoplePicker
from store.models import Course, Pathway, PathwayRequirement
from store.pathways import pathway_dict
from store.people import PersonInput, add_person
from tests.tui.conftest import settle


class PathwaysApp(App[None]):
    """A bare app that shows only the pathway editor."""

    def on_mount(self) -> None:
        """Open the screen under test."""
        self.push_screen(PathwaysScreen())


@pytest.fixture
def courses(sqlite_store: str) -> None:
    """Two courses and a person."""
    Course.create(title="Fire Safety")
    Course.create(title="First Aid")
    add_person(PersonInput(email="ann@example.org", name="Ann"))


async def _fill(pilot: Any, values: dict[str, str]) -> None:
    await pilot.pause()
    form = pilot.app.screen
    assert isinstance(form, FormModal)
    for key, text in values.items():
        form.query_one(f"#field-{key}", Input).value = text
    await pilot.press("enter")
    await settle(pilot, rounds=2)


@pytest.mark.usefixtures("courses")
async def test_create_pathway_add_reorder_and_remove_steps() -> None:
    app = PathwaysApp()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, rounds=2)
        await pilot.press("n")
        await _fill(pilot, {"name": "New Starter", "description": "Basics"})
        pathway = Pathway.get(Pathway.name == "New Starter")

        await pilot.press("a")
        await _fill(pilot, {"courses": "Fire Safety, First Aid", "mode": "any"})
        await pilot.press("a")
        await _fill(pilot, {"elearning": "Induction"})
        labels = [r["label"] for r in pathway_dict(pathway)["requirements"]]
        assert labels == ["Fire Safety or First Aid", "Induction"]
        steps = app.screen.query_one("#requirement-list", DataTable)
        assert steps.row_count == 2

        # An unknown course is refused with its field named, and nothing is added.
        await pilot.press("a")
        await _fill(pilot, {"courses": "Juggling"})
        assert any("course" in n.message for n in app._notifications)
        assert PathwayRequirement.select().count() == 2

        await pilot.press("tab", "down", "left_square_bracket")
        await settle(pilot, rounds=2)
        labels = [r["label"] for r in pathway_dict(pathway)["requirements"]]
        assert labels == ["Induction", "Fire Safety or First Aid"]
        assert steps.cursor_row == 0

        await pilot.press("x")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot, rounds=2)
        assert [r["label"] for r in pathway_dict(pathway)["requirements"]] == [
            "Fire Safety or First Aid"
        ]
        assert steps.row_count == 1


@pytest.mark.usefixtures("courses")
async def test_edit_pathway_and_show_progress() -> None:
    Pathway.create(name="Safety")
    app = PathwaysApp()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, rounds=2)
        await pilot.press("e")
        await _fill(pilot, {"name": "Safety First", "description": "Everyone"})
        assert Pathway.get().name == "Safety First"
        about = str(app.screen.query_one("#pathway-about", Static).render())
        assert "Safety First" in about
        await pilot.press("a")
        await _fill(pilot, {"courses": "Fire Safety"})
        # The person is picked by name (an exact email is not needed).
        await pilot.press("p")
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, PeoplePicker)
        await pilot.press(*"Ann")
        await settle(pilot, rounds=2)
        await pilot.press("enter")  # one match: chosen at once
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, ProgressDialog)
        text = str(app.screen.query_one("#progress-text", Static).render())
        assert "ann@example.org" in str(app.screen.query_one(Label).render())
        assert "Safety First" in text
        assert "0%" in text
        await pilot.press("escape")
        await pilot.press("p")
        await settle(pilot, rounds=2)
        await pilot.press(*"nobody")
        await settle(pilot, rounds=2)
        await pilot.press("enter")  # no match: stays open to search again
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, PeoplePicker)
        await pilot.press("escape")
        await settle(pilot, rounds=2)
        assert isinstance(app.screen, PathwaysScreen)
