"""The session page's Email form and the waitlist's invite-next key, on a file database."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Checkbox, DataTable, Label, SelectionList

from screens.email_form import EmailForm
from store.models import Enrolment, Outbox, Person
from store.settings import Settings
from tests.tui.conftest import Data, screen_text, settle
from tests.tui.test_session_page import open_session
from tui.app import RollcallApp, make_app


def calendar_of(session_id: int, email: str) -> str:
    person = Person.get(Person.email == email)
    return Enrolment.get((Enrolment.session == session_id) & (Enrolment.person == person)).calendar


async def test_email_invites_the_enrolled_people(app: RollcallApp, data: Data) -> None:
    Enrolment.update(calendar="not_invited", responded_at=None).execute()
    async with app.run_test(size=(120, 45)) as pilot:
        page = await open_session(app, pilot, data.full)
        table = page.query_one("#attendees", DataTable)
        assert "✉" not in [str(c) for c in table.get_column("calendar")]
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EmailForm)
        recipients = form.query_one("#recipients", SelectionList)
        assert sorted(recipients.selected) == sorted(data.people[:2])
        assert recipients.option_count == 2
        assert form.query_one("#with-calendar", Checkbox).value is True
        await pilot.press("ctrl+t")  # waitlisted people on request, not selected
        await settle(pilot)
        assert recipients.option_count == 4
        assert sorted(recipients.selected) == sorted(data.people[:2])
        form.query_one("#subject").value = "Bring your badge"  # type: ignore[attr-defined]
        form.query_one("#message").text = "See you on Monday."  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, EmailForm)
        assert "✉" in screen_text(app)
    assert calendar_of(data.full, data.people[0]) == "invited"
    assert calendar_of(data.full, data.people[1]) == "invited"
    assert calendar_of(data.full, data.people[2]) == "not_invited"
    rows = list(Outbox.select().where(Outbox.kind == "message"))
    assert sorted(r.recipient for r in rows) == sorted(data.people[:2])


async def test_email_errors_show_next_to_the_field(app: RollcallApp, data: Data) -> None:
    before = Outbox.select().count()
    async with app.run_test(size=(120, 45)) as pilot:
        await open_session(app, pilot, data.full)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EmailForm)
        form.query_one("#recipients", SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EmailForm)
        error = form.query_one("#error-to", Label)
        assert "no recipients" in str(error.render())
        assert error.has_class("-shown")
        form.query_one("#recipients", SelectionList).select_all()
        form.query_one("#with-calendar", Checkbox).value = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, EmailForm)
        assert not error.has_class("-shown")
        assert "write a message" in str(form.query_one("#error-message", Label).render())
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, EmailForm)
    assert Outbox.select().count() == before
    assert calendar_of(data.full, data.people[0]) == "tentative"


async def test_waitlist_shows_declines_and_invites_the_next(data: Data, settings: Settings) -> None:
    app = make_app(replace(settings, auto_promote=False))
    first = Person.get(Person.email == data.people[0])
    async with app.run_test(size=(120, 45)) as pilot:
        page = await open_session(app, pilot, data.full)
        await pilot.press("w")  # no free place: refused, nothing changes
        await settle(pilot)
        assert any("Session full" in n.message for n in app._notifications)
        Enrolment.update(calendar="declined").where(
            (Enrolment.session == data.full) & (Enrolment.person == first)
        ).execute()
        page.load()
        await settle(pilot)
        assert "Declined: Ann Adams 23 Nov 07:00" in screen_text(app)
        # The admin takes Ann off; the place stays free (no auto promotion).
        await pilot.press("x", "enter")
        await settle(pilot)
        next_in_line = page.detail.waitlist[0].email  # type: ignore[union-attr]
        await pilot.press("w")
        await settle(pilot)
        assert "✉" in screen_text(app)
    person = Person.get(Person.email == next_in_line)
    enrolment = Enrolment.get((Enrolment.session == data.full) & (Enrolment.person == person))
    assert (enrolment.status, enrolment.calendar) == ("enrolled", "invited")
    assert (
        Outbox.select()
        .where((Outbox.kind == "invitation") & (Outbox.recipient == next_in_line))
        .exists()
    )


async def test_palette_has_email_and_mail_commands(app: RollcallApp, data: Data) -> None:
    from tui.palette import RollcallCommands

    async with app.run_test(size=(120, 45)) as pilot:
        await open_session(app, pilot, data.full)
        commands = {title: call for title, call, _ in RollcallCommands(app.screen)._commands()}
        assert "session: email" in commands
        assert "session: invite next" in commands
        assert "mail: poll now" in commands
        commands["mail: send now"]()
        await settle(pilot)
        # No SMTP in these settings: the status line says so, the outbox keeps the mail.
        assert app.status_text == "mail: SMTP not configured; mail stays in the outbox"
        assert Outbox.select().where(Outbox.status == "sent").count() == 0
        await pilot.press("6")
        await settle(pilot)
        titles = [title for title, _, _ in RollcallCommands(app.screen)._commands()]
        assert titles.count("mail: send now") == 1
        assert "mail: retry failed" in titles


async def test_declines_that_gave_the_place_up_stay_visible(data: Data, settings: Settings) -> None:
    from datetime import timedelta

    from store.clock import utcnow

    app = make_app(replace(settings, auto_promote=False))
    ben = Person.get(Person.email == data.people[1])
    # As a decline with decline_cancels leaves it: cancelled, place free, waitlist waiting.
    Enrolment.update(
        status="cancelled", calendar="declined", responded_at=utcnow() - timedelta(hours=1)
    ).where((Enrolment.session == data.full) & (Enrolment.person == ben)).execute()
    async with app.run_test(size=(120, 45)) as pilot:
        page = await open_session(app, pilot, data.full)
        assert "Declined: Ben Baker 23 Nov 09:00 (place given up)" in screen_text(app)
        first = page.detail.waitlist[0].email  # type: ignore[union-attr]
        await pilot.press("w")
        await settle(pilot)
        assert first not in [r.email for r in page.detail.waitlist]  # type: ignore[union-attr]
    assert calendar_of(data.full, first) == "invited"
