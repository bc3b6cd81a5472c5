"""Dates in a search box, as people type them: a day or a month, read as a span of local days.

"2026-12-03", "3 Dec", "Thu 03 Dec 2026", "Dec 3", "3/12" (day first, as the
app writes dates), "3.12.26", "December", "Dec 2026" and "2026-12" each name a
day or a month. A date without a year means the one nearest today (within six
months either way), so "3 Jan" in December is next month's. The span is found
in the words of a search; the words left over are searched as text.

This module is pure: it knows nothing of the database, so the query that uses
its spans stays an index range on the session's start (store/session_queries.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from store.errors import ValidationError

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_ISO = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{0,2}))?", re.ASCII)
_NUMERIC = re.compile(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{2}|\d{4}))?", re.ASCII)
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)


@dataclass(frozen=True)
class DateSpan:
    """Whole local days from `first` to `last` (both included) that a search names."""

    first: date
    last: date
    words_only: bool = False
    """True for a month named by its name alone ("Dec"): it may also be a word in a title."""

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The span as UTC instants [start of `first`, start of the day after `last`)."""
        return local_midnight(self.first, zone), local_midnight(self.last + timedelta(days=1), zone)


@dataclass(frozen=True)
class DateSearch:
    """A search split into the date it names (if any) and the text left over."""

    span: DateSpan | None
    text: str


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` begins in `zone`."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def month_of(word: str) -> int | None:
    """1-12 for a month name or its first three or more letters ("Dec", "sept"), else None."""
    word = word.lower().rstrip(".")
    if len(word) < 3:
        return None
    found = [i + 1 for i, name in enumerate(MONTHS) if name.startswith(word)]
    return found[0] if len(found) == 1 else None


def _is_weekday(word: str) -> bool:
    word = word.lower().rstrip(".,")
    return len(word) >= 3 and any(name.startswith(word) for name in WEEKDAYS)


def _full_year(text: str) -> int:
    year = int(text)
    return 2000 + year if year < 100 else year


def _nearest(month: int, day: int | None, today: date) -> date | None:
    """The date with this month (and day) in the year that puts it nearest `today`."""
    best: date | None = None
    best_gap = 0
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, month, day or 1)
        except ValueError:
            continue
        if day is None:
            # A month is near when today falls in it or it is the closest month away.
            gap = abs((year - today.year) * 12 + month - today.month)
        else:
            gap = abs((candidate - today).days)
        if best is None or gap < best_gap:
            best, best_gap = candidate, gap
    return best


def _day(year: int | None, month: int, day: int, today: date) -> DateSpan | None:
    try:
        found = date(year, month, day) if year is not None else _nearest(month, day, today)
    except ValueError:
        return None
    return DateSpan(found, found) if found is not None else None


def _month(year: int | None, month: int, today: date, *, words_only: bool) -> DateSpan | None:
    if not 1 <= month <= 12:
        return None
    first = date(year, month, 1) if year is not None else _nearest(month, None, today)
    if first is None:
        return None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return DateSpan(first, following - timedelta(days=1), words_only=words_only)


def _read_word(word: str, today: date) -> DateSpan | None:
    """The span one word names: ``2026-12-03``, ``2026-12``, ``3/12``, ``3.12.26`` or ``Dec``."""
    if match := _ISO.fullmatch(word):
        year, month = int(match[1]), int(match[2])
        if match[3] and int(match[3]) >= 1:
            return _day(year, month, int(match[3]), today)
        # "2026-12-" or "2026-12-0" while the day is being typed: the month so far.
        return _month(year, month, today, words_only=False)
    if match := _NUMERIC.fullmatch(word):
        year_given = _full_year(match[3]) if match[3] else None
        return _day(year_given, int(match[2]), int(match[1]), today)
    named = month_of(word)
    return _month(None, named, today, words_only=True) if named else None


def _read(words: list[str], today: date) -> DateSpan | None:
    """The span `words` name together, or None when they are not one date."""
    if words and _is_weekday(words[0]) and len(words) > 1:
        words = words[1:]
    parts = [w.rstrip(",") for w in words]
    if len(parts) == 1:
        return _read_word(parts[0], today)
    year: int | None = None
    if len(parts) == 3 and _YEAR.fullmatch(parts[2]):
        year = int(parts[2])
        parts = parts[:2]
    if len(parts) != 2:
        return None
    first, second = parts
    for name, number in ((second, first), (first, second)):
        month = month_of(name)
        day = _DAY.fullmatch(number)
        if month is not None and day is not None:
            return _day(year, month, int(day[1]), today)
    month = month_of(first)
    if year is None and month is not None and _YEAR.fullmatch(second):
        return _month(int(second), month, today, words_only=False)
    return None


def split_date(search: str, today: date) -> DateSearch:
    """Find the longest run of words in `search` that names a day or month.

    The run's words leave the text; what remains is searched as text. A search
    with no date comes back whole, with no span.
    """
    words = search.split()
    for size in (4, 3, 2, 1):
        for start in range(0, len(words) - size + 1):
            span = _read(words[start : start + size], today)
            if span is not None:
                rest = words[:start] + words[start + size :]
                return DateSearch(span, " ".join(rest))
    return DateSearch(None, search)


def week_span(today: date, weeks_ahead: int = 0) -> DateSpan:
    """Monday to Sunday of the week containing `today`, moved `weeks_ahead` weeks on."""
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    return DateSpan(monday, monday + timedelta(days=6))


def read_span(text: str, today: date) -> DateSpan | None:
    """The span `text` names as a whole ("2026-12-03", "3 Dec", "Dec"), or None."""
    found = split_date(text.strip(), today)
    return found.span if found.span is not None and not found.text else None


@dataclass(frozen=True)
class DayRange:
    """Sessions starting on the local days `first`..`last`; either end open when None."""

    label: str
    first: date | None = None
    last: date | None = None

    def bounds(self, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """UTC instants [start of `first`, start of the day after `last`), None where open."""
        lower = local_midnight(self.first, zone) if self.first else None
        upper = local_midnight(self.last + timedelta(days=1), zone) if self.last else None
        return lower, upper

    @property
    def days(self) -> str:
        """The days in words: ``Mon 30 Nov – Sun 06 Dec 2026``, one day, or one open end."""
        if self.first and self.last:
            if self.first == self.last:
                return day_text(self.first)
            return f"{self.first:%a %d %b} – {day_text(self.last)}"
        if self.first:
            return f"from {day_text(self.first)}"
        return f"to {day_text(self.last)}" if self.last else "any date"


def day_text(day: date) -> str:
    """A day as the lists write it: ``Thu 03 Dec 2026``."""
    return f"{day:%a %d %b %Y}"


def preset_ranges(today: date) -> dict[str, DayRange]:
    """The ranges one key away, computed for `today` (weeks run Monday to Sunday)."""
    this_week, next_week = week_span(today), week_span(today, 1)
    month_first = today.replace(day=1)
    month_last = (month_first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {
        "today": DayRange("today", today, today),
        "this-week": DayRange("this week", this_week.first, this_week.last),
        "next-week": DayRange("next week", next_week.first, next_week.last),
        "this-month": DayRange("this month", month_first, month_last),
    }


def _range_end(text: str, today: date, field: str, example: str) -> DateSpan | None:
    """One end of a range as typed: None when empty, `ValidationError` naming `field`."""
    if not text.strip():
        return None
    span = read_span(text, today)
    if span is None:
        raise ValidationError(f"{field} {text.strip()!r} is not a date (e.g. {example})", field)
    return span


def parse_range(first_text: str, last_text: str, today: date) -> DayRange:
    """A from–to range from what was typed; `ValidationError` naming the wrong end.

    Each end takes what the search box takes ("2026-12-03", "3 Dec", "Dec"): a
    month as `from` starts on its first day, as `to` ends on its last.
    """
    first_span = _range_end(first_text, today, "from", "2026-12-03 or 3 Dec")
    last_span = _range_end(last_text, today, "to", "2026-12-18 or 18 Dec")
    first = first_span.first if first_span else None
    last = last_span.last if last_span else None
    if first is None and last is None:
        raise ValidationError("give a from day, a to day, or both", "from")
    if first is not None and last is not None:
        if last < first:
            raise ValidationError(f"to ({day_text(last)}) is before from ({day_text(first)})", "to")
    chosen = DayRange("", first, last)
    return DayRange(chosen.days, first, last)
