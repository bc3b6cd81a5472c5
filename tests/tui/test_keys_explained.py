"""Keys that cannot run say why: greyed out for the role or the moment, and a press shows the
reason (before any question is asked); a manager's read-only Team area."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import DataTable, Static

from screens.dialogs import ConfirmModal
from screens.session import SessionScreen
from screens.team import TeamScreen
from store import access
from store.access import Actor, person_actor
from store.approvals import set_manager
from store.models import Enrolment
from store.people import get_person
from store.settings import Settings
from tests.tui.conftest import Data, screen_text, settle
from tests.tui.test_session_page import open_session, status_of
from tui.app import RollcallApp, make_app


@pytest.fixture
def as_person(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the app as a person of a role (the whole process, worker threads included)."""

    def act(email: str, role: str) -> Actor:
        person = get_person(email)
        actor = Actor(person.email, role, person.id)
        monkeypatch.setattr(access, "_process_actor", actor)
        return actor

    return act


def notices(app: RollcallApp) -> list[str]:
    """The texts of the notifications on screen."""
    return [str(n.message) for n in app._notifications]


def footer_state(screen: SessionScreen, action: str) -> bool | None:
    """What the footer shows for an action: True live, None greyed out, False hidden."""
    return screen.check_action(action, ())


async def test_a_scheduled_sessions_register_keys_are_greyed_and_say_when_they_open(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        page = await open_session(app, pilot, data.full)
        assert footer_state(page, "mark") is None
        before = status_of(data.full, "ann.adams@example.org")
        await pilot.press("a")
        await pilot.pause()
        assert any(
            "attendance opens at the start (Mon 30 Nov 2026 13:00)" in n for n in notices(app)
        )
        assert status_of(data.full, "ann.adams@example.org") == before


async def test_finalise_names_the_unmarked_people_before_asking_anything(
    app: RollcallApp, data: Data
) -> None:
    async with app.run_test(size=(140, 40)) as pilot:
        page = await open_session(app, pilot, data.past)
        assert footer_state(page, "finalise") is None
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        assert any(
            "5 not marked yet (Ann Adams, Ben Baker, Chloe Chen, …)" in n for n in notices(app)
        )
        assert page.detail is not None
        assert not page.detail.finalised


async def test_a_trainer_takes_their_own_register_and_sees_why_not_anothers(
    data: Data, settings: Settings, as_person: Any
) -> None:
    as_person("hana.trainer@example.org", "trainer")
    app = make_app(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        # Ivan trains First Aid: Hana's keys are greyed there, with the reason on a press.
        page = await open_session(app, pilot, data.full)
        for action in ("promote", "email", "add_people", "note", "edit"):
            assert footer_state(page, action) is None, action
        await pilot.press("p")
        await pilot.pause()
        assert any("only this session's trainer or an admin" in n for n in notices(app))
        assert status_of(data.full, "chloe.chen@example.org") == "waitlisted"
        await pilot.press("escape")
        await settle(pilot)
        # Hana trains yesterday's Fire Safety: the register is hers; adding people is not.
        page = await open_session(app, pilot, data.past)
        assert footer_state(page, "mark") is True
        assert footer_state(page, "add_people") is None
        await pilot.press("a")
        await settle(pilot)
        assert status_of(data.past, "ann.adams@example.org") == "attended"
        await pilot.press("plus")
        await pilot.pause()
        assert any("not allowed for a trainer: ask an admin" in n for n in notices(app))


async def test_a_managers_team_area_shows_their_people_read_only(
    data: Data, settings: Settings, as_person: Any
) -> None:
    set_manager("ann.adams@example.org", "ben.baker@example.org")
    set_manager("chloe.chen@example.org", "ben.baker@example.org")
    set_manager("dev.dubois@example.org", "grace.garcia@example.org")
    actor = as_person("ben.baker@example.org", "manager")
    assert person_actor(get_person(actor.name)).person_id == actor.person_id
    app = make_app(settings)
    assert [a.name for a in app.areas] == ["sessions", "requests", "team"]
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, TeamScreen)
        members = screen.query_one("#team-members", DataTable)
        assert [str(members.get_row_at(i)[0]) for i in range(members.row_count)] == [
            "Ann Adams",
            "Chloe Chen",
        ]
        summary = str(screen.query_one("#team-summary", Static).render())
        assert "Team of ben.baker@example.org: 2 people" in summary
        await pilot.press("b")
        await settle(pilot)
        bookings = screen.query_one("#team-bookings", DataTable)
        rows = [[str(c) for c in bookings.get_row_at(i)] for i in range(bookings.row_count)]
        # Ann is booked on First Aid, Chloe waits; Dev (Grace's) is not shown.
        assert [(r[1], r[2], r[3]) for r in rows] == [
            ("First Aid at Work", "Ann Adams", "booked"),
            ("First Aid at Work", "Chloe Chen", "waitlist #1"),
        ]
        assert app.focused is bookings
    assert Enrolment.select().count() == 9


async def test_help_lists_the_screens_keys_once_with_why_greyed_ones_do_nothing(
    app: RollcallApp, data: Data
) -> None:
    from screens.help import HelpScreen

    async with app.run_test(size=(140, 40)) as pilot:
        await open_session(app, pilot, data.full)
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        keys = help_screen.keys
        for entry in (("a", "Attended"), ("n", "No-show"), ("u", "Unmark"), ("f", "Finalise")):
            assert entry in keys, entry
        assert help_screen.notes[("a", "Attended")].startswith("attendance opens at the start")
        assert ("p", "Promote") not in help_screen.notes
        # Each area once, and none of the widgets' own keys (copy, cursor movement).
        assert [k for k in keys if k[0] == "2"] == [("2", "go to People")]
        described = " ".join(d for _, d in keys).lower()
        assert "copy" not in described
        assert "cursor" not in described
        assert "Attended — not now: attendance opens at" in screen_text(app)
        assert ("+", "Add") in keys


async def test_palette_reaches_every_areas_actions_and_area_keys_land_on_the_list(
    app: RollcallApp, data: Data
) -> None:
    from screens.sessions import SessionsScreen
    from tui.palette import RollcallCommands

    async with app.run_test(size=(140, 40)) as pilot:
        page = await open_session(app, pilot, data.full)
        commands = {title: call for title, call, _ in RollcallCommands(page)._commands()}
        assert "session: attended" in commands
        assert "reports: export csv" in commands
        assert "people: new" in commands
        assert "sessions: new" in commands
        assert not [t for t in commands if "cursor" in t]
        # From the session page, "1" goes back to the sessions list itself.
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        assert len(app.screen_stack) == 1
        # An action of another area runs there.
        await commands["people: new"]()
        for _ in range(20):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "PersonForm":
                break
        assert type(app.screen).__name__ == "PersonForm"


async def test_a_manager_opens_one_of_their_peoples_page_from_the_team(
    data: Data, settings: Settings, as_person: Any
) -> None:
    from screens.person import PersonScreen

    set_manager("ann.adams@example.org", "ben.baker@example.org")
    as_person("ben.baker@example.org", "manager")
    app = make_app(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("9")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PersonScreen)
        assert app.screen.email == "ann.adams@example.org"
        assert "First Aid at Work" in screen_text(app)
        # Read only: editing the person is not the manager's to do.
        assert app.screen.check_action("edit", ()) is None
