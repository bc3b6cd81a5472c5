"""Honest mail state: while no server takes the mail, every screen says so and names the setting,
queued invitations show as queued, and each outbox row says why it waits."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from mail.sender import SendReport
from screens.email_form import EmailForm
from store.models import Enrolment, Outbox
from store.settings import Settings
from tests.tui.conftest import Data, screen_text, settle
from tests.tui.test_session_page import open_session
from tui.app import RollcallApp, make_app
from tui.mail_jobs import MailJobResult


@pytest.fixture(autouse=True)
def home(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths under the test's home read as ~/…"""
    monkeypatch.setenv("HOME", str(isolated_env))


def notices(app: RollcallApp) -> list[str]:
    """The texts of the notifications shown so far."""
    return [str(n.message) for n in app._notifications]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_without_smtp_mail_shows_as_queued_and_the_setting_is_named(
    app: RollcallApp, data: Data
) -> None:
    Enrolment.update(calendar="not_invited", responded_at=None).execute()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        setting = "Mail not sent: set smtp_host in ~/config/rollcall/config.toml"
        assert app.mail_notice.startswith(setting)
        assert "replies not read: set imap_host" in app.mail_notice
        assert f"⚠ {setting}" in screen_text(app)
        page = await open_session(app, pilot, data.full)
        assert f"⚠ {setting}" in screen_text(app)
        await pilot.press("m")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, EmailForm)
        form.query_one("#subject").value = "Bring your badge"  # type: ignore[attr-defined]
        form.query_one("#message").text = "See you on Monday."  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any(
            n.startswith("2 message(s) queued, 2 to be invited, nothing leaves until then")
            for n in notices(app)
        ), notices(app)
        table = page.query_one("#attendees", DataTable)
        assert [str(c) for c in table.get_column("calendar")] == ["…", "…"]
        assert "✉" not in [str(c) for c in table.get_column("calendar")]
        detail = str(page.query_one("#detail-line", Static).render())
        assert "… invitation queued, not sent yet: Mail not sent: set smtp_host" in detail
        await settle(pilot)
        waiting = Outbox.select().where(Outbox.status == "pending").count()
        assert waiting >= 2
        assert f"; {waiting} messages waiting to be sent since 23 Nov" in app.mail_notice
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("6")
        await settle(pilot)
        outbox = app.screen.query_one("#outbox-table", DataTable)
        why = [str(c) for c in outbox.get_column("error")]
        assert why == ["set smtp_host in ~/config/rollcall/config.toml"] * waiting


async def test_an_unreachable_smtp_server_is_named_until_mail_goes_out(
    data: Data, settings: Settings
) -> None:
    port = closed_port()
    # A separate worker is said to send: nothing runs until the admin asks.
    app = make_app(
        replace(
            settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            app_runs_jobs=False,
        )
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert not app.mail_notice.startswith("Mail not sent")
        app.mail_run_now("send")
        for _ in range(100):
            await settle(pilot)
            if "cannot be reached" in app.mail_notice:
                break
            await pilot.pause(0.1)
        assert app.mail_notice.startswith(f"Mail not sent: SMTP 127.0.0.1:{port} cannot be reached")
        assert "check smtp_* in ~/config/rollcall/config.toml" in app.mail_notice
        assert "⚠ Mail not sent: SMTP 127.0.0.1" in screen_text(app)
        # The server answers again: the notice goes with the first message accepted.
        app.post_message(MailJobResult("send", SendReport(sent=1), None))
        await settle(pilot)
        assert not app.mail_notice.startswith("Mail not sent")
        assert "Mail not sent" not in screen_text(app)
