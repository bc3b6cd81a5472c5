"""The worker loop and the app's background runner."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from mail.sender import SendReport
from mail.worker import BackgroundJobs, Job, run_worker, send_job, tick_job
from store import booking
from store.settings import Settings
from tests.builders import person, session


async def test_failing_job_does_not_stop_the_others(settings: Settings) -> None:
    runs: list[str] = []
    stop = asyncio.Event()

    async def broken(s: Settings, stop_: asyncio.Event) -> None:
        runs.append("broken")
        raise RuntimeError("boom")

    async def fine(s: Settings, stop_: asyncio.Event) -> str:
        runs.append("fine")
        if runs.count("fine") == 3:
            stop.set()
        return "ok"

    seen: list[tuple[str, Any, Any]] = []
    jobs = [Job("broken", 0.01, broken), Job("fine", 0.01, fine)]
    await asyncio.wait_for(
        run_worker(
            settings,
            jobs,
            stop,
            install_signals=False,
            on_result=lambda n, r, e: seen.append((n, r, e)),
        ),
        10,
    )
    assert runs.count("fine") == 3
    assert runs.count("broken") >= 1
    assert ("fine", "ok", None) in seen
    assert any(n == "broken" and isinstance(e, RuntimeError) for n, _, e in seen)


@pytest.mark.mailserver
def test_background_jobs_send_on_demand_and_stop(
    sqlite_store: str,
    mail_settings: Settings,
    mail_servers: Any,
    new_address: Callable[[str], str],
) -> None:
    results: list[tuple[str, Any, Any]] = []
    done = threading.Event()

    def on_result(name: str, result: Any, error: Any) -> None:
        results.append((name, result, error))
        if name == "send" and isinstance(result, SendReport) and result.sent:
            done.set()

    runner = BackgroundJobs(
        mail_settings,
        [Job("send", 3600, send_job), Job("tick", 3600, tick_job)],
        on_result=on_result,
    )
    runner.start()
    try:
        s = session()
        ann = person(new_address("ann"))
        booking.book(s.id, ann.email)
        runner.run_now("send")
        assert done.wait(20), results
    finally:
        started = time.monotonic()
        runner.stop()
        assert time.monotonic() - started < 10
    assert len(mail_servers.messages(ann.email)) == 1
    assert any(name == "tick" and error is None for name, _, error in results)


async def test_send_backs_off_while_smtp_is_unreachable(
    sqlite_store: str, settings: Settings
) -> None:
    import dataclasses

    from mail.worker import SendWithBackoff
    from tests.servers import free_port

    down = dataclasses.replace(
        settings, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none"
    )
    job = SendWithBackoff(first=30)
    stop = asyncio.Event()
    first = await job(down, stop)
    assert first.unreachable
    assert job.failures == 1
    assert await job(down, stop) is None  # within the backoff: no new try
    job.not_before = 0.0
    assert (await job(down, stop)).unreachable
    assert job.failures == 2
    assert job.not_before - time.monotonic() > 50  # 60 s after the second failure


def test_default_jobs_include_send_tick_and_the_imap_poll() -> None:
    from mail.worker import default_jobs

    assert [job.name for job in default_jobs()] == ["send", "tick", "poll"]
