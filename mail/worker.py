"""The worker: every job on its interval until SIGTERM or SIGINT, then a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import inspect
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from store.access import RSVP, WORKER, acting_as
from store.errors import ServiceUnavailable
from store.settings import Settings

log = logging.getLogger("rollcall.worker")

SEND_INTERVAL = 10.0
TICK_INTERVAL = 60.0
POLL_INTERVAL = 60.0

JobFunc = Callable[[Settings, asyncio.Event], Awaitable[Any]]
OnResult = Callable[[str, Any, BaseException | None], None]
"""Called after every run of a job with its name, its result and the error it raised."""


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


class SendWithBackoff:
    """The send job, waiting longer after each time SMTP could not be reached.

    Waits 10 s, 20 s, 40 s ... up to 5 minutes between tries while the server
    is down (the outbox keeps everything), and goes back to the normal
    interval after the first successful connection.
    """

    def __init__(self, first: float = 10.0, longest: float = 300.0) -> None:
        self.first = first
        self.longest = longest
        self.failures = 0
        self.not_before = 0.0

    async def __call__(self, settings: Settings, stop: asyncio.Event) -> Any:
        """Run `send_job` unless the backoff says to wait."""
        if time.monotonic() < self.not_before:
            return None
        report = await send_job(settings, stop)
        if getattr(report, "unreachable", None):
            self.failures += 1
            delay = min(self.longest, self.first * 2 ** (self.failures - 1))
            self.not_before = time.monotonic() + delay
            log.info("send: next try in %.0f s", delay)
        else:
            self.failures = 0
            self.not_before = 0.0
        return report


async def tick_job(settings: Settings, stop: asyncio.Event) -> Any:
    """Queue due reminders (the status clock itself is derived)."""
    from mail.tick import tick

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
        return await until_stopped(poll_once, settings, stop=stop)

    return Job("poll", POLL_INTERVAL, run)


async def until_stopped(func: Callable[..., Any], *args: Any, stop: asyncio.Event) -> Any:
    """Run the blocking `func` in a daemon thread; return its result, or None once `stop` is set.

    A blocking IMAP call cannot be interrupted and may wait out its timeout; the
    worker must still stop within seconds of SIGTERM. The poll is safe to leave
    behind (its IMAP position and log commit together, so a reply is neither
    applied twice nor lost), and a daemon thread does not hold the process.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def target() -> None:
        try:
            outcome = functools.partial(_finish, done, func(*args), None)
        except BaseException as exc:  # handed to the awaiting task
            outcome = functools.partial(_finish, done, None, exc)
        with contextlib.suppress(RuntimeError):  # the loop ended while we ran
            loop.call_soon_threadsafe(outcome)

    threading.Thread(target=target, name="rollcall-poll", daemon=True).start()
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({done, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if done.done():
        return done.result()
    log.info("poll: left to finish on its own; stopping")
    return None


def _finish(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)


def default_jobs() -> list[Job]:
    """Every job the worker (and the app's background runner) runs."""
    jobs = [
        Job("send", SEND_INTERVAL, SendWithBackoff()),
        Job("tick", TICK_INTERVAL, tick_job),
    ]
    poll = poll_job()
    if poll is not None:
        jobs.append(poll)
    return jobs


async def _loop(
    job: Job,
    settings: Settings,
    stop: asyncio.Event,
    on_result: OnResult | None,
    wake: asyncio.Event | None,
) -> None:
    while not stop.is_set():
        result: Any = None
        error: BaseException | None = None
        try:
            # Automatic changes are audited as the worker's, replies as rsvp's.
            with acting_as(RSVP if job.name == "poll" else WORKER):
                result = await job.run(settings, stop)
        except ServiceUnavailable as exc:
            log.warning("%s: %s unreachable (%s); nothing lost", job.name, exc.service, exc.detail)
            error = exc
        except Exception as exc:  # one failing run must not end the worker
            log.exception("%s failed", job.name)
            error = exc
        if on_result is not None:
            on_result(job.name, result, error)
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        _, pending = await asyncio.wait(
            waiters, timeout=job.interval, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()
        if wake is not None:
            wake.clear()


async def run_worker(
    settings: Settings,
    jobs: list[Job] | None = None,
    stop: asyncio.Event | None = None,
    *,
    install_signals: bool = True,
    on_result: OnResult | None = None,
    wake: dict[str, asyncio.Event] | None = None,
) -> None:
    """Run `jobs` (default: `default_jobs()`) until `stop` is set or SIGTERM/SIGINT arrives.

    On a signal every job finishes what it is doing (the sender the message in
    flight) and the function returns. `on_result` hears about every run;
    setting ``wake[name]`` runs that job now instead of at its next interval.
    """
    stop = stop or asyncio.Event()
    jobs = default_jobs() if jobs is None else jobs
    with stop_on_signals(stop) if install_signals else contextlib.nullcontext():
        log.info("worker started: %s", ", ".join(f"{j.name} every {j.interval:g}s" for j in jobs))
        await asyncio.gather(
            *(_loop(job, settings, stop, on_result, (wake or {}).get(job.name)) for job in jobs)
        )
    log.info("worker stopped")


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT set `stop` instead of killing the process.

    Call it inside the running event loop; the previous handlers come back after.
    """
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _stopper(stop, sig))
    try:
        yield
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def _stopper(stop: asyncio.Event, sig: signal.Signals) -> Callable[[], None]:
    def handler() -> None:
        log.info("received %s; stopping after the work in flight", sig.name)
        stop.set()

    return handler


class BackgroundJobs:
    """The worker's jobs in a daemon thread with its own event loop (for the app).

    The app calls `start()` when no separate worker runs, `run_now("send")`
    after queueing mail, and `stop()` on exit. `on_result(name, result, error)`
    is called in the worker thread: hand it to the UI thread (Textual:
    ``app.call_from_thread``). Results are `mail.sender.SendReport` for
    "send" and `mail.tick.TickReport` for "tick".
    """

    def __init__(
        self,
        settings: Settings,
        jobs: list[Job] | None = None,
        on_result: OnResult | None = None,
    ) -> None:
        self.settings = settings
        self.jobs = default_jobs() if jobs is None else jobs
        self.on_result = on_result
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._wake: dict[str, asyncio.Event] = {}
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        """Start the thread (no-op when running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._ready.clear()
        self._thread = threading.Thread(target=self._main, name="rollcall-jobs", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _main(self) -> None:
        async def body() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            self._wake = {job.name: asyncio.Event() for job in self.jobs}
            self._ready.set()
            await run_worker(
                self.settings,
                self.jobs,
                self._stop,
                install_signals=False,
                on_result=self.on_result,
                wake=self._wake,
            )

        asyncio.run(body())

    def run_now(self, name: str = "send") -> None:
        """Run job `name` now instead of at its next interval."""
        event = self._wake.get(name)
        if self._loop is not None and event is not None:
            self._loop.call_soon_threadsafe(event.set)

    def stop(self, timeout: float = 30) -> None:
        """Stop after the work in flight; wait up to `timeout` seconds for the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
