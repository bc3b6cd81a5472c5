"""The Mail area (outbox and inbox) and the app's background mail jobs in the status line."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import uuid
from datetime import timedelta
from typing import Any

from textual.widgets import DataTable, Static, TabbedContent

from mail.poller import PollReport
from mail.sender import SendReport
from screens.mail import MailScreen
from store.clock import utcnow
from store.errors import ServiceUnavailable
from store.inbound import InboundMessage
from store.models import Enrolment, Outbox, Person, Session
from store.outbox import invite
from store.settings import Settings, load_settings, use_settings
from tests.replies import reply_ics, reply_message
from tests.tui.conftest import Data, screen_text, settle
from tui.app import RollcallApp, make_app
from tui.mail_jobs import MailJobResult, should_run_jobs


def cells(table: DataTable[Any]) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def log_replies(session_id: int) -> None:
    now = utcnow()
    InboundMessage.create(
        message_id="<a@x>",
        from_address="ann.adams@example.org",
        received_at=now - timedelta(minutes=5),
        outcome="applied",
        reason="applied",
        session=session_id,
        email="ann.adams@example.org",
        calendar="accepted",
        method="REPLY",
        comment="[bold red]pwned[/] \x1b[31mred\x1b[0m",
    )
    InboundMessage.create(
        message_id="<b@x>",
        from_address="mallory@evil.example",
        received_at=now - timedelta(minutes=3),
        outcome="ignored",
        reason="sender is not the attendee",
        session=session_id,
        email="ben.baker@example.org",
        calendar="declined",
        method="REPLY",
    )
    InboundMessage.create(
        message_id="<c@x>",
        from_address="chloe.chen@example.org",
        received_at=now - timedelta(minutes=1),
        outcome="recorded",
        reason="counter proposal recorded, not applied",
        session=session_id,
        email="chloe.chen@example.org",
        method="COUNTER",
    )


async def test_outbox_and_inbox_tabs(app: RollcallApp, data: Data) -> None:
    invite(data.full)
    failed = Outbox.select().order_by(Outbox.id).first()
    Outbox.update(status="failed", attempts=3, last_error="550 no such user").where(
        Outbox.id == failed.id
    ).execute()
    log_replies(data.full)
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MailScreen)
        outbox = screen.query_one("#outbox-table", DataTable)
        rows = cells(outbox)
        assert len(rows) == Outbox.select().count()
        failed_row = [r for r in rows if r[0] == "failed"]
        assert len(failed_row) == 1
        assert failed_row[0][1] == failed.recipient
        assert failed_row[0][3] == "3"
        assert "550 no such user" in failed_row[0][4]
        assert any(r[2].startswith("Invitation: First Aid at Work") for r in rows)
        assert "1 failed" in str(screen.query_one("#outbox-summary", Static).render())
        await pilot.press("f", "f", "f", "f")  # all -> pending -> sending -> sent -> failed
        await settle(pilot)
        assert [r[0] for r in cells(outbox)] == ["failed"]
        await pilot.press("r")
        await settle(pilot)
        assert Outbox.get_by_id(failed.id).status == "pending"
        assert cells(outbox) == []
        # Without SMTP the send the retry asked for says so instead of failing.
        assert "SMTP not configured" in app.status_text

        await pilot.press("i")
        await settle(pilot)
        assert screen.query_one(TabbedContent).active == "inbox"
        inbox = screen.query_one("#inbox-table", DataTable)
        rows = cells(inbox)
        assert [r[1] for r in rows] == [
            "chloe.chen@example.org",
            "mallory@evil.example",
            "ann.adams@example.org",
        ]
        assert rows[0][2] == "recorded COUNTER"
        assert rows[1][2] == "ignored"
        assert rows[1][3] == "sender is not the attendee"
        assert rows[2][6] == "accepted"
        # Markup and escape sequences from a stranger are shown literally and harmlessly.
        assert "[bold red]pwned[/]" in rows[2][7]
        assert "\x1b" not in rows[2][7]
        text = screen_text(app)
        assert "[bold red]pwned" in text
        assert "Replies 1–3 of 3" in text


async def test_status_line_reports_background_results(app: RollcallApp, data: Data) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.post_message(MailJobResult("send", SendReport(sent=3, failed=0), None))
        await settle(pilot)
        assert app.status_text.startswith("mail: 3 sent, 0 failed · ")
        assert app.status_error is False
        assert "mail: 3 sent, 0 failed" in screen_text(app)
        error = ServiceUnavailable("imap", "connection refused")
        app.post_message(MailJobResult("poll", None, error))
        await settle(pilot)
        assert app.status_text.startswith("IMAP: cannot connect (connection refused)")
        assert app.status_error is True
        # A quiet run keeps the news on screen.
        app.post_message(MailJobResult("send", SendReport(), None))
        await settle(pilot)
        assert app.status_text.startswith("IMAP: cannot connect")
        app.post_message(MailJobResult("poll", PollReport(fetched=2, applied=1, ignored=1), None))
        await settle(pilot)
        assert app.status_text.startswith("IMAP: 2 read, 1 applied, 1 ignored")
        assert app.status_error is False


async def test_jobs_start_only_when_configured(data: Data, settings: Settings) -> None:
    assert not should_run_jobs(settings)
    configured = dataclasses.replace(settings, smtp_host="127.0.0.1")
    assert should_run_jobs(configured)
    assert not should_run_jobs(dataclasses.replace(configured, app_runs_jobs=False))
    assert load_settings(environ={"ROLLCALL_APP_RUNS_JOBS": "false"}).app_runs_jobs is False
    app = make_app(dataclasses.replace(configured, app_runs_jobs=False))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert not app.mail.running


async def test_unreachable_smtp_shows_in_the_status_line(data: Data, settings: Settings) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    app = make_app(
        dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    )
    pending = Outbox.select().where(Outbox.status == "pending").count()
    assert pending > 0
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert app.mail.running
        await wait_for(app, "SMTP: cannot connect")
        assert app.status_error is True
        assert "SMTP: cannot connect" in screen_text(app)
    assert not app.mail.running
    assert Outbox.select().where(Outbox.status == "pending").count() == pending


async def test_app_sends_and_applies_replies_with_real_servers(
    data: Data, settings: Settings, mail_servers: Any
) -> None:
    organizer = mail_servers.add_mailbox(f"training-{uuid.uuid4().hex[:8]}@example.test")
    for email in data.people:
        mail_servers.add_mailbox(email)
    mail_settings = dataclasses.replace(
        settings,
        organizer_email=organizer,
        smtp_host=mail_servers.smtp_host,
        smtp_port=mail_servers.smtp_port,
        smtp_security="none",
        imap_host=mail_servers.imap_host,
        imap_port=mail_servers.imap_port,
        imap_security="none",
        imap_user=organizer,
        imap_password="secret",
    )
    use_settings(mail_settings)
    Outbox.delete().execute()  # the fixture's confirmations are not this test's business
    Enrolment.update(calendar="not_invited", responded_at=None).execute()
    ann = data.people[0]
    app = make_app(mail_settings)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert app.mail.running
            invite(data.full)
            app.mail_run_now("send")
            await wait_for(app, "mail: 2")
            assert app.status_text.startswith("mail: 2 sent, 0 failed"), app.status_text
            app.screen.open_session(data.full)  # type: ignore[attr-defined]
            await settle(pilot)
            assert "✓" not in screen_text(app)
            uid = Session.get_by_id(data.full).uid
            raw = reply_message(
                reply_ics(uid, ann, dtstamp=utcnow(), organizer=organizer), sender=ann, to=organizer
            )
            with mail_servers.mailbox(organizer) as box:
                box.append(raw, "INBOX", dt=None, flag_set=[])
            app.mail_run_now("poll")
            await wait_for(app, "IMAP")
            reasons = [m.reason for m in InboundMessage.select()]
            assert app.status_text.startswith("IMAP: 1 read, 1 applied, 0 ignored"), reasons
            # The open session page shows the answer without being asked to.
            for _ in range(30):
                await asyncio.sleep(0.1)
                if "✓" in screen_text(app):
                    break
            assert "✓" in screen_text(app)
    finally:
        use_settings(settings)
    assert not app.mail.running
    assert Outbox.select().where(Outbox.status == "sent").count() == 2
    person = Person.get(Person.email == ann)
    enrolment = Enrolment.get((Enrolment.session == data.full) & (Enrolment.person == person))
    assert enrolment.calendar == "accepted"
    invited = Person.get(Person.email == data.people[1])
    assert (
        Enrolment.get((Enrolment.session == data.full) & (Enrolment.person == invited)).calendar
        == "invited"
    )


async def wait_for(app: RollcallApp, prefix: str, seconds: float = 15) -> None:
    """Wait until the status line starts with `prefix` (the jobs run in their own thread)."""
    for _ in range(int(seconds * 10)):
        await asyncio.sleep(0.1)
        if app.status_text.startswith(prefix):
            return


async def test_inbox_pages(app: RollcallApp, data: Data) -> None:
    now = utcnow()
    InboundMessage.insert_many(
        [
            {
                "message_id": f"<{n}@x>",
                "from_address": f"person{n}@example.org",
                "received_at": now - timedelta(minutes=n),
                "outcome": "ignored",
                "reason": "not a calendar reply",
            }
            for n in range(105)
        ]
    ).execute()
    async with app.run_test(size=(160, 45)) as pilot:
        await pilot.press("6")
        await settle(pilot)
        await pilot.press("i")
        await settle(pilot)
        inbox = app.screen.query_one("#inbox-table", DataTable)
        assert inbox.row_count == 100
        assert cells(inbox)[0][1] == "person0@example.org"
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert [r[1] for r in cells(inbox)] == [f"person{n}@example.org" for n in range(100, 105)]
        assert "Replies 101–105 of 105" in screen_text(app)
        await pilot.press("right_square_bracket")  # no page after the last
        await settle(pilot)
        assert inbox.row_count == 5
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert inbox.row_count == 100
