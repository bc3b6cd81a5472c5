"""Benchmark of the admin app on 100,000 sessions and 1,000,000 enrolments in SQLite.

Run: ``.venv/bin/python bench/bench_tui.py [--db PATH] [--runs N] [--write]``. The data set is
built once with bulk inserts (kept at PATH for the next run); the figures are printed
and, with ``--write``, appended to ``bench/RESULTS.md`` under "TUI".
"""

# ruff: noqa: ASYNC110 - the benchmark polls the screen state it is timing
from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SESSIONS = 100_000
ENROLMENTS = 1_000_000
PEOPLE = 20_000
BIG = 500
"""Attendees of the one big session the page benchmark opens."""
SEARCH = "safety 12"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TITLES = [
    "Fire Safety",
    "First Aid at Work",
    "Data Protection Essentials",
    "Giving Feedback",
    "Budgeting for Managers",
    "Customer Conversations",
    "Secure Coding",
    "Interviewing Well",
    "Excel Clinic",
    "Presenting with Confidence",
    "Time Management",
    "Coaching Basics",
]


def build(path: Path) -> float:
    """Create the data set with bulk inserts; returns seconds taken."""
    from store.db import database, open_database
    from store.models import Course, Enrolment, Person, Session, Trainer, UTCDateTimeField
    from store.textkey import place_key, search_key

    started = time.perf_counter()
    open_database(str(path))
    stamp = UTCDateTimeField().db_value
    db = database.obj
    with db.atomic():
        for start in range(0, PEOPLE, 1000):
            Person.insert_many(
                [
                    {
                        "email": f"person{i}@example.org",
                        "name": f"Person {i:05d}",
                        "department": f"Dept {i % 12}",
                        "job_role": "Associate",
                        "location": "London",
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for i in range(start, start + 1000)
                ]
            ).execute()
        Trainer.insert_many([{"person": i + 1, "created_at": NOW} for i in range(50)]).execute()
        courses = [Course.create(title=t).id for t in TITLES]
        first = NOW - timedelta(days=1800)
        rows = []
        for i in range(SESSIONS):
            begins = first + timedelta(minutes=53 * i)
            rows.append(
                (
                    f"{TITLES[i % len(TITLES)]} {i}",
                    "",
                    courses[i % len(courses)],
                    stamp(begins),
                    stamp(begins + timedelta(minutes=60)),
                    60,
                    "in_person",
                    f"Room {i % 9}",
                    (i % 50) + 1,
                    12 if i else None,
                    f"bench-{i}@example.org",
                    0,
                    stamp(NOW),
                    stamp(NOW),
                    "",
                    search_key(f"{TITLES[i % len(TITLES)]} {i}", f"Room {i % 9}", ""),
                    place_key(f"Room {i % 9}"),
                    "none",
                )
            )
        db.connection().executemany(
            "INSERT INTO session (title, description, course_id, start, end, duration_minutes,"
            " type, location, trainer_id, max_attendees, uid, sequence, created_at,"
            " updated_at, notes, search_key, place_key, approval)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        per = (ENROLMENTS - BIG) // (SESSIONS - 1)
        enrolments = []
        now = stamp(NOW)
        for p in range(BIG):
            enrolments.append((1, p + 1, "enrolled", "accepted", now, now))
        for s in range(2, SESSIONS + 1):
            for k in range(per):
                person = (s * 7 + k * 997) % PEOPLE + 1
                enrolments.append((s, person, "enrolled", "invited", now, now))
        db.connection().executemany(
            "INSERT INTO enrolment (session_id, person_id, status, calendar, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?)",
            enrolments,
        )
    assert Session.select().count() == SESSIONS
    assert Enrolment.select().count() >= ENROLMENTS - SESSIONS
    return time.perf_counter() - started


async def measure(path: Path | str) -> dict[str, float]:
    """Open the app on the data set and time what the admin waits for."""
    from textual.screen import Screen
    from textual.widgets import DataTable

    from screens.session import SessionScreen
    from screens.sessions import SessionsScreen
    from screens.widgets.paged_table import PagedTable
    from store.db import open_database
    from store.settings import load_settings
    from tui.app import make_app

    settings = load_settings(environ={"ROLLCALL_TIMEZONE": "Europe/London"}, db=str(path))
    figures: dict[str, float] = {}
    # The pilot's key press returns only when the whole process has been idle for
    # a while, which adds tens of milliseconds; the admin sees the result when the
    # first frame holding it is drawn. Each frame checks whether it is that one.
    watch: dict[str, Any] = {"shows": None, "at": None}
    draw = Screen._compositor_refresh

    def timed_draw(screen: Screen[Any]) -> None:
        draw(screen)
        shows = watch["shows"]
        if shows is not None and watch["at"] is None and shows():
            watch["at"] = time.perf_counter()

    def expect(shows: Callable[[], bool]) -> None:
        watch["shows"], watch["at"] = shows, None

    Screen._compositor_refresh = timed_draw  # type: ignore[method-assign, assignment]
    opened = time.perf_counter()
    open_database(str(path))
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (
            isinstance(app.screen, SessionsScreen) and app.screen.query_one(PagedTable).row_count
        ):
            await asyncio.sleep(0.005)  # noqa: ASYNC110 - polling is the measurement
        figures["home first rows after opening the database (s)"] = time.perf_counter() - opened
        home = app.screen
        figures["rows in the list"] = home.query_one(PagedTable).total
        await pilot.press("slash")
        # As many presses as search keys, and their median: one press now and then takes
        # a third less than the others, which would make every ratio to it look worse.
        idle: list[float] = []
        for _ in SEARCH:
            pressed = time.perf_counter()
            await pilot.press("left")  # moves the input cursor: no query, no redraw of the list
            idle.append(time.perf_counter() - pressed)
            await pilot.pause()
        figures["harness: a key that does no work (s)"] = statistics.median(idle)
        worst = 0.0
        drawn: list[float] = []
        for key in SEARCH:
            before = home.generation
            expect(
                lambda before=before: (  # type: ignore[misc]
                    home.generation > before and home.shown_generation == home.generation
                )
            )
            pressed = time.perf_counter()
            await pilot.press("space" if key == " " else key)
            while home.shown_generation != home.generation:
                await asyncio.sleep(0.002)  # noqa: ASYNC110 - polling is the measurement
            took = time.perf_counter() - pressed
            worst = max(worst, took)
            await pilot.pause()
            drawn.append(watch["at"] - pressed)
        figures[f"search keystroke, key to new rows drawn, slowest of {len(SEARCH)} (s)"] = max(
            drawn
        )
        figures[f"search keystroke, key to new rows drawn, median of {len(SEARCH)} (s)"] = (
            statistics.median(drawn)
        )
        figures[f"slowest search keystroke until the app is idle, {len(SEARCH)} typed (s)"] = worst
        # The list counts all matches once the typing stops: the jump below needs that count.
        while not home.query_one(PagedTable).total_exact:
            await asyncio.sleep(0.005)  # noqa: ASYNC110 - polling is the measurement
        figures[f"rows matching {SEARCH!r}"] = home.query_one(PagedTable).total
        await pilot.press("enter")
        pressed = time.perf_counter()
        await pilot.press("end")
        while home.query_one(PagedTable).absolute_row != home.query_one(PagedTable).total - 1:
            await asyncio.sleep(0.002)  # noqa: ASYNC110 - polling is the measurement
        figures["jump to the last matching row (s)"] = time.perf_counter() - pressed
        await pilot.pause()

        def page_shown() -> bool:
            screen = app.screen
            return (
                isinstance(screen, SessionScreen)
                and screen.is_mounted
                and bool(screen.query("#attendees"))
                and screen.query_one("#attendees", DataTable).row_count == BIG
            )

        expect(page_shown)
        opened_page = time.perf_counter()
        app.push_screen(SessionScreen(1))
        while not (
            isinstance(app.screen, SessionScreen)
            and app.screen.is_mounted
            and app.screen.query("#attendees")
            and app.screen.query_one("#attendees", DataTable).row_count == BIG
        ):
            await asyncio.sleep(0.002)  # noqa: ASYNC110 - polling is the measurement
        await pilot.pause()
        figures[f"session page with {BIG} attendees until the app is idle (s)"] = (
            time.perf_counter() - opened_page
        )
        figures[f"session page with {BIG} attendees, opened to rows drawn (s)"] = (
            watch["at"] - opened_page
        )
        expect(lambda: False)
        pressed = time.perf_counter()
        await pilot.press("escape")
        figures["back to the list (s)"] = time.perf_counter() - pressed
    figures["peak memory (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def _runs(path: Path | str, count: int) -> list[dict[str, float]]:
    """Measure `count` times, each in a fresh process so no run warms the next."""
    results = []
    for _ in range(count):
        out = subprocess.run(
            [sys.executable, __file__, "--db", str(path), "--json"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
    """Build (once) and measure; print, and append to RESULTS.md with --write."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="/tmp/rollcall-bench-tui.db")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="report the median of N runs")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # A file path (built when missing) or a database URL (PostgreSQL: see bench_postgres.py).
    path: Path | str = args.db if "://" in args.db else Path(args.db)
    built = None
    if isinstance(path, Path) and not path.exists():
        built = build(path)
        from store.db import close_database

        close_database()
    if args.json:
        print(json.dumps(asyncio.run(measure(path))))
        return
    load_before = os.getloadavg()[0]
    runs = _runs(path, args.runs) if args.runs > 1 else [asyncio.run(measure(path))]
    load_after = os.getloadavg()[0]
    lines = []
    if built is not None:
        lines.append(f"- data set built with bulk inserts in {built:.1f} s")
    for name in runs[0]:
        values = [run[name] for run in runs]
        value = statistics.median(values)
        is_count = name.startswith("rows")
        line = f"- {name}: {value:,.0f}" if is_count else f"- {name}: {value:.3f}"
        if len(runs) > 1 and not is_count:
            line += f" (runs: {min(values):.3f}-{max(values):.3f})"
        lines.append(line)
    # Issue #14's goals, against the key that does no work of the same run.
    noop = "harness: a key that does no work (s)"
    for name, goal in (
        (f"search keystroke, key to new rows drawn, slowest of {len(SEARCH)} (s)", 1.5),
        (f"search keystroke, key to new rows drawn, median of {len(SEARCH)} (s)", 1.5),
        (f"session page with {BIG} attendees, opened to rows drawn (s)", 4.0),
    ):
        ratios = [run[name] / run[noop] for run in runs]
        ratio = statistics.median(ratios)
        lines.append(
            f"- {name.removesuffix(' (s)')} / the key that does no work: {ratio:.2f}x "
            f"(runs {min(ratios):.2f}-{max(ratios):.2f}x; goal <= {goal}x: "
            f"{'met' if ratio <= goal else 'NOT met'})"
        )
    print("\n".join(lines))
    if args.write:
        results = Path(__file__).parent / "RESULTS.md"
        head = "" if results.exists() else "# Benchmarks\n"
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        runs_text = f"median of {len(runs)} runs" if len(runs) > 1 else "one run"
        with results.open("a", encoding="utf-8") as out:
            out.write(
                f"{head}\n## TUI\n\n{SESSIONS:,} sessions, {ENROLMENTS:,} enrolments, "
                f"{PEOPLE:,} people in SQLite (WAL); Textual headless at 120x40; {stamp}; "
                f"2 shared cores, load average {load_before:.1f} before and "
                f"{load_after:.1f} after; {runs_text}.\n\n" + "\n".join(lines) + "\n"
            )


if __name__ == "__main__":
    main()
