"""Sessions as the JSON text of the CLI contract, written straight from the rows read.

`session list --json` and `available --json` print up to every session, so the cost per row
is what matters. A page is read with one statement (the sessions and their derived status) as
the driver returns the values, without peewee's per-value conversion; the page's enrolment
counts, visibility rules and materials take one more, and course titles and trainers' emails
are read as new ones appear. The statements are made once per command and run per page with
new values (no SQL building per page). Each row is written by one f-string (compiled once: no
format to parse per row) with the C string encoder `json.dumps` itself uses, so the text is
byte for byte what `json.dumps(session_dict, ensure_ascii=False, indent=2)` gives, one level
into the JSON array.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from store.db import is_postgres
from store.models import Course, Enrolment, Material, Person, Session, SessionVisibility, Trainer
from store.paging import PAGE_SIZE, Key, Row, id_array, id_rows, texts_from
from store.session_queries import status_condition
from store.visibility import DIMENSIONS

_string = json.encoder.encode_basestring
"""The C string encoder of `json.dumps(..., ensure_ascii=False)`."""


def _time(value: object) -> str:
    """A stored UTC time as JSON: `datetime.isoformat`'s text quoted, or null.

    Times are read as the text SQLite stores ("2030-03-04 09:30:00.000000"; PostgreSQL is
    asked for the same), rearranged without building a datetime; anything else goes through
    the field's own conversion. ISO text needs no escaping.
    """
    if type(value) is str and len(value) == 26 and value[19] == ".":
        if value.endswith("000000"):
            # `isoformat` leaves out a zero fraction.
            return f'"{value[:10]}T{value[11:19]}+00:00"'
        return f'"{value[:10]}T{value[11:]}+00:00"'
    if value is None:
        return "null"
    return '"' + Session.start.python_value(value).isoformat() + '"'


def _stored_layout(column: peewee.Node) -> peewee.Node:
    """A PostgreSQL timestamp as the text SQLite stores (`_time`'s quick case, no datetime)."""
    return peewee.fn.to_char(column, "YYYY-MM-DD HH24:MI:SS.US")


def _columns(now: datetime) -> tuple[peewee.Node, ...]:
    """What a page reads of each session, in the order `_texts` unpacks it.

    The status is derived by the database with the comparisons `status_condition` filters by.
    Times come as text in one layout on both backends; the start, the page's key, still
    compares with its column as a timestamp on PostgreSQL.
    """
    time: Any = _stored_layout if is_postgres() else (lambda column: column)
    status = peewee.Case(
        None,
        [
            (status_condition("cancelled", now), "cancelled"),
            (status_condition("completed", now), "completed"),
            (Session.start <= now, "in_progress"),
        ],
        "scheduled",
    )
    return (
        time(Session.start),
        Session.id,
        Session.title,
        Session.course,
        Session.description,
        time(Session.end),
        Session.duration_minutes,
        Session.type,
        Session.location,
        Session.online_url,
        Session.trainer,
        Session.max_attendees,
        status,
        Session.cancel_reason,
        Session.expiry_months,
        Session.series,
        Session.uid,
        Session.sequence,
        Session.trainer_calendar,
        time(Session.trainer_responded_at),
        Session.approval,
        Session.offer_hours,
    )


_NO_RULES = '{\n      "roles": [],\n      "departments": [],\n      "locations": []\n    }'
_NO_COUNTS = (0, 0, 0, 0)
_COUNTED = {
    "enrolled": 0,
    "attended": 0,
    "no_show": 0,
    "waitlisted": 1,
    "offered": 2,
    "requested": 3,
}
"""Where each enrolment status counts: places taken, waitlisted, offered, requested."""


@dataclass
class _Related:
    """What a page of sessions needs from other tables, each read in one statement."""

    counts: dict[int, list[int]]
    rules: dict[int, dict[str, list[str]]]
    materials: dict[int, list[dict[str, str]]]
    courses: dict[int, str]
    """Course titles by id."""
    trainers: dict[int, str]
    """Trainers' emails by trainer id."""


def _nested(value: object) -> str:
    """`value` as `json.dumps(..., indent=2)` writes it as a field of a session."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n    ")


def _texts(page: list[Row], related: _Related) -> Iterator[str]:
    """The page's sessions as text, one level into the JSON array (the loop of every row)."""
    string, time = _string, _time
    counts, rules_of, materials_of = related.counts.get, related.rules.get, related.materials.get
    courses, trainers = related.courses.get, related.trainers.get
    for (
        start,
        sid,
        title,
        course_id,
        description,
        end,
        duration_minutes,
        kind,
        location,
        online_url,
        trainer_id,
        cap,
        status,
        cancel_reason,
        expiry_months,
        series_id,
        uid,
        sequence,
        trainer_calendar,
        trainer_responded_at,
        approval,
        offer_hours,
    ) in page:
        taken, waitlisted, offered, requested = counts(sid, _NO_COUNTS)
        course = courses(course_id)
        trainer = trainers(trainer_id)
        rules = rules_of(sid)
        materials = materials_of(sid)
        # The contract's field order, as `json.dumps(..., indent=2)` lays it out one level in.
        yield (
            f'{{\n    "id": {sid},'
            f'\n    "title": {string(title)},'
            f'\n    "course": {"null" if course is None else string(course)},'
            f'\n    "description": {string(description)},'
            f'\n    "start": {time(start)},'
            f'\n    "end": {time(end)},'
            f'\n    "duration_minutes": {duration_minutes},'
            f'\n    "type": {string(kind)},'
            f'\n    "location": {"null" if location is None else string(location)},'
            f'\n    "online_url": {"null" if online_url is None else string(online_url)},'
            f'\n    "trainer": {"null" if trainer is None else string(trainer)},'
            f'\n    "max_attendees": {"null" if cap is None else cap},'
            f'\n    "enrolled": {taken},'
            f'\n    "waitlisted": {waitlisted},'
            f'\n    "remaining": {"null" if cap is None else max(0, cap - taken - offered)},'
            f'\n    "status": "{status}",'
            f'\n    "cancel_reason": {"null" if cancel_reason is None else string(cancel_reason)},'
            f'\n    "visibility": {_NO_RULES if rules is None else _visibility(rules)},'
            f'\n    "materials": {"[]" if materials is None else _nested(materials)},'
            f'\n    "expiry_months": {"null" if expiry_months is None else expiry_months},'
            f'\n    "series_id": {"null" if series_id is None else string(series_id)},'
            f'\n    "uid": {string(uid)},'
            f'\n    "sequence": {sequence},'
            f'\n    "trainer_calendar": {string(trainer_calendar)},'
            f'\n    "trainer_responded_at": {time(trainer_responded_at)},'
            f'\n    "offered": {offered},'
            f'\n    "requested": {requested},'
            f'\n    "approval": {string(approval)},'
            f'\n    "offer_hours": {"null" if offer_hours is None else offer_hours}'
            "\n  }"
        )


def _visibility(rules: dict[str, list[str]]) -> str:
    return _nested(
        {
            "roles": rules["role"],
            "departments": rules["department"],
            "locations": rules["location"],
        }
    )


class _Slot:
    """A parameter filled in at each run of a statement made once."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


@dataclass
class _Statement:
    """SQL made once; its parameters, with slots filled in per run."""

    sql: str
    params: list[Any]

    @classmethod
    def of(cls, db: peewee.Database, query: peewee.Query) -> _Statement:
        """`query` as the database would be sent it."""
        sql, params = db.get_sql_context().sql(query).query()
        return cls(sql, list(params))

    def run(self, db: peewee.Database, **values: Any) -> list[Row]:
        """The rows, as the driver returns them."""
        params = [values[p.name] if isinstance(p, _Slot) else p for p in self.params]
        return list(db.execute_sql(self.sql, params).fetchall())


_COUNTS, _RULES, _MATERIALS = 0, 1, 2
"""What a row of the related statement is: its second column."""


def _related_statements(db: peewee.Database) -> tuple[_Statement, _Statement, _Statement]:
    """The statements of a page's related rows, course titles and trainers' emails.

    The enrolment counts, visibility rules and materials of a page are one statement, the
    three joined by UNION ALL (sorted in Python, where there are a few rows per session):
    on PostgreSQL each statement is a round trip and a plan. Courses and trainers are few:
    looked up by id (`_look_up`), they cost PostgreSQL much less than a join in the
    sessions statement (where it checks each row of the page).
    """
    ids = id_rows(_Slot("ids"))
    counts = (
        Enrolment.select(
            Enrolment.session,
            peewee.Value(_COUNTS),
            Enrolment.status,
            peewee.SQL("NULL"),
            peewee.fn.COUNT(peewee.SQL("*")),
        )
        .where(Enrolment.session.in_(ids))
        .group_by(Enrolment.session, Enrolment.status)
    )
    rules = SessionVisibility.select(
        SessionVisibility.session,
        peewee.Value(_RULES),
        SessionVisibility.dimension,
        SessionVisibility.value,
        SessionVisibility.id,
    ).where(SessionVisibility.session.in_(ids))
    materials = Material.select(
        Material.session,
        peewee.Value(_MATERIALS),
        Material.name,
        Material.url,
        Material.position,
    ).where(Material.session.in_(ids))
    courses = Course.select(Course.id, Course.title).where(Course.id.in_(ids))
    trainers = Trainer.select(Trainer.id, Person.email).join(Person).where(Trainer.id.in_(ids))
    return (
        _Statement.of(db, counts + rules + materials),
        _Statement.of(db, courses),
        _Statement.of(db, trainers),
    )


def _look_up(
    db: peewee.Database, statement: _Statement, known: dict[int, str], ids: set[int | None]
) -> None:
    """Add to `known` the names of those `ids` it does not hold yet.

    Courses and trainers recur from page to page: after the first pages there is
    seldom a name left to read, and no statement is sent.
    """
    wanted = [i for i in ids if i is not None and i not in known]
    if wanted:
        known.update(statement.run(db, ids=id_array(wanted)))


def _related(
    db: peewee.Database,
    statements: tuple[_Statement, ...],
    page: list[Row],
    names: tuple[dict[int, str], dict[int, str]],
) -> _Related:
    """The related rows of `page`; `names`: the course titles and trainers' emails read so far."""
    courses, trainers = names
    _look_up(db, statements[1], courses, {row[3] for row in page})
    _look_up(db, statements[2], trainers, {row[10] for row in page})
    found = _Related({}, {}, {}, courses, trainers)
    rules: dict[int, list[tuple[int, str, str]]] = {}
    materials: dict[int, list[tuple[int, str, str]]] = {}
    for sid, kind, first, second, number in statements[0].run(
        db, ids=id_array(row[1] for row in page)
    ):
        if kind == _COUNTS:
            slot = _COUNTED.get(first)
            if slot is not None:
                found.counts.setdefault(sid, [0, 0, 0, 0])[slot] += number
        else:
            # Rules in the order they were made, materials in their places.
            (rules if kind == _RULES else materials).setdefault(sid, []).append(
                (number, first, second)
            )
    for sid, made in rules.items():
        found.rules[sid] = {d: [] for d in DIMENSIONS}
        for _, dimension, value in sorted(made):
            found.rules[sid][dimension].append(value)
    for sid, placed in materials.items():
        found.materials[sid] = [{"name": name, "url": url} for _, name, url in sorted(placed)]
    return found


class SessionPages:
    """The sessions of a query (its filters; start order) read a page at a time, as JSON text.

    A page continues after the key (start, id) of the last row of the one before (keyset:
    one index range scan) and asks for one row more than it returns, so the last page costs
    no extra query. The statements are made once, here; they run on whatever connection the
    store holds when a page is read (a process forked to share the work opens its own).
    """

    def __init__(self, query: peewee.ModelSelect, now: datetime, *, offset: int | None = None):
        db = Session._meta.database
        rows = query.select(*_columns(now)).order_by(Session.start, Session.id)
        first = rows.limit(_Slot("size"))
        if offset:
            first = first.offset(offset)
        # The page's key goes first: SQLite bounds its scan of the start index by the first
        # range term on start, and a filter's (`--from`, scheduled) would make each page scan
        # from there.
        following = rows.clone()
        filters, following._where = following._where, None
        following = following.where(
            peewee.Tuple(Session.start, Session.id) > peewee.Tuple(_Slot("start"), _Slot("id"))
        )
        if filters is not None:
            following = following.where(filters)
        self._first = _Statement.of(db, first)
        self._following = _Statement.of(db, following.limit(_Slot("size")))
        self._related = _related_statements(db)
        self._names: tuple[dict[int, str], dict[int, str]] = ({}, {})

    def read(self, after: Key | None, size: int) -> list[Row]:
        """Up to `size` + 1 rows after the row whose key is `after` (from the first without)."""
        db = Session._meta.database
        if after is None:
            return self._first.run(db, size=size + 1)
        return self._following.run(db, size=size + 1, start=after[0], id=after[1])

    def take(self, after: Key | None, left: int | None) -> tuple[list[Row], Key | None, int | None]:
        """The next page of at most `left` rows (None: no limit) after `after` (None: the first).

        Returns the page, the key to read the next one after (None when this one is the
        last), and how many rows the limit leaves.
        """
        if left is not None and left <= 0:
            return [], None, left
        size = PAGE_SIZE if left is None else min(PAGE_SIZE, left)
        page = self.read(after, size)
        more = len(page) > size
        del page[size:]
        if left is not None:
            left -= len(page)
        last = more and bool(page) and (left is None or left > 0)
        return page, page_key(page[-1]) if last else None, left

    def texts(self, page: list[Row]) -> Iterator[str]:
        """The sessions of `page` as text, one level into the JSON array."""
        if not page:
            return iter(())
        db = Session._meta.database
        return _texts(page, _related(db, self._related, page, self._names))


def page_key(row: Row) -> Key:
    """The key of a row read by `SessionPages.read`: its start as the driver returned it (what
    the column compares with) and its id."""
    return row[0], row[1]


def session_texts(
    query: peewee.ModelSelect,
    now: datetime,
    *,
    limit: int | None = None,
    offset: int | None = None,
) -> Iterator[str]:
    """The sessions of `query` (its filters; start order) as JSON text, page by page."""
    pages = SessionPages(query, now, offset=offset)
    yield from texts_from(pages, *pages.take(None, limit))
