"""The mail notice, decided from settings and the last runs (no network, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mail.health import (
    MailHealth,
    after_poll,
    after_send,
    backlog_text,
    config_file,
    configured,
    why_waiting,
)
from store.outbox import Backlog
from store.settings import Settings


@pytest.fixture
def bare(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """No SMTP, no IMAP, a config file under the home directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    return replace(settings, config_path=str(tmp_path / "etc" / "rollcall.toml"))


def test_missing_servers_name_the_setting_and_the_file(bare: Settings) -> None:
    health = configured(bare)
    assert health.sending == "Mail not sent: set smtp_host in ~/etc/rollcall.toml"
    assert health.reading == "replies not read: set imap_host"
    assert not health.can_send
    assert health.notice() == f"{health.sending} · {health.reading}"
    served = replace(bare, smtp_host="smtp.example.org", imap_host="imap.example.org")
    assert configured(served) == MailHealth()
    assert configured(served).notice() == ""


def test_a_file_outside_home_is_shown_whole(settings: Settings) -> None:
    assert config_file(replace(settings, config_path="/etc/rollcall/config.toml")) == (
        "/etc/rollcall/config.toml"
    )


def test_send_and_poll_results_set_and_clear_the_notice(bare: Settings) -> None:
    served = replace(bare, smtp_host="smtp.example.org", smtp_port=2525, imap_host="imap.x")
    health = configured(served)
    failing = after_send(health, served, "connection refused")
    assert failing.sending == (
        "Mail not sent: SMTP smtp.example.org:2525 cannot be reached (connection refused); "
        "check smtp_* in ~/etc/rollcall.toml"
    )
    assert after_send(failing, served, None).sending is None
    # Without a server configured a run changes nothing: the setting is still the cause.
    assert after_send(configured(bare), bare, None) == configured(bare)
    broken = after_poll(health, served, "login refused")
    assert broken.reading is not None
    assert "IMAP imap.x:993 (login refused)" in broken.reading
    assert after_poll(broken, served, None).reading is None


def test_backlog_and_each_rows_reason() -> None:
    zone = ZoneInfo("Europe/London")
    oldest = datetime(2026, 11, 28, 23, 24, tzinfo=UTC)
    assert backlog_text(Backlog(0, None, 0, None), zone) == ""
    assert backlog_text(Backlog(1, oldest, 0, None), zone) == (
        "1 message waiting to be sent since 28 Nov 23:24"
    )
    assert backlog_text(Backlog(9, oldest, 2, "421 busy"), zone) == (
        "9 messages waiting to be sent since 28 Nov 23:24 (last error: 421 busy)"
    )
    down = MailHealth(sending="Mail not sent: set smtp_host in ~/x.toml")
    assert why_waiting("pending", None, down) == "set smtp_host in ~/x.toml"
    assert why_waiting("pending", "421 busy", down) == "421 busy"
    assert why_waiting("pending", None, MailHealth()) == "waiting for the next send"
    assert why_waiting("sending", None, MailHealth()) == "being sent now"
    assert why_waiting("failed", None, MailHealth()) == "gave up after the last try"
    assert why_waiting("sent", "old error", down) == ""
