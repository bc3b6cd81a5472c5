"""Stored text is shown as text: brackets, Textual markup, links, escapes and bidi marks.

Random strings made of markup pieces go in as names, departments, locations,
titles, descriptions, notes and reply comments; every screen that shows them
opens without a crash and shows them literally (a parsed ``[b]`` or
``[link=…]`` would vanish from the rendered text).
"""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from textual.screen import Screen
from textual.widgets import DataTable, Label, Static
from textual.worker import WorkerCancelled

from screens.learner import LearnerScreen
from screens.mail import MailScreen
from screens.pathways import PathwaysScreen
from screens.people import PeopleScreen, PersonForm
from screens.plain import clean
from screens.reports import ReportsScreen
from screens.session import SessionScreen
from screens.sessions import SessionsScreen
from screens.trainers import TrainersScreen
from store.booking import add_note, book
from store.clock import utcnow
from store.inbound import InboundMessage
from store.models import Enrolment, Person
from store.outbox import invite
from store.pathways import add_pathway, add_requirement
from store.people import PersonInput, add_person, add_trainer
from store.read_models import people_page
from store.session_input import SessionInput
from store.sessions import create_sessions
from store.settings import Settings
from tests.tui.conftest import Data, settle
from tui.app import RollcallApp, make_app

PIECES = [
    "[",
    "]",
    "[/]",
    "[/x]",
    "[b]",
    "[@click=app.quit]",
    "[$error]",
    "[link=http://evil.example]",
    "[/link]",
    "[/EMEA]",
    "\\",
    "\\[",
    "R&D ",
    "Zoë",
    "\u202e",
    "\u200f",
    "\x1b[31m",
    "\x1b]8;;http://evil.example\x07",
    "%",
    "x",
]
hostile = st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(
    lambda parts: "Q" + "".join(parts)
)
serial = itertools.count()


def shown(widget: Static | Label) -> str:
    """What a text widget renders, as plain text."""
    return str(widget.render())


def literal(value: str) -> str:
    """How stored `value` must appear: the same characters, control codes removed."""
    return clean(value, one_line=True)


def table_text(screen: Screen[Any]) -> str:
    """Every cell of every table on `screen`, as plain text."""
    cells: list[str] = []
    for table in screen.query(DataTable):
        for row in range(table.row_count):
            cells.extend(str(c) for c in table.get_row_at(row))
    return "\n".join(cells)


async def visit(app: RollcallApp, pilot: Any, screen: Screen[Any]) -> Screen[Any]:
    """Push `screen` in place of the last one, let its workers finish, check the app runs."""
    while len(app.screen_stack) > 2:
        app.pop_screen()
    await app.push_screen(screen)
    for _ in range(3):
        try:
            await settle(pilot)
            break
        except WorkerCancelled:  # the previous screen's loads, cancelled as it closed
            continue
    assert app.is_running
    assert app.screen is screen
    return screen


@examples(
    max_examples=1,
    phases=[Phase.explicit, Phase.generate],  # each example is a whole app run: no shrinking
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=hostile,
    department=hostile,
    place=hostile,
    title=hostile,
    description=hostile,
    note=hostile,
    comment=hostile,
)
@example(  # the strings that crashed screens before
    name="Ben [/x]",
    department="R&D [/EMEA] [link=http://evil.example]click me[/link]",
    place="Hall [/]",
    title="[$error]Var[/]",
    description="[@click=app.quit]quit[/]",
    note="\\[b]not bold",
    comment="\x1b]8;;http://evil.example\x07x\u202eabc",
)
async def test_every_screen_shows_stored_text_literally(
    data: Data,
    settings: Settings,
    name: str,
    department: str,
    place: str,
    title: str,
    description: str,
    note: str,
    comment: str,
) -> None:
    n = next(serial)
    email = f"learner{n}@example.org"
    person = add_person(
        PersonInput(email=email, name=name, department=department, location=place, role=place)
    )
    add_trainer(f"trainer{n}@example.org", name)
    session = create_sessions(
        SessionInput(
            title=f"{title} {n}",
            date="2026-12-10",
            start="10:00",
            duration_minutes=60,
            location=place,
            description=description,
            trainer=f"trainer{n}@example.org",
            departments=[department],
        )
    )[0]
    booked = book(session.id, email, now=utcnow()).enrolment
    Enrolment.update(calendar="accepted", response_comment=comment).where(
        Enrolment.id == booked.id
    ).execute()
    add_note(booked, note)
    Enrolment.create(session=data.past, person=person, status="no_show")
    invite(session.id)
    pathway = add_pathway(f"{title} path {n}", description)
    add_requirement(pathway.id, courses=[session.title])
    InboundMessage.create(
        message_id=f"<{n}@x>",
        from_address=email,
        received_at=utcnow(),
        outcome="applied",
        reason="applied",
        session=session.id,
        email=email,
        calendar="accepted",
        method="REPLY",
        comment=comment,
    )
    stored = Person.get_by_id(person.id)  # as the store cleaned it

    app = make_app(settings)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        page = await visit(app, pilot, SessionsScreen())
        assert literal(session.title) in table_text(page)

        page = await visit(app, pilot, SessionScreen(session.id))
        details = shown(page.query_one("#details", Static))
        for value in (session.title, session.location, stored.name):
            assert literal(value) in details
        line = shown(page.query_one("#detail-line", Static))
        assert literal(stored.name) in line
        assert literal(Enrolment.get_by_id(booked.id).response_comment) in line

        page = await visit(app, pilot, PeopleScreen())
        await pilot.press("slash", *f"learner{n}@", "enter")
        await settle(pilot)
        assert literal(stored.department) in table_text(page)
        [row] = people_page(email)[0]
        form = await visit(app, pilot, PersonForm(row))
        assert shown(form.query_one("#form-title", Label)) == "Edit " + literal(stored.name)

        await visit(app, pilot, TrainersScreen())
        page = await visit(app, pilot, PathwaysScreen())
        assert literal(pathway.name) in table_text(page)
        page = await visit(app, pilot, ReportsScreen(report="no-shows-department"))
        assert literal(stored.department) in table_text(page)
        await visit(app, pilot, ReportsScreen(report="no-shows"))
        page = await visit(app, pilot, MailScreen())
        assert literal(session.title) in table_text(page)

        page = await visit(app, pilot, LearnerScreen(email))
        assert literal(session.title) in table_text(page)
        assert literal(session.location) in table_text(page)
        assert "Learning pathways" in shown(page.query_one("#learner-progress", Static))
