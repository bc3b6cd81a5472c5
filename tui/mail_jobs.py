"""The app's background mail: the worker's jobs while the app is open, news in the status line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

from store.clock import utcnow
from store.db import as_storage_error
from store.errors import ServiceUnavailable
from store.settings import Settings

if TYPE_CHECKING:
    from textual.app import App

    from mail.worker import BackgroundJobs


@dataclass
class MailJobResult(Message):
    """A background mail job finished a run (posted from the jobs' thread)."""

    name: str
    result: Any
    error: BaseException | None


def should_run_jobs(settings: Settings) -> bool:
    """The app runs the jobs itself: mail is configured and no separate worker is said to run."""
    return settings.app_runs_jobs and bool(settings.smtp_host or settings.imap_host)


def describe_result(
    name: str, result: Any, error: BaseException | None, settings: Settings, *, asked: bool = False
) -> tuple[str, bool] | None:
    """The status line for one job run: (text, is_error), or None when there is no news.

    Quiet runs (nothing sent, nothing fetched) say nothing unless the admin `asked`.
    """
    at = f"{utcnow().astimezone(settings.zone):%H:%M}"
    if error is not None:
        storage = as_storage_error(error)
        if storage is not None:
            return f"{storage} · {at}", True
        if isinstance(error, ServiceUnavailable):
            service = error.service.upper() if len(error.service) <= 4 else error.service
            return f"{service}: cannot connect ({error.detail}) · {at}", True
        return f"{name}: {type(error).__name__}: {error} · {at}", True
    if name == "send":
        if isinstance(result, str):
            return (f"mail: {result}", False) if asked else None
        if result is None:
            return None
        if getattr(result, "unreachable", None):
            return (
                f"SMTP: cannot connect ({result.unreachable}); {result.pending} waiting · {at}",
                True,
            )
        if not (result.sent or result.failed or result.retried) and not asked:
            return None
        text = f"mail: {result.sent} sent, {result.failed} failed"
        if result.pending:
            text += f", {result.pending} waiting"
        if result.errors:
            text += f" — {result.errors[-1]}"
        return f"{text} · {at}", bool(result.failed)
    if name == "poll":
        if result is None:
            return ("IMAP: not configured", False) if asked else None
        if not result.fetched and not asked:
            return None
        return (
            f"IMAP: {result.fetched} read, {result.applied} applied, "
            f"{result.ignored} ignored · {at}",
            False,
        )
    if name == "tick" and getattr(result, "reminders", None):
        return f"reminders: {result.reminders} queued · {at}", False
    return None


def changed_data(name: str, result: Any) -> str | None:
    """Which kind of rows a run changed (for `DataChanged`), if any."""
    if name == "poll" and result is not None and getattr(result, "fetched", None):
        return "sessions" if getattr(result, "applied", None) else "mail"
    if name == "send" and result is not None and not isinstance(result, str):
        if getattr(result, "sent", None) or getattr(result, "failed", None):
            return "mail"
    if name == "tick" and getattr(result, "reminders", None):
        return "mail"
    return None


class MailRunner:
    """Starts, nudges and stops the background jobs for one app."""

    def __init__(self, app: App[Any], settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.jobs: BackgroundJobs | None = None
        self.asked: set[str] = set()
        """Jobs the admin asked for; their next result is shown even when quiet."""

    @property
    def running(self) -> bool:
        """The jobs' thread was started and not stopped."""
        return self.jobs is not None

    def start(self) -> bool:
        """Start the jobs when the settings say the app should; returns whether it did."""
        if self.jobs is not None or not should_run_jobs(self.settings):
            return False
        from mail.worker import BackgroundJobs

        self.jobs = BackgroundJobs(self.settings, on_result=self._posted)
        self.jobs.start()
        return True

    def _posted(self, name: str, result: Any, error: BaseException | None) -> None:
        # Runs in the jobs' thread; post_message is thread-safe and never waits for
        # the UI, so stopping the jobs from the UI thread cannot deadlock.
        self.app.post_message(MailJobResult(name, result, error))

    def stop(self, timeout: float = 30) -> None:
        """Stop after the message in flight."""
        if self.jobs is not None:
            self.jobs.stop(timeout)
            self.jobs = None

    def run_now(self, name: str) -> None:
        """Run job `name` now: nudge the running jobs, or run it once in a worker."""
        self.asked.add(name)
        if self.jobs is not None:
            self.jobs.run_now(name)
            return
        self.app.run_worker(
            lambda: self._once(name),
            thread=True,
            group=f"mail-{name}",
            exclusive=True,
            exit_on_error=False,
            name=f"mail {name}",
        )

    def _once(self, name: str) -> None:
        from mail.worker import poll_job, send_job, tick_job
        from screens.base import db_thread

        result: Any = None
        error: BaseException | None = None
        try:
            with db_thread():
                if name == "send":
                    result = asyncio.run(send_job(self.settings, asyncio.Event()))
                elif name == "tick":
                    result = asyncio.run(tick_job(self.settings, asyncio.Event()))
                elif name == "poll":
                    job = poll_job()
                    if job is not None:
                        result = asyncio.run(_await(job.run(self.settings, asyncio.Event())))
        except Exception as exc:  # noqa: BLE001 - reported in the status line
            error = exc
        self._posted(name, result, error)

    def handle(self, event: MailJobResult) -> tuple[str, bool] | None:
        """What to show for a finished run (and forget that it was asked for)."""
        asked = event.name in self.asked
        self.asked.discard(event.name)
        return describe_result(event.name, event.result, event.error, self.settings, asked=asked)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
