"""`config check`: connect to the database, SMTP and IMAP and say in plain words what works."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from store.errors import RollcallError, ServiceUnavailable
from store.settings import Settings

TIMEOUT = 15


@dataclass(frozen=True)
class CheckResult:
    """One service's verdict."""

    service: str
    ok: bool
    detail: str
    unreachable: bool = False
    """True when the service could not be reached (as opposed to not configured)."""

    def as_json(self) -> dict[str, Any]:
        """The `config check --json` entry."""
        return {"service": self.service, "ok": self.ok, "detail": self.detail}


def check_database(settings: Settings) -> CheckResult:
    """Open (and migrate) the configured database."""
    from store.db import is_postgres, open_database, redact_url

    where = (
        redact_url(settings.db) if settings.db else "the default file in the user data directory"
    )
    try:
        open_database(settings.db, password=settings.db_secret())
    except ServiceUnavailable as exc:
        detail = f"cannot connect to {where}: {exc.detail}"
        return CheckResult("database", False, detail, unreachable=True)
    except RollcallError as exc:
        return CheckResult("database", False, str(exc))
    kind = "PostgreSQL" if is_postgres() else "SQLite"
    return CheckResult("database", True, f"{kind} at {where} is open and up to date")


def check_smtp(settings: Settings) -> CheckResult:
    """Connect to SMTP with the configured security and login, then quit."""
    if not settings.smtp_host:
        return CheckResult("SMTP", False, "not configured (set smtp_host / ROLLCALL_SMTP_HOST)")

    async def probe() -> str:
        from mail.sender import connect

        client = await connect(settings)
        try:
            login = f", logged in as {settings.smtp_user}" if settings.smtp_user else ""
            return (
                f"{settings.smtp_host}:{settings.smtp_port} answers "
                f"({settings.smtp_security}{login}); mail will be sent from "
                f"{settings.organizer_email}"
            )
        finally:
            await client.quit()

    try:
        return CheckResult("SMTP", True, asyncio.run(probe()))
    except ServiceUnavailable as exc:
        return CheckResult("SMTP", False, f"cannot connect: {exc.detail}", unreachable=True)
    except RollcallError as exc:
        return CheckResult("SMTP", False, str(exc))


def imap_mailbox(settings: Settings) -> Any:
    """An imap-tools mailbox (not logged in) with the configured security."""
    import imap_tools

    host, port = settings.imap_host, settings.imap_port
    if settings.imap_security == "tls":
        return imap_tools.MailBox(host, port, timeout=TIMEOUT)
    if settings.imap_security == "starttls":
        return imap_tools.MailBoxStartTls(host, port, timeout=TIMEOUT)
    return imap_tools.MailBoxUnencrypted(host, port, timeout=TIMEOUT)


def check_imap(settings: Settings) -> CheckResult:
    """Log in to IMAP and open the reply folder."""
    if not settings.imap_host:
        return CheckResult("IMAP", False, "not configured (set imap_host / ROLLCALL_IMAP_HOST)")
    where = f"{settings.imap_host}:{settings.imap_port}"
    try:
        mailbox = imap_mailbox(settings)
    except OSError as exc:
        return CheckResult("IMAP", False, f"cannot connect to {where}: {exc}", unreachable=True)
    except Exception as exc:  # imap-tools raises its own errors for bad greetings and TLS
        return CheckResult("IMAP", False, f"cannot connect to {where}: {exc}", unreachable=True)
    try:
        try:
            mailbox.login(settings.imap_user, settings.imap_secret())
        except RollcallError as exc:
            return CheckResult("IMAP", False, str(exc))
        except Exception as exc:
            return CheckResult("IMAP", False, f"login as {settings.imap_user!r} refused: {exc}")
        try:
            mailbox.folder.set(settings.imap_folder)
            count = len(mailbox.uids())
        except Exception as exc:
            return CheckResult(
                "IMAP", False, f"logged in, but folder {settings.imap_folder!r} failed: {exc}"
            )
        return CheckResult(
            "IMAP",
            True,
            f"{where} ({settings.imap_security}): logged in as {settings.imap_user}, "
            f"folder {settings.imap_folder} has {count} message(s)",
        )
    finally:
        try:
            mailbox.logout()
        except Exception:  # already gone; nothing to tidy
            pass


def check_all(settings: Settings) -> list[CheckResult]:
    """Check the database, SMTP and IMAP, in that order."""
    return [check_database(settings), check_smtp(settings), check_imap(settings)]
