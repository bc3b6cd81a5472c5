"""The worker: every job on its interval until SIGTERM or SIGINT, then a clean stop."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from store.settings import Settings

log = logging.getLogger("rollcall.worker")

SEND_INTERVAL = 10.0
TICK_INTERVAL = 60.0
POLL_INTERVAL = 60.0

JobFunc = Callable[[Settings, asyncio.Event], Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    """A named job run every `interval` seconds; it gets the settings and the stop event."""

    name: str
    interval: float
    run: JobFunc


async def send_job(settings: Settings, stop: asyncio.Event) -> Any:
    """Drain the outbox; stops after the message in flight when `stop` is set."""
    from mail.sender import drain_outbox

    if not settings.smtp_host:
        return "SMTP not configured; mail stays in the outbox"
    report = await drain_outbox(settings, stop=stop)
    if report.unreachable:
        log.warning("send: SMTP unreachable (%s); %d pending", report.unreachable, report.pending)
    elif report.sent or report.failed:
        log.info("send: %d sent, %d failed, %d pending", report.sent, report.failed, report.pending)
    return report


async def tick_job(settings: Settings, stop: asyncio.Event) -> Any:
    """Queue due reminders (the status clock itself is derived)."""
    from mail.jobs import tick

    report = tick()
    if report.reminders:
        log.info("tick: %d reminder(s) queued", report.reminders)
    return report


def poll_job() -> Job | None:
    """The IMAP poll job from `mail/poller.py`, when that module provides one.

    Plug-in point: `mail.poller.poll_once(settings)` (sync or async). A sync
    function runs in a thread so the sender keeps going while IMAP is slow.
    """
    try:
        poller = importlib.import_module("mail.poller")
    except ImportError:
        return None
    poll_once = getattr(poller, "poll_once", None)
    if poll_once is None:
        return None

    async def run(settings: Settings, stop: asyncio.Event) -> Any:
        if not settings.imap_host:
            return None
        if inspect.iscoroutinefunction(poll_once):
            return await poll_once(settings)
        return await asyncio.to_thread(poll_once, settings)

    return Job("poll", POLL_INTERVAL, run)


def default_jobs() -> list[Job]:
    """Every job the worker (and the app's background runner) runs."""
    jobs = [Job("send", SEND_INTERVAL, send_job), Job("tick", TICK_INTERVAL, tick_job)]
    poll = poll_job()
    if poll is not None:
        jobs.append(poll)
    return jobs


async def _loop(job: Job, settings: Settings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await job.run(settings, stop)
        except Exception:  # one failing run must not end the worker
            log.exception("%s failed", job.name)
        try:
            await asyncio.wait_for(stop.wait(), timeout=job.interval)
        except TimeoutError:
            pass


async def run_worker(
    settings: Settings,
    jobs: list[Job] | None = None,
    stop: asyncio.Event | None = None,
    *,
    install_signals: bool = True,
) -> None:
    """Run `jobs` (default: `default_jobs()`) until `stop` is set or SIGTERM/SIGINT arrives.

    On a signal every job finishes what it is doing (the sender the message in
    flight) and the function returns.
    """
    stop = stop or asyncio.Event()
    jobs = default_jobs() if jobs is None else jobs
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _stopper(stop, sig))
    log.info("worker started: %s", ", ".join(f"{j.name} every {j.interval:g}s" for j in jobs))
    try:
        await asyncio.gather(*(_loop(job, settings, stop) for job in jobs))
    finally:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    log.info("worker stopped")


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        log.info("received %s; stopping after the work in flight", sig.name)
        stop.set()

    return handler
