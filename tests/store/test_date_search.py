"""Dates in the sessions search: read as people type them, matched as a range on the start."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from store.date_search import parse_range, read_span, split_date
from store.db import database, is_postgres
from store.errors import ValidationError
from store.read_models import count_sessions, session_page
from store.session_queries import sessions_query
from tests.builders import session

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "first", "last", "rest"),
    [
        ("2026-12-03", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("03 Dec", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("Thu 3 Dec 2026", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("dec 3rd", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("3/12", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("3.12.26", date(2026, 12, 3), date(2026, 12, 3), ""),
        ("Dec", date(2026, 12, 1), date(2026, 12, 31), ""),
        ("December 2027", date(2027, 12, 1), date(2027, 12, 31), ""),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31), ""),
        ("2026-12-", date(2026, 12, 1), date(2026, 12, 31), ""),
        ("3 Jan", date(2027, 1, 3), date(2027, 1, 3), ""),
        ("20 Oct", date(2026, 10, 20), date(2026, 10, 20), ""),
        ("fire safety 3 dec", date(2026, 12, 3), date(2026, 12, 3), "fire safety"),
    ],
)
def test_dates_are_read_as_typed(typed: str, first: date, last: date, rest: str) -> None:
    found = split_date(typed, TODAY)
    assert found.span is not None
    assert (found.span.first, found.span.last, found.text) == (first, last, rest)


@pytest.mark.parametrize("typed", ["safety 12", "31 Feb", "Room 1", "12", "ma", "2026"])
def test_what_is_not_a_whole_date_stays_text(typed: str) -> None:
    found = split_date(typed, TODAY)
    assert found.span is None or found.text, found


def test_a_range_names_the_end_that_is_wrong() -> None:
    assert parse_range("1 Dec", "Dec", TODAY).last == date(2026, 12, 31)
    assert read_span("next tuesday", TODAY) is None
    with pytest.raises(ValidationError) as wrong:
        parse_range("1 Dec", "soon", TODAY)
    assert wrong.value.field == "to"
    with pytest.raises(ValidationError) as backwards:
        parse_range("10 Dec", "1 Dec", TODAY)
    assert backwards.value.field == "to"


@pytest.mark.usefixtures("store")
def test_a_date_search_finds_that_local_day_only() -> None:
    # London is on GMT in December; 00:15 and 23:45 local are the day's edges.
    early = session(title="Fire Safety", date="2026-12-03", start="00:15", location="A")
    late = session(title="First Aid", date="2026-12-03", start="23:45", location="B")
    session(title="Fire Safety", date="2026-12-04", start="00:15", location="A")
    session(title="Fire Safety", date="2026-12-02", start="23:45", location="A")
    for typed in ("3 Dec", "2026-12-03", "Thu 03 Dec 2026", "3/12"):
        page = session_page(search=typed, now=NOW)
        assert [r.id for r in page.rows] == [early.id, late.id], typed
        assert {s.id for s in sessions_query(search=typed, now=NOW)} == {early.id, late.id}
    fire = session_page(search="fire 3 dec", now=NOW)
    assert [r.id for r in fire.rows] == [early.id]


@pytest.mark.usefixtures("store")
def test_a_month_name_matches_the_month_and_the_word() -> None:
    december = session(title="Fire Safety", date="2026-12-10")
    decision = session(title="Decision Making", date="2027-01-12")
    session(title="Fire Safety", date="2027-01-14")
    assert {r.id for r in session_page(search="Dec", now=NOW).rows} == {december.id, decision.id}
    assert count_sessions(search="dec", now=NOW) == 2


@pytest.mark.usefixtures("store")
def test_a_date_search_reads_the_start_index() -> None:
    """The day becomes a range on the indexed start, not a text match on every row."""
    query = sessions_query(search="2026-12-03", now=NOW)
    sql, params = query.sql()
    assert "LIKE" not in sql
    assert '"start" >=' in sql
    if is_postgres():
        return
    plan = " ".join(
        str(row) for row in database.obj.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params)
    )
    assert "USING INDEX" in plan, plan
    assert "start" in plan, plan
