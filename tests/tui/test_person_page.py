"""The person page: enter on a person or a trainer shows their whole training record."""

from __future__ import annotations

from textual.widgets import Input, Static

from screens.people import PeopleScreen, PersonForm
from screens.person import PersonScreen
from screens.trainers import TrainersScreen
from store.booking import add_note
from store.models import Enrolment, Person
from tests.tui.conftest import Data, settle
from tui.app import RollcallApp


def page_of(app: RollcallApp) -> str:
    assert isinstance(app.screen, PersonScreen)
    return str(app.screen.query_one("#person-page", Static).render())


async def test_enter_on_a_person_opens_their_page(app: RollcallApp, data: Data) -> None:
    chloe = Person.get(Person.email == "chloe.chen@example.org")
    add_note(Enrolment.get(Enrolment.person == chloe, Enrolment.session == data.past), "late")
    async with app.run_test(size=(120, 40)) as pilot:
        for key in ("2", "slash", *"chloe", "enter", "enter"):  # People, search, list, open
            await settle(pilot)
            await pilot.press(key)
        await settle(pilot)
        text = page_of(app)
        assert "Chloe Chen" in str(app.screen.query_one("#person-name").render())
        assert "Department: Operations" in text
        # Waitlisted on next week's full First Aid, booked yesterday's Fire Safety.
        waiting = text.split("Waitlists", 1)[1].split("Past and cancelled", 1)[0]
        assert "First Aid at Work" in waiting
        assert "waitlist #1" in waiting
        past = text.split("Past and cancelled", 1)[1].split("Completions", 1)[0]
        assert "Fire Safety" in past
        assert "booked, not marked" in past
        assert "Notes about them" in text
        assert "late" in text.split("Notes about them", 1)[1]
        # e edits the details; the page reads them again.
        await pilot.press("e")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, PersonForm)
        form.query_one("#department", Input).value = "Logistics"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Department: Logistics" in page_of(app)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, PeopleScreen)


async def test_enter_on_a_trainer_opens_their_page(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("3", "home", "enter"):
            await settle(pilot)
            await pilot.press(key)
        await settle(pilot)
        text = page_of(app)
        assert "Email: hana.trainer@example.org" in text
        assert "active, trainer" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TrainersScreen)


async def test_email_fields_pick_a_person_by_name(app: RollcallApp, data: Data) -> None:
    from screens.people_picker import PeoplePicker
    from screens.trainers import TrainerForm
    from store.models import Trainer

    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("3", "n", "ctrl+f"):  # Trainers, register one, pick the person
            await settle(pilot)
            await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, PeoplePicker)
        await pilot.press(*"grace")
        await settle(pilot)
        await pilot.press("enter")  # the one match
        await settle(pilot)
        form = app.screen
        assert isinstance(form, TrainerForm)
        assert form.query_one("#email", Input).value == "grace.garcia@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, TrainersScreen)
        # The person form's manager field picks the same way.
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("home", "e", "ctrl+f")
        await settle(pilot)
        await pilot.press(*"Ben B", "enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonForm)
        assert app.screen.query_one("#manager", Input).value == "ben.baker@example.org"
        await pilot.press("ctrl+s")
        await settle(pilot)
    grace = Person.get(Person.email == "grace.garcia@example.org")
    assert Trainer.select().where(Trainer.person == grace).exists()
    ann = Person.get(Person.email == "ann.adams@example.org")
    assert ann.manager.email == "ben.baker@example.org"
