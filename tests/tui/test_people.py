"""People and Trainers screens: list, search, add, edit, deactivate, CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Label

from screens.dialogs import ConfirmModal
from screens.people import ImportModal, PeopleScreen, PersonForm
from screens.trainers import TrainerForm, TrainersScreen
from screens.widgets.paged_table import PagedTable
from store.models import Person, Trainer
from tests.tui.conftest import Data, preview_csv, screen_text, settle
from tui.app import RollcallApp


async def go(app: RollcallApp, pilot: Pilot[None], key: str) -> None:
    await settle(pilot)
    await pilot.press(key)
    await settle(pilot)


async def test_people_search_add_edit_deactivate(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(app, pilot, "2")
        screen = app.screen
        assert isinstance(screen, PeopleScreen)
        assert screen.query_one(PagedTable).total == 9  # 7 people + 2 trainers
        await pilot.press("slash", *"sales")
        await settle(pilot)
        assert screen.query_one(PagedTable).total == 2
        await pilot.press("enter")  # to the list
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")  # clears the search
        await settle(pilot)
        assert screen.query_one(PagedTable).total == 9
        # Add: a bad email is refused next to the field; nothing is written.
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, PersonForm)
        form.query_one("#email", Input).value = "not-an-email"
        form.query_one("#name", Input).value = "Ivy Irwin"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not a valid email address" in str(form.query_one("#error-email", Label).render())
        assert Person.select().where(Person.name == "Ivy Irwin").count() == 0
        form.query_one("#email", Input).value = "ivy.irwin@example.org"
        form.query_one("#department", Input).value = "Legal"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Person.get(Person.email == "ivy.irwin@example.org").department == "Legal"
        assert "Ivy Irwin" in screen_text(app)
        # Edit the highlighted person (Ann Adams is first by name).
        await pilot.press("home")
        await settle(pilot)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, PersonForm)
        form.query_one("#department", Input).value = "Marketing"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert Person.get(Person.email == "ann.adams@example.org").department == "Marketing"
        # Deactivating asks first; "no" changes nothing.
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        assert "Deactivate the person Ann Adams" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert Person.get(Person.email == "ann.adams@example.org").active is True
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert Person.get(Person.email == "ann.adams@example.org").active is False
        assert "inactive" in screen_text(app)
        await pilot.press("d")  # reactivating needs no question
        await settle(pilot)
        assert Person.get(Person.email == "ann.adams@example.org").active is True


async def test_csv_import_shows_errors_by_line_then_imports(
    app: RollcallApp, data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,name,department\nzoe@example.org,Zoe Zhang,Sales\nbroken,No Email,Ops\n"
        "ann.adams@example.org,Ann Adams,Finance\n"
    )
    good = tmp_path / "good.csv"
    good.write_text("email,name,department\nzoe@example.org,Zoe Zhang,Sales\n")
    async with app.run_test(size=(120, 40)) as pilot:
        await go(app, pilot, "2")
        await pilot.press("i")
        modal = app.screen
        assert isinstance(modal, ImportModal)
        preview = await preview_csv(pilot, bad)
        assert "1 new, 1 updated, 1 error(s)" in preview
        assert "line 3: email 'broken' is not a valid email address" in preview
        assert modal.query_one("#import", Button).disabled
        assert Person.select().where(Person.email == "zoe@example.org").count() == 0
        assert "department: Sales → Finance" in preview  # Ann Adams, field by field
        assert "ctrl+s Import" not in screen_text(app)  # greyed out: nothing to import
        modal.query_one("#path", Input).value = "~/good.csv"  # ~ is the home directory
        await pilot.press("enter")
        await settle(pilot)
        assert not modal.query_one("#import", Button).disabled
        assert "^s Import" in screen_text(app)  # the key is in the footer
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PeopleScreen)
    assert Person.get(Person.email == "zoe@example.org").name == "Zoe Zhang"


async def test_trainers_register_and_deactivate(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await go(app, pilot, "3")
        screen = app.screen
        assert isinstance(screen, TrainersScreen)
        assert screen.query_one(DataTable).row_count == 2
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, TrainerForm)
        form.query_one("#email", Input).value = "hana.trainer@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "already a trainer" in str(form.query_one("#error-email", Label).render())
        form.query_one("#email", Input).value = "grace.garcia@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TrainersScreen)
        assert screen.query_one(DataTable).row_count == 3
        assert "Grace Garcia" in screen_text(app)
        await pilot.press("up", "d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    grace = Trainer.select().join(Person).where(Person.email == "grace.garcia@example.org").get()
    assert grace.active is False


async def test_person_form_sets_the_manager_and_refuses_an_unknown_one(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(120, 45)) as pilot:
        await go(app, pilot, "2")
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, PersonForm)
        form.query_one("#email", Input).value = "ivy.irwin@example.org"
        form.query_one("#name", Input).value = "Ivy Irwin"
        form.query_one("#manager", Input).value = "nobody@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "nobody@example.org" in str(form.query_one("#error-manager", Label).render())
        assert Person.select().where(Person.email == "ivy.irwin@example.org").count() == 0
        form.query_one("#manager", Input).value = "ben.baker@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
    ivy = Person.get(Person.email == "ivy.irwin@example.org")
    assert ivy.manager.email == "ben.baker@example.org"


async def test_storage_error_shows_in_status_line(
    app: RollcallApp, data: Data, tmp_path: Path
) -> None:
    """A change the database refuses (locked past the wait) is one status line, not a crash."""
    import sqlite3

    from screens.widgets.status_line import StatusLine
    from store.db import database, sqlite_path

    db = database.obj
    assert db is not None
    path = sqlite_path(db)
    assert path is not None
    db.timeout = 0.2
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await go(app, pilot, "2")
            await pilot.press("home")
            await settle(pilot)
            await pilot.press("d")  # the question comes first
            await settle(pilot)
            holder.execute("BEGIN EXCLUSIVE")
            await pilot.press("y")
            for _ in range(50):
                # settle() would re-raise the worker's failure; the app must not.
                await pilot.pause(0.1)
                if "locked" in app.status_text:
                    break
            assert app.status_text == f"the database {path}: database is locked"
            assert app.status_error is True
            line = app.screen.query_one(StatusLine)
            assert line.has_class("-error")
            assert "database is locked" in str(line.render())
            holder.execute("ROLLBACK")
            assert app.is_running
    finally:
        holder.close()
    assert Person.get(Person.email == "ann.adams@example.org").active is True
