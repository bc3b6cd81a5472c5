"""Reading a long ordered query in pages of a fixed size: flat memory, queries per page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import peewee

from store import validate
from store.date_search import local_midnight
from store.db import is_postgres
from store.errors import ValidationError

PAGE_SIZE = 1000
"""Rows read per query: large enough that a page costs little, small enough to stay flat."""


def parse_count(value: str | int | None, field: str, *, minimum: int = 0) -> int | None:
    """A `--limit` / `--offset` given as text: a whole number >= `minimum`, or None when absent."""
    if value is None or value == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValidationError(
            f"{field} must be a whole number, got {value!r}", field=field
        ) from None
    if number < minimum:
        raise ValidationError(f"{field} must be at least {minimum}, got {number}", field=field)
    return number


def day_bounds(
    first: str | None, last: str | None, zone: ZoneInfo, *, first_field: str = "from"
) -> tuple[datetime | None, datetime | None]:
    """`--from` / `--to` days in the site's zone as UTC instants: [start of first, end of last)."""
    lower = upper = None
    first_day: date | None = None
    if first:
        first_day = validate.parse_date(first, first_field)
        lower = local_midnight(first_day, zone)
    if last:
        last_day = validate.parse_date(last, "to")
        if first_day is not None and last_day < first_day:
            raise ValidationError(f"to ({last_day}) is before from ({first_day})", field="to")
        upper = local_midnight(date.fromordinal(last_day.toordinal() + 1), zone)
    return lower, upper


def keyset_pages(
    query: peewee.ModelSelect,
    keys: Sequence[peewee.Field],
    *,
    limit: int | None = None,
    offset: int | None = None,
    page_size: int = PAGE_SIZE,
    key_of: Callable[[peewee.Model], tuple[object, object]] | None = None,
    descending: bool = False,
) -> Iterator[list[peewee.Model]]:
    """The rows of `query` (ordered by `keys`, the last one unique) page by page.

    Each page continues after the last row of the one before (no OFFSET over rows already
    read), and asks for one row more than it returns so the last page costs no extra query.
    `key_of` reads the keys of a row when they are not its own attributes (a joined table's);
    `descending` reads newest first.
    """
    first, last = keys[0], keys[-1]
    after: tuple[object, object] | None = None
    left = limit
    skip = offset or 0
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left)
        page = query.order_by(*(k.desc() if descending else k for k in keys))
        if after is not None:
            # A row-value comparison: one index range scan on both backends.
            mine = peewee.Tuple(first, last)
            seen = peewee.Tuple(first.db_value(after[0]), last.db_value(after[1]))
            page = page.where(mine < seen if descending else mine > seen)
        elif skip:
            page = page.offset(skip)
        rows = list(page.limit(size + 1))
        more = len(rows) > size
        rows = rows[:size]
        if rows:
            yield rows
        if not more:
            return
        tail = rows[-1]
        after = key_of(tail) if key_of else (getattr(tail, first.name), getattr(tail, last.name))
        if left is not None:
            left -= len(rows)


def id_rows(array: object) -> peewee.SQL:
    """The ids of one array parameter (`array`: its text, from `id_array`) as rows, for `IN`.

    A page has a thousand ids. As a thousand parameters peewee spends more time binding them
    than the database takes to answer; written into the statement, each page's text differs,
    so SQLite compiles every page anew (and caches a hundred such copies), and PostgreSQL
    plans the list one value at a time. As one array, the text is the same for every page
    and PostgreSQL plans the unnested array as one set of rows.
    """
    if is_postgres():
        return peewee.SQL("(SELECT unnest(%s::int[]))", [array])
    return peewee.SQL("(SELECT value FROM json_each(?))", [array])


def id_array(ids: Iterable[int | None]) -> str:
    """Ids read from the database as the text of `id_rows`' parameter (PostgreSQL's or JSON's)."""
    listed = ",".join([str(int(i)) for i in ids if i is not None])
    return "{" + listed + "}" if is_postgres() else "[" + listed + "]"


def in_ids(column: peewee.Field, ids: Iterable[int | None]) -> peewee.Expression:
    """``column IN`` the `ids`, given as one array parameter (`id_rows`)."""
    return column.in_(id_rows(id_array(ids)))


Row = tuple[Any, ...]
Key = tuple[Any, int]
"""A row's key: the value it is ordered by, then its id."""


class TextPages(Protocol):
    """Rows read a page at a time in key order, and their JSON text (`SessionPages`)."""

    def take(self, after: Key | None, left: int | None) -> tuple[list[Row], Key | None, int | None]:
        """The page after `after` (None: the first) of at most `left` rows (None: no limit);
        the key to read the next page after (None: this is the last); the rows left."""

    def texts(self, page: list[Row]) -> Iterator[str]:
        """The rows of `page` as items of a JSON array."""


def texts_from(
    pages: TextPages, page: list[Row], after: Key | None, left: int | None
) -> Iterator[str]:
    """The texts of `page` and of every page after it (`page, after, left`: what `take` gave)."""
    yield from pages.texts(page)
    while after is not None:
        page, after, left = pages.take(after, left)
        yield from pages.texts(page)
