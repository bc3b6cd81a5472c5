"""Reports: no-shows, attendance over time, invitation responses, expiry and fill rate.

Each report is one or two aggregate queries (GROUP BY in the database, never a
Python loop over enrolments) returning plain dict rows, so a report stays
fast on a million enrolments and every one exports the same way (`to_csv`).
Periods are calendar months or ISO weeks (Monday first) of the UTC start time.
"""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, time
from typing import Any

import peewee

from store.completions import due_for_renewal
from store.csvfile import spreadsheet_safe
from store.db import is_postgres
from store.errors import ValidationError
from store.models import Course, Enrolment, Person, Session
from store.session_input import local_start
from store.settings import current_settings
from store.statuses import MARKED, OCCUPYING
from store.workflow_reports import WORKFLOW_REPORTS

Row = dict[str, Any]
NO_SHOW_GROUPS = ("person", "course", "department", "trainer")
PERIODS = ("month", "week")


def _case_count(condition: peewee.Expression) -> peewee.Expression:
    return peewee.fn.SUM(peewee.Case(None, [(condition, 1)], 0))


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _window(
    query: peewee.ModelSelect, since: date | None, until: date | None
) -> peewee.ModelSelect:
    """Restrict to sessions starting on or after `since` and before the day after `until`."""
    zone = current_settings().zone
    if since is not None:
        query = query.where(Session.start >= local_start(since, time(0), zone))
    if until is not None:
        query = query.where(
            Session.start < local_start(date.fromordinal(until.toordinal() + 1), time(0), zone)
        )
    return query


def no_shows(
    by: str = "person",
    *,
    since: date | None = None,
    until: date | None = None,
    min_marked: int = 1,
    limit: int | None = None,
) -> list[Row]:
    """No-show rate grouped by person, course, department or trainer, worst first.

    Only marked enrolments (attended or no-show) count; `rate` is the share of
    them that were no-shows, in percent with one decimal.
    """
    if by not in NO_SHOW_GROUPS:
        raise ValidationError(f"by must be one of {', '.join(NO_SHOW_GROUPS)}, got {by!r}", "by")
    # Count per person or per session first: both fit a covering index on
    # enrolment, so a million rows are read from the index alone; the few
    # thousand groups are then joined to people or sessions and regrouped.
    per = Enrolment.person if by in ("person", "department") else Enrolment.session
    counts = (
        Enrolment.select(
            per.alias("key"),
            peewee.fn.COUNT(Enrolment.id).alias("marked"),
            _case_count(Enrolment.status == "no_show").alias("missed"),
        )
        .where(Enrolment.status.in_(MARKED))
        .group_by(per)
    )
    if since is not None or until is not None:
        counts = counts.where(
            Enrolment.session.in_(_window(Session.select(Session.id), since, until))
        )
    sub = counts.alias("c")
    marked = peewee.fn.SUM(sub.c.marked)
    missed = peewee.fn.SUM(sub.c.missed)
    keys: list[peewee.Node]
    if by == "person":
        keys = [Person.id, Person.email, Person.name, Person.department]
    elif by == "department":
        keys = [Person.department]
    elif by == "course":
        keys = [Session.course]
    else:
        keys = [Session.trainer]
    model, on = (Person, Person.id) if by in ("person", "department") else (Session, Session.id)
    query = (
        model.select(*keys, marked.alias("marked"), missed.alias("missed"))
        .join(sub, on=(sub.c.key == on))
        .group_by(*keys)
        .having(marked >= min_marked)
    )
    raw = list(query.dicts())
    names = _names(by, raw)
    rows: list[Row] = []
    for r in raw:
        total, absent = int(r["marked"]), int(r["missed"] or 0)
        if by == "person":
            row: Row = {"email": r["email"], "name": r["name"], "department": r["department"]}
        elif by == "department":
            row = {"department": r["department"] or "(none)"}
        elif by == "course":
            row = {"course": names.get(r["course"], "")}
        else:
            row = {"trainer": names.get(r["trainer"], "(no trainer)")}
        row.update(
            {
                "marked": total,
                "attended": total - absent,
                "no_shows": absent,
                "rate": _rate(absent, total),
            }
        )
        rows.append(row)
    first = next(iter(rows[0])) if rows else ""
    rows.sort(key=lambda x: (-(x["rate"] or 0), -x["no_shows"], str(x.get(first, ""))))
    return rows[:limit] if limit is not None else rows


def _names(by: str, raw: list[Row]) -> dict[Any, str]:
    if by == "course":
        ids = {r["course"] for r in raw}
        return {c.id: c.title for c in Course.select().where(Course.id.in_(ids))} if ids else {}
    if by == "trainer":
        from store.people import trainers_by_id

        return trainers_by_id((r["trainer"] for r in raw if r["trainer"] is not None), Person.email)
    return {}


def _period_expr(column: peewee.Field, period: str) -> peewee.Node:
    if period not in PERIODS:
        raise ValidationError(f"period must be month or week, got {period!r}", field="period")
    if is_postgres():
        if period == "month":
            return peewee.fn.to_char(column, "YYYY-MM").coerce(False)
        return peewee.fn.to_char(peewee.fn.date_trunc("week", column), "YYYY-MM-DD").coerce(False)
    # Stored as 'YYYY-MM-DD HH:MM:SS...' text on SQLite.
    if period == "month":
        return peewee.fn.substr(column, 1, 7).coerce(False)
    return peewee.fn.date(column, "weekday 0", "-6 days").coerce(False)


def attendance_over_time(
    period: str = "month", *, since: date | None = None, until: date | None = None
) -> list[Row]:
    """Attendance rate per month (or week): of marked enrolments, the share attended."""
    bucket = _period_expr(Session.start, period)
    # Per-session counts come from a covering index; then sessions group by period.
    counts = (
        Enrolment.select(
            Enrolment.session.alias("sid"),
            peewee.fn.COUNT(Enrolment.id).alias("marked"),
            _case_count(Enrolment.status == "attended").alias("came"),
        )
        .where(Enrolment.status.in_(MARKED))
        .group_by(Enrolment.session)
        .alias("c")
    )
    query = (
        Session.select(
            bucket.alias("period"),
            peewee.fn.COUNT(Session.id).alias("sessions"),
            peewee.fn.SUM(counts.c.marked).alias("marked"),
            peewee.fn.SUM(counts.c.came).alias("attended"),
        )
        .join(counts, on=(counts.c.sid == Session.id))
        .where(Session.cancelled_at.is_null())
    )
    query = _window(query, since, until).group_by(bucket).order_by(bucket)
    rows = []
    for r in query.dicts():
        total, came_n = int(r["marked"]), int(r["attended"] or 0)
        rows.append(
            {
                "period": str(r["period"]),
                "sessions": int(r["sessions"]),
                "marked": total,
                "attended": came_n,
                "no_shows": total - came_n,
                "rate": _rate(came_n, total),
            }
        )
    return rows


def _epoch_hours(start: peewee.Field, end: peewee.Field) -> peewee.Node:
    """Hours from `start` to `end`, computed by the database."""
    if is_postgres():
        span = peewee.NodeList((peewee.SQL("EPOCH FROM"), (end - start)))
        return peewee.fn.EXTRACT(span) / 3600.0
    if sqlite3.sqlite_version_info >= (3, 38, 0):
        # unixepoch() parses the stored text about twice as fast as julianday().
        return (peewee.fn.unixepoch(end) - peewee.fn.unixepoch(start)) / 3600.0
    return (peewee.fn.julianday(end) - peewee.fn.julianday(start)) * 24.0


def responses(
    by: str = "course", *, since: date | None = None, until: date | None = None
) -> list[Row]:
    """Invitation answers per course (or overall): rates and how long people took, in hours."""
    if by not in ("course", "overall"):
        raise ValidationError(f"by must be course or overall, got {by!r}", field="by")
    # Sum per session from the (session, invited_at, responded_at, calendar)
    # index alone, then add the sessions up per course. The hours are null when
    # there was no answer, so SUM skips those rows without a CASE.
    hours = _epoch_hours(Enrolment.invited_at, Enrolment.responded_at)
    per_session = (
        Enrolment.select(
            Enrolment.session.alias("sid"),
            peewee.fn.COUNT(Enrolment.id).alias("invited"),
            peewee.fn.COUNT(Enrolment.responded_at).alias("responded"),
            _case_count(Enrolment.calendar == "accepted").alias("accepted"),
            _case_count(Enrolment.calendar == "tentative").alias("tentative"),
            _case_count(Enrolment.calendar == "declined").alias("declined"),
            peewee.fn.SUM(hours).alias("hours"),
        )
        .where(Enrolment.invited_at.is_null(False))
        .group_by(Enrolment.session)
        .alias("r")
    )
    keys: list[peewee.Node] = [Session.course] if by == "course" else []
    totals = [
        peewee.fn.SUM(getattr(per_session.c, name)).alias(name)
        for name in ("invited", "responded", "accepted", "tentative", "declined", "hours")
    ]
    query = Session.select(*keys, *totals).join(per_session, on=(per_session.c.sid == Session.id))
    query = _window(query, since, until)
    if keys:
        query = query.group_by(*keys)
    raw = list(query.dicts())
    names = _names("course", raw) if by == "course" else {}
    rows = []
    for r in raw:
        invited = int(r["invited"] or 0)
        if not invited:
            continue
        responded = int(r["responded"] or 0)
        row: Row = {"course": names.get(r["course"], "")} if by == "course" else {"course": "All"}
        row.update(
            {
                "invited": invited,
                "responded": responded,
                "accepted": int(r["accepted"] or 0),
                "tentative": int(r["tentative"] or 0),
                "declined": int(r["declined"] or 0),
                "no_answer": invited - responded,
                "response_rate": _rate(responded, invited),
                "avg_hours": round(float(r["hours"]) / responded, 1)
                if responded and r["hours"] is not None
                else None,
            }
        )
        rows.append(row)
    rows.sort(key=lambda x: x["course"])
    return rows


RESPONSE_BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("< 1 h", 1.0),
    ("1-4 h", 4.0),
    ("4-24 h", 24.0),
    ("1-3 days", 72.0),
    ("> 3 days", None),
)


def response_times(*, since: date | None = None, until: date | None = None) -> list[Row]:
    """How long people took to answer invitations, counted in buckets (for a bar chart)."""
    inner = Enrolment.select(
        _epoch_hours(Enrolment.invited_at, Enrolment.responded_at).alias("h")
    ).where(Enrolment.invited_at.is_null(False) & Enrolment.responded_at.is_null(False))
    if since is not None or until is not None:
        inner = inner.where(
            Enrolment.session.in_(_window(Session.select(Session.id), since, until))
        )
    if not is_postgres():
        # LIMIT keeps SQLite from flattening the subquery, so each row's delay is
        # computed once rather than once per bucket test.
        inner = inner.limit(-1)
    sub = inner.alias("d")
    counts: dict[int, int] = {}
    lower: float | None = None
    columns = []
    for index, (_, upper) in enumerate(RESPONSE_BUCKETS):
        condition = peewee.SQL("1 = 1")
        if lower is not None:
            condition = sub.c.h >= lower
        if upper is not None:
            condition = condition & (sub.c.h < upper)
        columns.append(_case_count(condition).alias(f"b{index}"))
        lower = upper
    row = Enrolment.select(*columns).from_(sub).dicts().get()
    counts = {i: int(row[f"b{i}"] or 0) for i in range(len(RESPONSE_BUCKETS))}
    return [
        {"bucket": label, "responses": counts.get(i, 0)}
        for i, (label, _) in enumerate(RESPONSE_BUCKETS)
    ]


def expiring(days: int = 30, *, limit: int | None = None) -> list[Row]:
    """Completions whose latest expiry falls in the next `days` days (not yet expired)."""
    return [r.as_dict() for r in due_for_renewal(days, include_expired=False, limit=limit)]


def fill_rate(
    by: str = "course", *, since: date | None = None, until: date | None = None
) -> list[Row]:
    """Places taken against places offered, per course or per month, capped sessions only.

    Taken means enrolled, attended or no-show; cancelled sessions and those
    without a maximum are left out.
    """
    if by not in ("course", "month"):
        raise ValidationError(f"by must be course or month, got {by!r}", field="by")
    taken = (
        Enrolment.select(Enrolment.session.alias("sid"), peewee.fn.COUNT(Enrolment.id).alias("n"))
        .where(Enrolment.status.in_(OCCUPYING))
        .group_by(Enrolment.session)
        .alias("t")
    )
    key: peewee.Node = Session.course if by == "course" else _period_expr(Session.start, "month")
    places = peewee.fn.SUM(Session.max_attendees)
    filled = peewee.fn.SUM(peewee.fn.COALESCE(taken.c.n, 0))
    full = _case_count(peewee.fn.COALESCE(taken.c.n, 0) >= Session.max_attendees)
    query = (
        Session.select(
            key.alias("key"),
            peewee.fn.COUNT(Session.id).alias("sessions"),
            places.alias("places"),
            filled.alias("taken"),
            full.alias("full"),
        )
        .join(taken, peewee.JOIN.LEFT_OUTER, on=(taken.c.sid == Session.id))
        .where(Session.cancelled_at.is_null() & Session.max_attendees.is_null(False))
    )
    query = _window(query, since, until).group_by(key)
    raw = list(query.dicts())
    names = (
        {c.id: c.title for c in Course.select().where(Course.id.in_({r["key"] for r in raw}))}
        if by == "course" and raw
        else {}
    )
    rows = []
    for r in raw:
        places_n, taken_n = int(r["places"] or 0), int(r["taken"] or 0)
        label = names.get(r["key"], "") if by == "course" else str(r["key"])
        rows.append(
            {
                by: label,
                "sessions": int(r["sessions"]),
                "full_sessions": int(r["full"] or 0),
                "places": places_n,
                "taken": taken_n,
                "rate": _rate(taken_n, places_n),
            }
        )
    rows.sort(key=lambda x: str(x[by]))
    return rows


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    value = spreadsheet_safe(value)
    if isinstance(value, str) and "\r" in value:
        # The writer quotes cells holding its line end ("\n") but not a bare CR,
        # which spreadsheets also read as a line break: make it a quoted newline.
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def to_csv(rows: Sequence[Row]) -> str:
    """The rows as CSV text with a header line (empty text for no rows).

    Text cells a spreadsheet would run as a formula are neutralised.
    """
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return buffer.getvalue()


REPORTS: dict[str, tuple[str, Callable[..., list[Row]]]] = {
    "no-shows": ("No-show rate by person", lambda **kw: no_shows("person", **kw)),
    "no-shows-course": ("No-show rate by course", lambda **kw: no_shows("course", **kw)),
    "no-shows-department": (
        "No-show rate by department",
        lambda **kw: no_shows("department", **kw),
    ),
    "no-shows-trainer": ("No-show rate by trainer", lambda **kw: no_shows("trainer", **kw)),
    "attendance": ("Attendance rate by month", lambda **kw: attendance_over_time("month", **kw)),
    "attendance-weekly": (
        "Attendance rate by week",
        lambda **kw: attendance_over_time("week", **kw),
    ),
    "responses": ("Invitation responses by course", lambda **kw: responses("course", **kw)),
    "response-times": ("How long people take to answer", lambda **kw: response_times(**kw)),
    "expiring": ("Completions expiring soon", lambda **kw: expiring(**kw)),
    "due": (
        "Due for renewal (expired or expiring)",
        lambda **kw: [r.as_dict() for r in due_for_renewal(**kw)],
    ),
    "fill-rate": ("Fill rate by course", lambda **kw: fill_rate("course", **kw)),
    "fill-rate-monthly": ("Fill rate by month", lambda **kw: fill_rate("month", **kw)),
}
"""Report name -> (title, function taking keyword filters); names are the CLI's."""
REPORTS.update(WORKFLOW_REPORTS)

DAY_REPORTS = ("expiring", "due")
"""Reports over the next N days of expiry rather than a period of sessions."""


def run_report(
    name: str,
    *,
    days: int | None = None,
    since: date | None = None,
    until: date | None = None,
    limit: int | None = None,
) -> list[Row]:
    """Run a report by its CLI name with the filters it accepts.

    `limit` caps the expiring and due lists (the most urgent first); the
    other reports have a row per group and are never long.
    """
    if name not in REPORTS:
        raise ValidationError(
            f"report must be one of {', '.join(REPORTS)}, got {name!r}", field="report"
        )
    fn = REPORTS[name][1]
    if name in DAY_REPORTS:
        return fn(days=30 if days is None else days, limit=limit)
    if days is not None:
        raise ValidationError("--days applies only to the expiring and due reports", "days")
    return fn(since=since, until=until)
