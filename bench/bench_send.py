"""Outbound mail speed: rollcall's outbox path vs raw aiosmtplib, same 5,000 messages, one run.

    .venv/bin/python bench/bench_send.py [--count 5000] [--write]

Both sides send to one local aiosmtpd sink running in its own process (it
accepts and discards). "raw" sends the prebuilt bytes of the very messages
rollcall renders with `SMTP.sendmail` on one connection; "rollcall" claims the
outbox rows, renders each message (iCalendar, text, HTML), sends it over one
connection and records it as sent. `--write` replaces the "Outbound mail"
section of bench/RESULTS.md with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import platform
import re
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET = 0.6


def _sink(port: int, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    from aiosmtpd.controller import Controller

    class Discard:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    controller = Controller(Discard(), hostname="127.0.0.1", port=port, data_size_limit=0)
    controller.start()
    ready.set()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def prepare(count: int, db_path: Path, port: int) -> tuple[object, float]:
    """A database with one session, `count` enrolled people and their queued invitations."""
    from store import mail_queue
    from store.db import database, open_database
    from store.models import Enrolment, Person
    from store.outbox import invite
    from store.session_input import SessionInput
    from store.sessions import create_sessions
    from store.settings import load_settings, use_settings

    settings = load_settings(
        environ={},
        timezone="Europe/London",
        db=str(db_path),
        organizer_email="training@example.test",
        organizer_name="Training Team",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
    )
    use_settings(settings)
    open_database(settings.db)
    with mail_queue.suppressed():
        session = create_sessions(
            SessionInput(
                title="Fire Safety",
                date="2030-12-03",
                start="09:30",
                duration_minutes=90,
                location="Room 1, Main Building",
                description="Fire exits, alarms and extinguishers.",
            )
        )[0]
    with database.atomic():
        Person.insert_many(
            [{"email": f"learner{i}@example.test", "name": f"Learner {i}"} for i in range(count)]
        ).execute()
        ids = [p.id for p in Person.select(Person.id)]
        now = datetime.now(UTC)
        Enrolment.insert_many(
            [
                {
                    "session": session.id,
                    "person": pid,
                    "status": "enrolled",
                    "created_at": now,
                    "updated_at": now,
                }
                for pid in ids
            ]
        ).execute()
    started = time.perf_counter()
    result = invite(session.id)
    enqueue = time.perf_counter() - started
    assert result.queued == count
    return settings, enqueue


def prebuilt(count: int) -> list[tuple[str, str, bytes]]:
    """The bytes of every queued message, rendered exactly as the sender renders them."""
    from mail.sender import render_row
    from store.models import Outbox

    rows = list(Outbox.select().order_by(Outbox.id))
    assert len(rows) == count
    return [(r.sender, r.recipient, r.data) for r in map(render_row, rows)]


def requeue() -> None:
    """Put every row back in the queue so the next round sends them again."""
    from store.models import Outbox

    Outbox.update(status="pending", sent_at=None, claimed_by=None, claimed_until=None).execute()


async def raw_send(port: int, messages: list[tuple[str, str, bytes]]) -> float:
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    started = time.perf_counter()
    for sender, recipient, data in messages:
        await client.sendmail(sender, [recipient], data)
    elapsed = time.perf_counter() - started
    await client.quit()
    return elapsed


async def rollcall_send(settings: object) -> tuple[float, int]:
    from mail.sender import drain_outbox

    started = time.perf_counter()
    report = await drain_outbox(settings)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    assert report.unreachable is None, report.unreachable
    return elapsed, report.sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs (median)")
    parser.add_argument("--write", action="store_true", help="update bench/RESULTS.md")
    args = parser.parse_args()
    count = args.count

    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(port, ready), daemon=True)
    sink.start()
    try:
        if not ready.wait(20):
            raise SystemExit("the SMTP sink did not start")
        with tempfile.TemporaryDirectory() as tmp:
            settings, enqueue = prepare(count, Path(tmp) / "bench.db", port)
            started = time.perf_counter()
            messages = prebuilt(count)
            render = time.perf_counter() - started
            size = sum(len(m[2]) for m in messages) / count
            raws, ourss = [], []
            for _ in range(args.rounds):
                # Alternate the two so drift on a shared machine hits both alike.
                raws.append(asyncio.run(raw_send(port, messages)))
                requeue()
                took, sent = asyncio.run(rollcall_send(settings))
                assert sent == count, sent
                ourss.append(took)
            raw, ours = statistics.median(raws), statistics.median(ourss)
    finally:
        sink.terminate()
        sink.join(10)

    raw_rate, our_rate = count / raw, count / ours
    ratio = our_rate / raw_rate
    lines = [
        f"- {count} invitations (~{size / 1024:.1f} KiB each: text, HTML, text/calendar and "
        f"invite.ics) to a local aiosmtpd sink in its own process, one connection each side.",
        f"- raw aiosmtplib `sendmail` of the prebuilt bytes: {raw:.2f} s, **{raw_rate:.0f} msg/s**",
        f"- rollcall outbox drain (claim, render, send, mark sent): {ours:.2f} s, "
        f"**{our_rate:.0f} msg/s**",
        f"- ratio rollcall / raw: **{ratio:.2f}** (target >= {TARGET}); medians of "
        f"{len(raws)} alternating rounds (raw {', '.join(f'{t:.2f}' for t in raws)} s; "
        f"rollcall {', '.join(f'{t:.2f}' for t in ourss)} s)",
        f"- for reference: rendering alone {count / render:.0f} msg/s; queueing the invitations "
        f"with `invite` {enqueue:.2f} s",
        f"- {platform.python_implementation()} {platform.python_version()}, "
        f"{multiprocessing.cpu_count()} CPU, measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]
    report = "\n".join(lines)
    print(report)
    if args.write:
        write_results(report)
    if ratio < TARGET:
        raise SystemExit(f"below target: {ratio:.2f} < {TARGET}")


def write_results(body: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = (
        "## Outbound mail\n\n"
        "`bench/bench_send.py`: rollcall sending 5,000 invitations through its outbox "
        "against raw aiosmtplib sending the same prebuilt messages.\n\n" + body + "\n"
    )
    pattern = re.compile(r"## Outbound mail\n.*?(?=\n## |\Z)", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section.rstrip("\n"), text) + (
            "" if text.endswith("\n") else "\n"
        )
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
