"""Benchmark: the learner view and every report on 100,000 sessions and 1,000,000 enrolments.

    python bench/bench_learning.py [--db PATH] [--sessions N] [--enrolments N] [--fresh]

Generates the data set once with bulk `insert_many` (kept at --db and reused
unless --fresh), then times (a) the queries behind each screen, as the screen's
worker runs them, and (b) the screens themselves, headless: from pushing the
screen to its rows being on screen. Prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.db import database, open_database  # noqa: E402
from store.models import (  # noqa: E402
    Completion,
    Course,
    ElearningItem,
    Enrolment,
    Pathway,
    PathwayRequirement,
    Person,
    RequirementCourse,
    Session,
    SessionVisibility,
    Trainer,
)
from store.settings import load_settings, use_settings  # noqa: E402

DEPARTMENTS = [f"Dept {i}" for i in range(12)]
ROLES = ["Associate", "Specialist", "Manager", "Director", "Engineer"]
LOCATIONS = ["London", "Manchester", "Leeds", "Remote", "Glasgow"]
CHUNK = 5000


def _insert(model: Any, rows: list[tuple[Any, ...]], fields: list[Any]) -> None:
    for start in range(0, len(rows), CHUNK):
        model.insert_many(rows[start : start + CHUNK], fields=fields).execute()


def generate(sessions: int, enrolments: int, people: int = 20_000, seed: int = 11) -> None:
    """Fill the open (empty) database with a realistic large data set."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    db = database.obj
    t0 = time.perf_counter()
    with db.atomic():
        _insert(
            Person,
            [
                (
                    f"person{i}@example.org",
                    f"Person {i}",
                    DEPARTMENTS[i % len(DEPARTMENTS)],
                    ROLES[(i // 3) % len(ROLES)],
                    LOCATIONS[(i // 7) % len(LOCATIONS)],
                    True,
                    "",
                    now,
                    now,
                )
                for i in range(people)
            ],
            [
                Person.email, Person.name, Person.department, Person.job_role,
                Person.location, Person.active, Person.notes, Person.created_at,
                Person.updated_at,
            ],
        )  # fmt: skip
        _insert(
            Trainer,
            [(i + 1, True, "", now) for i in range(200)],
            [Trainer.person, Trainer.active, Trainer.notes, Trainer.created_at],
        )
        _insert(
            Course,
            [(f"Course {i}", "", now) for i in range(60)],
            [Course.title, Course.description, Course.created_at],
        )
        # Sessions over three years back and one year ahead, working hours.
        first = now - timedelta(days=3 * 365)
        span_minutes = 4 * 365 * 24 * 60
        rows = []
        meta: list[tuple[datetime, int | None, int, int | None]] = []
        for i in range(sessions):
            start = first + timedelta(minutes=rng.randrange(span_minutes))
            start = start.replace(hour=8 + rng.randrange(9), minute=rng.choice((0, 30)), second=0)
            minutes = rng.choice((60, 90, 120, 180))
            course = 1 + rng.randrange(60)
            cap = None if rng.random() < 0.1 else rng.randrange(6, 25)
            expiry = 12 if course % 3 == 0 else None
            cancelled = start if rng.random() < 0.03 else None
            rows.append(
                (
                    f"Course {course - 1}", "", course, start, start + timedelta(minutes=minutes),
                    minutes, "in_person", "Room 1", None, 1 + rng.randrange(200), cap, expiry,
                    "", f"bench-{i}@rollcall", 0, cancelled, "Bench" if cancelled else None,
                    start + timedelta(minutes=minutes) if start < now else None, now, now,
                )
            )  # fmt: skip
            meta.append((start, cap, course, expiry))
        _insert(
            Session,
            rows,
            [
                Session.title, Session.description, Session.course, Session.start, Session.end,
                Session.duration_minutes, Session.type, Session.location, Session.online_url,
                Session.trainer, Session.max_attendees, Session.expiry_months, Session.notes,
                Session.uid, Session.sequence, Session.cancelled_at, Session.cancel_reason,
                Session.finalised_at, Session.created_at, Session.updated_at,
            ],
        )  # fmt: skip
        # A quarter of the sessions are for some departments or roles only.
        vis = []
        for sid in range(1, sessions + 1):
            if rng.random() < 0.25:
                vis.append((sid, "department", rng.choice(DEPARTMENTS)))
                if rng.random() < 0.3:
                    vis.append((sid, "role", rng.choice(ROLES)))
        _insert(
            SessionVisibility,
            vis,
            [SessionVisibility.session, SessionVisibility.dimension, SessionVisibility.value],
        )
        print(f"people, sessions, visibility: {time.perf_counter() - t0:.1f} s", flush=True)
        made = 0
        batch: list[tuple[Any, ...]] = []
        completions: list[tuple[Any, ...]] = []
        fields = [
            Enrolment.session, Enrolment.person, Enrolment.status, Enrolment.waitlist_position,
            Enrolment.calendar, Enrolment.invited_at, Enrolment.responded_at,
            Enrolment.created_at, Enrolment.updated_at,
        ]  # fmt: skip
        for sid, (start, cap, course, expiry) in enumerate(meta, start=1):
            # Aim at the remaining average so the total lands on `enrolments`.
            left = (enrolments - made) / (len(meta) - sid + 1)
            want = min(people, max(1, round(left + rng.gauss(0, 3))))
            chosen = rng.sample(range(1, people + 1), want)
            past = start < now
            for n, pid in enumerate(chosen):
                waiting = cap is not None and n >= cap
                if past:
                    status = (
                        "cancelled"
                        if waiting
                        else ("no_show" if rng.random() < 0.12 else "attended")
                    )
                else:
                    status = "waitlisted" if waiting else "enrolled"
                invited = start - timedelta(days=rng.randrange(3, 20))
                answered = (
                    invited + timedelta(minutes=rng.randrange(5, 4 * 24 * 60))
                    if rng.random() < 0.7
                    else None
                )
                calendar = (
                    rng.choice(("accepted", "accepted", "tentative", "declined"))
                    if answered
                    else "invited"
                )
                batch.append(
                    (sid, pid, status, n - cap + 1 if waiting and not past else None, calendar,
                     invited, answered, invited, invited)
                )  # fmt: skip
                if status == "attended" and expiry:
                    day = start.date()
                    completions.append(
                        (pid, course, None, sid, day, day + timedelta(days=365), "attendance", now)
                    )
            made += want
            if len(batch) >= 50_000:
                _insert(Enrolment, batch, fields)
                batch.clear()
            if made >= enrolments:
                break
        _insert(Enrolment, batch, fields)
        _insert(
            Completion,
            completions,
            [
                Completion.person, Completion.course, Completion.elearning, Completion.session,
                Completion.completed_on, Completion.expires_on, Completion.source,
                Completion.created_at,
            ],
        )  # fmt: skip
        item = ElearningItem.create(name="Induction")
        pathway = Pathway.create(name="Bench pathway")
        PathwayRequirement.create(
            pathway=pathway, position=1, kind="elearning", mode="all", label="Induction",
            elearning=item,
        )  # fmt: skip
        for position, (mode, courses) in enumerate(((("all"), (3, 6)), ("any", (9, 12, 15))), 2):
            req = PathwayRequirement.create(
                pathway=pathway,
                position=position,
                kind="sessions",
                mode=mode,
                label=f"Step {position}",
            )
            for c in courses:
                RequirementCourse.create(requirement=req, course=c)
    print(
        f"generated {Session.select().count()} sessions, {Enrolment.select().count()} enrolments, "
        f"{Completion.select().count()} completions in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )


def timed(fn: Callable[[], Any], runs: int = 3) -> tuple[float, int]:
    """Median wall time in ms over `runs`, and the number of rows of the last run."""
    times = []
    result: Any = None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), len(result) if hasattr(result, "__len__") else 0


def query_figures() -> list[tuple[str, float, int]]:
    """Time the store functions the screens' workers call."""
    from store.my_calendar import my_calendar
    from store.pathways import progress
    from store.reports import REPORTS, run_report

    out = []
    for pid in (17, 4242, 19_999):
        person = Person.get_by_id(pid)
        ms, n = timed(lambda p=person: my_calendar(p))
        out.append((f"learner view: my_calendar (person {pid})", ms, n))
        ms, n = timed(lambda p=person: progress(p))
        out.append((f"learner view: pathway progress (person {pid})", ms, n))
    year_ago = date.today() - timedelta(days=365)  # noqa: DTZ011
    for name in REPORTS:
        if name in ("expiring", "due"):
            ms, n = timed(lambda nm=name: run_report(nm, days=30, limit=200))
            out.append((f"report {name} (next 30 days, first 200 as on screen)", ms, n))
            ms, n = timed(lambda nm=name: run_report(nm, days=30), runs=1)
            out.append((f"report {name} (next 30 days, all rows, as exported)", ms, n))
            continue
        ms, n = timed(lambda nm=name: run_report(nm, since=year_ago))
        out.append((f"report {name} (last 12 months)", ms, n))
        ms, n = timed(lambda nm=name: run_report(nm))
        out.append((f"report {name} (all time, the screen's default)", ms, n))
    return out


async def screen_figures() -> list[tuple[str, float, int]]:
    """Time each screen headless, median of 3: from push to its rows shown."""
    from textual.app import App
    from textual.widgets import DataTable

    from screens.learner import LearnerScreen
    from screens.reports import ReportsScreen
    from store.reports import REPORTS

    out: list[tuple[str, float, int]] = []

    class Bench(App[None]):
        pass

    app = Bench()
    async with app.run_test(size=(160, 50)) as pilot:
        for pid in (17, 4242):
            t = time.perf_counter()
            await app.push_screen(LearnerScreen(f"person{pid}@example.org"))
            table = app.screen.query_one(DataTable)
            while table.row_count == 0 and time.perf_counter() - t < 30:
                await pilot.pause(0.005)
            out.append((f"screen: My calendar (person {pid})", (time.perf_counter() - t) * 1000,
                        table.row_count))  # fmt: skip
            app.pop_screen()
            await pilot.pause()
        for name in REPORTS:
            times = []
            rows = 0
            for _ in range(3):
                t = time.perf_counter()
                screen = ReportsScreen(report=name)
                await app.push_screen(screen)
                while screen.loaded != name and time.perf_counter() - t < 30:
                    await pilot.pause(0.005)
                await pilot.pause()  # the rows painted
                times.append((time.perf_counter() - t) * 1000)
                rows = screen.query_one(DataTable).row_count
                app.pop_screen()
                await app.workers.wait_for_complete()
                await pilot.pause()
            out.append((f"screen: report {name}", statistics.median(times), rows))
    return out


def main() -> None:
    """Generate (if needed) and measure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default="/tmp/rollcall-bench.db")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--enrolments", type=int, default=1_000_000)
    parser.add_argument("--fresh", action="store_true", help="Delete and regenerate the data.")
    parser.add_argument("--no-screens", action="store_true", help="Only time the queries.")
    args = parser.parse_args()
    path = Path(args.db)
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    use_settings(load_settings(environ={"ROLLCALL_TIMEZONE": "Europe/London"}))
    open_database(str(path))
    if not Session.select().exists():
        generate(args.sessions, args.enrolments)
    rows = query_figures()
    if not args.no_screens:
        rows += asyncio.run(screen_figures())
    print(f"\n{date.today()}  {Session.select().count()} sessions, "  # noqa: DTZ011
          f"{Enrolment.select().count()} enrolments, SQLite\n")  # fmt: skip
    print("| what | median ms | rows |\n|---|---:|---:|")
    for what, ms, n in rows:
        print(f"| {what} | {ms:.0f} | {n} |")


if __name__ == "__main__":
    main()
