"""Pilot tests of the booking workflow: the Requests area, offers on the session page, and
offers and the interest list in My calendar."""

from __future__ import annotations

from typing import Any

from textual.widgets import DataTable, Input, Static

from screens.dialogs import TextModal
from screens.learner import LearnerScreen
from screens.requests import RequestsScreen
from store.approvals import set_manager, set_session_policy
from store.booking import book, unbook
from store.models import Enrolment, Person
from store.workflow_models import ApprovalRequest, Interest
from tests.tui.conftest import Data, screen_text, settle
from tests.tui.test_learner_screen import LearnerApp
from tests.tui.test_session_page import open_session, status_of
from tui.app import RollcallApp


async def rows_become(pilot: Any, table: DataTable[Any], count: int) -> None:
    """Wait (a loaded machine reloads late) until the table shows `count` rows."""
    for _ in range(50):
        if table.row_count == count:
            return
        await settle(pilot)
        await pilot.pause(0.1)
    assert table.row_count == count


async def test_requests_area_approves_and_declines_with_a_note(
    app: RollcallApp, data: Data
) -> None:
    boss = "ben.baker@example.org"
    for learner in ("ann.adams@example.org", "chloe.chen@example.org"):
        set_manager(learner, boss)
    set_session_policy(data.empty, approval="manager")
    book(data.empty, "ann.adams@example.org")
    book(data.empty, "chloe.chen@example.org")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("8")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RequestsScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 2
        assert "2 waiting for approval (everyone)" in str(
            screen.query_one("#requests-summary", Static).render()
        )
        assert "Ann Adams" in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        app.screen.query_one(Input).value = "enjoy it"
        await pilot.press("enter")
        await settle(pilot)
        assert status_of(data.empty, "ann.adams@example.org") == "enrolled"
        await rows_become(pilot, table, 1)
        await pilot.press("d")
        await settle(pilot)
        app.screen.query_one(Input).value = "not this month"
        await pilot.press("enter")
        await settle(pilot)
        assert status_of(data.empty, "chloe.chen@example.org") == "cancelled"
        await rows_become(pilot, table, 0)
    notes = {r.learner.email: (r.status, r.note) for r in ApprovalRequest.select()}
    assert notes == {
        "ann.adams@example.org": ("approved", "enjoy it"),
        "chloe.chen@example.org": ("declined", "not this month"),
    }


async def test_a_managers_requests_area_shows_only_their_team(app: RollcallApp, data: Data) -> None:
    set_manager("ann.adams@example.org", "ben.baker@example.org")
    set_manager("chloe.chen@example.org", "dev.dubois@example.org")
    set_session_policy(data.empty, approval="manager")
    book(data.empty, "ann.adams@example.org")
    book(data.empty, "chloe.chen@example.org")
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(RequestsScreen(manager="dev.dubois@example.org"))
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        assert "Chloe Chen" in screen_text(app)
        assert "Ann Adams" not in screen_text(app)
        # Opened by a manager (their key), the area shows their own team unasked.
        from store.access import Actor, acting_as

        with acting_as(Actor("ben.baker@example.org", "manager")):
            mine = RequestsScreen()
        assert mine.manager == "ben.baker@example.org"


async def test_session_page_shows_the_offer_and_its_deadline(app: RollcallApp, data: Data) -> None:
    set_session_policy(data.full, offer_hours=24)
    unbook(data.full, "ann.adams@example.org")
    assert status_of(data.full, "chloe.chen@example.org") == "offered"
    async with app.run_test(size=(140, 40)) as pilot:
        page = await open_session(app, pilot, data.full)
        offer = str(page.query_one("#declined", Static).render())
        assert "Offered: Chloe Chen until 24 Nov 10:00" in offer
        assert "Attendees 2/2" in screen_text(app)


async def test_my_calendar_accepts_an_offer_and_registers_interest(data: Data) -> None:
    set_session_policy(data.full, offer_hours=24)
    unbook(data.full, "ann.adams@example.org")
    app = LearnerApp("chloe.chen@example.org")
    async with app.run_test(size=(150, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, LearnerScreen)
        index = [r.session_id for r in screen.rows].index(data.full)
        table = screen.query_one(DataTable)
        table.move_cursor(row=index)
        await pilot.pause()
        detail = str(screen.query_one("#learner-detail", Static).render())
        assert "A place is held for you until Tue 24 Nov 10:00" in detail
        await pilot.press("a")
        await settle(pilot)
        assert status_of(data.full, "chloe.chen@example.org") == "enrolled"
        table.move_cursor(row=[r.session_id for r in screen.rows].index(data.empty))
        await pilot.press("i")
        await settle(pilot)
        progress = str(screen.query_one("#learner-progress", Static).render())
        assert "Data Protection Essentials" in progress
        await pilot.press("i")  # twice: refused, nothing added
        await settle(pilot)
    chloe = Person.get(Person.email == "chloe.chen@example.org")
    assert [i.course.title for i in Interest.select().where(Interest.person == chloe)] == [
        "Data Protection Essentials"
    ]
    assert Enrolment.select().where(Enrolment.status == "offered").count() == 0
