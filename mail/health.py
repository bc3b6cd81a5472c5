"""Whether mail can go out and replies come in, said plainly with the setting to change.

The app shows this notice on every screen for as long as it holds, so nobody
takes "queued" for "sent": mail that no server accepted yet is not on its way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from store.settings import Settings, default_config_path

if TYPE_CHECKING:
    from store.outbox import Backlog


@dataclass(frozen=True)
class MailHealth:
    """What stops mail now: one sentence each for sending and for reading replies."""

    sending: str | None = None
    """Why mail is not being sent, or None when it is (or may be)."""
    reading: str | None = None
    """Why replies are not read, or None."""

    @property
    def can_send(self) -> bool:
        """True unless something is known to stop mail from going out."""
        return self.sending is None

    def notice(self) -> str:
        """The persistent notice of the status line ('' when all is well)."""
        return " · ".join(part for part in (self.sending, self.reading) if part)


def config_file(settings: Settings) -> str:
    """The config file the settings come from (or would), for "set X in FILE" (~ for home)."""
    path = Path(settings.config_path or default_config_path())
    try:
        return f"~/{path.relative_to(Path.home())}"
    except (ValueError, RuntimeError):
        return str(path)


def configured(settings: Settings) -> MailHealth:
    """What the settings alone say: a missing SMTP or IMAP server."""
    where = config_file(settings)
    sending = None if settings.smtp_host else f"Mail not sent: set smtp_host in {where}"
    reading = None if settings.imap_host else "replies not read: set imap_host"
    return MailHealth(sending, reading)


def _after_run(health: MailHealth, host: str, error: str | None, **failing: str) -> MailHealth:
    """`health` after a run against `host`: the `failing` sentence while `error` says the
    server cannot be reached, cleared once it can; unchanged when no server is set."""
    if not host:
        return health
    return replace(health, **failing) if error else replace(health, **dict.fromkeys(failing))


def after_send(health: MailHealth, settings: Settings, unreachable: str | None) -> MailHealth:
    """The health after a send run: failing while the server cannot be reached, else fine."""
    server = f"SMTP {settings.smtp_host}:{settings.smtp_port} cannot be reached"
    failing = f"Mail not sent: {server} ({unreachable}); check smtp_* in {config_file(settings)}"
    return _after_run(health, settings.smtp_host, unreachable, sending=failing)


def after_poll(health: MailHealth, settings: Settings, error: str | None) -> MailHealth:
    """The health after a poll run: failing while the IMAP server cannot be reached."""
    failing = f"replies not read: IMAP {settings.imap_host}:{settings.imap_port} ({error})"
    return _after_run(health, settings.imap_host, error, reading=f"{failing}; check imap_*")


def backlog_text(backlog: Backlog, zone: tzinfo) -> str:
    """Mail not sent yet: "9 messages waiting since 28 Nov 23:24 (last error: …)"."""
    if not backlog.waiting:
        return ""
    n = backlog.waiting
    since = f" since {backlog.oldest.astimezone(zone):%d %b %H:%M}" if backlog.oldest else ""
    error = f" (last error: {backlog.last_error})" if backlog.last_error else ""
    return f"{n} message{'s' if n != 1 else ''} waiting to be sent{since}{error}"


def why_waiting(status: str, last_error: str | None, health: MailHealth) -> str:
    """Why one outbox row has not gone yet, for the outbox list."""
    if status == "sent":
        return ""
    if last_error:
        return last_error
    if status == "failed":
        return "gave up after the last try"
    if health.sending:
        return health.sending.removeprefix("Mail not sent: ")
    if status == "sending":
        return "being sent now"
    return "waiting for the next send"
