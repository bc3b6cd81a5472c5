"""The session page: register keys, waitlist, people, notes, finalise, live refresh."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from screens.dialogs import ConfirmModal, TextModal
from screens.people_picker import PeoplePicker
from screens.session import SessionScreen
from store.access import local_login
from store.clock import utcnow
from store.models import Enrolment, EnrolmentNote, Person, Session
from store.settings import Settings
from tests.tui.conftest import Data, pick_in_picker, screen_text, settle
from tui.app import RollcallApp, make_app


async def open_session(app: RollcallApp, pilot: Pilot[None], session_id: int) -> SessionScreen:
    await settle(pilot)
    app.screen.open_session(session_id)  # type: ignore[attr-defined]
    await settle(pilot)
    assert isinstance(app.screen, SessionScreen)
    return app.screen


def status_of(session_id: int, email: str) -> str:
    person = Person.get(Person.email == email)
    return Enrolment.get((Enrolment.session == session_id) & (Enrolment.person == person)).status


async def test_register_takes_one_key_per_person(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.past)
        table = page.query_one("#attendees", DataTable)
        assert table.row_count == 5
        assert table.cursor_row == 0
        text = screen_text(app)
        assert "Fire Safety" in text
        assert "Evacuation plan" in text
        assert "✓" in text
        detail = str(page.query_one("#detail-line", Static).render())
        assert "Ann Adams" in detail
        assert "accepted 19 Nov 08:00" in detail
        await pilot.press("a", "n", "a", "a", "a")
        await settle(pilot)
        assert table.cursor_row == 4
        statuses = [status_of(data.past, email) for email in data.people[:5]]
        assert statuses == ["attended", "no_show", "attended", "attended", "attended"]
        assert "no-show" in screen_text(app)
        await pilot.press("f")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
    assert Session.get_by_id(data.past).finalised_at is not None


async def test_marking_a_future_session_is_refused(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_session(app, pilot, data.full)
        await pilot.press("a")
        await settle(pilot)
    # The key is greyed out before the session starts: nothing changes.
    assert status_of(data.full, data.people[0]) == "enrolled"


async def test_remove_gives_the_place_to_the_first_in_line(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.full)
        assert page.query_one("#waitlist", DataTable).row_count == 2
        assert "Waitlist (2)" in screen_text(app)
        first = page._current()
        assert first is not None
        await pilot.press("x")
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"moved team", "enter")
        await settle(pilot)
        assert status_of(data.full, first.email) == "cancelled"
        assert page.query_one("#waitlist", DataTable).row_count == 1
        # The toast names who took the freed place.
        said = [str(n.message) for n in app._notifications]
        assert f"{first.name} removed; Chloe Chen promoted from the waitlist" in said, said
    statuses = sorted(status_of(data.full, e) for e in data.people[:4])
    assert statuses == ["cancelled", "enrolled", "enrolled", "waitlisted"]


async def test_promote_key_when_auto_promotion_is_off(data: Data, settings: Settings) -> None:
    app = make_app(replace(settings, auto_promote=False))
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.full)
        await pilot.press("p")  # full: the rule refuses
        await settle(pilot)
        assert any("Session full" in n.message for n in app._notifications)
        await pilot.press("x", "enter")
        await settle(pilot)
        waiting = [r.email for r in page.detail.waitlist]  # type: ignore[union-attr]
        assert len(waiting) == 2  # nobody promoted on their own
        await pilot.press("p")
        await settle(pilot)
        assert status_of(data.full, waiting[0]) == "enrolled"
        assert status_of(data.full, waiting[1]) == "waitlisted"


async def test_add_a_person_by_search_and_write_a_note(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.empty)
        await pilot.press("plus")
        assert isinstance(app.screen, PeoplePicker)
        await pick_in_picker(pilot, "grace")
        assert app.screen is page
        assert status_of(data.empty, "grace.garcia@example.org") == "enrolled"
        assert "Grace Garcia" in screen_text(app)
        await pilot.press("o")
        await settle(pilot)
        assert "booked: enrolled" in screen_text(app)  # the log so far
        await pilot.press(*"needs step-free access", "enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        # The note carries who wrote it: here the local admin's login.
        assert f"{local_login()}: needs step-free access" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is page
    texts = [n.text for n in EnrolmentNote.select()]
    assert texts.count("needs step-free access") == 1


async def test_refreshes_on_its_own_and_keeps_the_cursor(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.past)
        table = page.query_one("#attendees", DataTable)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        assert "✗" not in screen_text(app)
        # Another process (the mail worker applying an RSVP) changes a row.
        person = Person.get(Person.email == data.people[3])
        Enrolment.update(calendar="declined", responded_at=utcnow(), updated_at=utcnow()).where(
            (Enrolment.session == data.past) & (Enrolment.person == person)
        ).execute()
        for _ in range(30):
            await asyncio.sleep(0.1)
            await pilot.pause()
            if "✗" in screen_text(app):
                break
        assert "✗" in screen_text(app)
        assert table.cursor_row == 2


async def test_cancelling_from_the_page_names_the_session(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await open_session(app, pilot, data.empty)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, TextModal)
        await pilot.press(*"room closed", "enter")
        await settle(pilot)
        said = [str(n.message) for n in app._notifications]
        assert "Cancelled: Data Protection Essentials, Wed 2 Dec 2026 10:00" in said, said
    assert Session.get_by_id(data.empty).cancel_reason == "room closed"


async def test_the_page_is_read_once_while_it_is_built(
    app: RollcallApp, data: Data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's first read starts when the page is made; once done it is the page's
    content (nothing is read again), and a failed early read is read again, as before."""
    import screens.session

    reads: list[int] = []
    read = screens.session._read

    def counted(session_id: int) -> Any:
        reads.append(session_id)
        return read(session_id)

    monkeypatch.setattr(screens.session, "_read", counted)
    async with app.run_test(size=(120, 40)) as pilot:
        page = await open_session(app, pilot, data.past)
        assert page.query_one("#attendees", DataTable).row_count == 5
        assert reads == [data.past]
        await pilot.press("escape")
        await settle(pilot)

        def failing(session_id: int) -> Any:
            reads.append(-session_id)
            if threading.current_thread().name == "session page":
                raise OSError("disk went away")
            return read(session_id)

        monkeypatch.setattr(screens.session, "_read", failing)
        page = await open_session(app, pilot, data.full)
        assert page.query_one("#attendees", DataTable).row_count > 0
        assert reads[1:] == [-data.full, -data.full]
        assert "Waitlist (2)" in screen_text(app)
