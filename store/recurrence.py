"""Occurrences of a recurring series, computed with dateutil's RRULE engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil import rrule

from store.errors import ValidationError
from store.local_time import instant

FREQUENCIES = {"daily": rrule.DAILY, "weekly": rrule.WEEKLY, "monthly": rrule.MONTHLY}
MAX_OCCURRENCES = 500


@dataclass(frozen=True)
class Repeat:
    """How a session repeats: a frequency and either a count or an end date."""

    frequency: str
    count: int | None = None
    until: date | None = None

    def rule_text(self) -> str:
        """The iCalendar RRULE text of this repetition (kept with the series)."""
        parts = [f"FREQ={self.frequency.upper()}"]
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until.strftime('%Y%m%d')}")
        return ";".join(parts)


def check_repeat(repeat: Repeat, first: date) -> None:
    """Validate a repetition; raises `ValidationError` naming the field."""
    if repeat.frequency not in FREQUENCIES:
        raise ValidationError(
            f"repeat must be daily, weekly or monthly, got {repeat.frequency!r}", field="repeat"
        )
    if (repeat.count is None) == (repeat.until is None):
        raise ValidationError("give either a count or an until date for a repeat", field="repeat")
    if repeat.count is not None and not 1 <= repeat.count <= MAX_OCCURRENCES:
        raise ValidationError(
            f"count must be between 1 and {MAX_OCCURRENCES}, got {repeat.count}", field="count"
        )
    if repeat.until is not None and repeat.until < first:
        raise ValidationError(
            f"until {repeat.until.isoformat()} is before the first date {first.isoformat()}",
            field="until",
        )


def occurrences(first_day: date, start: time, zone: ZoneInfo, repeat: Repeat) -> list[datetime]:
    """Aware UTC start times of each occurrence, keeping the local wall-clock time.

    The rule runs on local (floating) times and each result is then placed in
    `zone`, so 09:30 stays 09:30 across a daylight-saving change.
    """
    check_repeat(repeat, first_day)
    dtstart = datetime.combine(first_day, start)  # noqa: DTZ001 - floating local time by design
    until = None
    if repeat.until is not None:
        until = datetime.combine(repeat.until, time(23, 59, 59))  # noqa: DTZ001
    rule = rrule.rrule(
        FREQUENCIES[repeat.frequency], dtstart=dtstart, count=repeat.count, until=until
    )
    starts: list[datetime] = []
    for local in rule:
        if len(starts) >= MAX_OCCURRENCES:
            raise ValidationError(
                f"the repeat makes more than {MAX_OCCURRENCES} sessions", field="until"
            )
        # An occurrence in the spring gap is refused; one in a repeated hour takes
        # its first reading, as a time handed over by code does.
        starts.append(instant(local.date(), local.time(), zone))
    return starts
