"""Local wall-clock times and the instants they mean, across daylight-saving changes.

A local date and time can name no instant (the spring gap, when the clocks go
forward) or two (the autumn repeated hour, when they go back). rollcall never
guesses: a time in the gap is refused, and a repeated time must say which of
the two it means, by its zone abbreviation or UTC offset ("01:30 BST" or
"01:30 GMT", "01:30+01:00"), the way people write it on a poster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from store.errors import ValidationError

_START = re.compile(
    r"(?P<h>\d{1,2}):(?P<m>\d{2})"
    r"(?:\s*(?:(?P<offset>(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?)|(?P<abbr>[A-Za-z]{2,6})))?"
)


@dataclass(frozen=True)
class StartTime:
    """A start time as entered: the wall-clock time and, when given, which zone reading it means."""

    time: time
    designator: str | None = None
    """A zone abbreviation (``BST``) or UTC offset (``+01:00``) that picks one instant."""


def parse_start(value: str | time | StartTime | None, field: str = "start") -> StartTime:
    """Read ``HH:MM``, optionally followed by a zone abbreviation or UTC offset."""
    if isinstance(value, StartTime):
        return value
    if isinstance(value, time):
        return StartTime(value.replace(second=0, microsecond=0))
    text = " ".join(str(value or "").split())
    match = _START.fullmatch(text)
    if not match or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise ValidationError(
            f"{field} {text!r} is not a time of day (use HH:MM, 24-hour)", field=field
        )
    designator = match["offset"] or match["abbr"]
    return StartTime(time(int(match["h"]), int(match["m"])), designator)


def _offset_text(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _offset_of(designator: str) -> timedelta | None:
    match = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?", designator, re.IGNORECASE)
    if not match:
        return None
    minutes = int(match[2]) * 60 + int(match[3] or 0)
    return timedelta(minutes=-minutes if match[1] == "-" else minutes)


def _matches(moment: datetime, designator: str) -> bool:
    offset = _offset_of(designator)
    if offset is not None:
        return moment.utcoffset() == offset
    return (moment.tzname() or "").upper() == designator.upper()


def readings(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The instants (aware, in `zone`) a local date and time can mean: none, one or two."""
    first = datetime.combine(day, wall.replace(fold=0), tzinfo=zone)
    second = datetime.combine(day, wall.replace(fold=1), tzinfo=zone)
    found: list[datetime] = []
    for moment in (first, second):
        # A time in the gap does not survive the round trip through UTC.
        back = moment.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None, fold=0) == moment.replace(tzinfo=None, fold=0) and all(
            m.astimezone(UTC) != moment.astimezone(UTC) for m in found
        ):
            found.append(moment)
    return found


def describe_choice(moment: datetime) -> str:
    """``01:30 BST (UTC+01:00)``: one reading of a local time, as the error offers it."""
    return f"{moment:%H:%M} {moment.tzname()} ({_offset_text(moment)})"


def instant(
    day: date, start: StartTime | time | str, zone: ZoneInfo, field: str = "start"
) -> datetime:
    """The aware UTC instant a local date and start time mean; refuses what is not one instant."""
    entered = parse_start(start, field)
    wall = entered.time
    options = readings(day, wall, zone)
    when = f"{wall:%H:%M} on {day.isoformat()} in {zone.key}"
    if not options:
        raise ValidationError(f"{field} {when} does not exist (the clocks go forward)", field=field)
    if entered.designator is not None:
        chosen = [m for m in options if _matches(m, entered.designator)]
        if not chosen:
            offered = " or ".join(describe_choice(m) for m in options)
            raise ValidationError(
                f"{field} {wall:%H:%M} {entered.designator} does not match {zone.key} on "
                f"{day.isoformat()}: write {offered}",
                field=field,
            )
        return chosen[0].astimezone(UTC)
    if len(options) == 2:
        if not isinstance(start, str):
            # A time handed over by code (a series, a report's midnight) keeps its fold.
            return options[wall.fold].astimezone(UTC)
        first, second = options
        raise ValidationError(
            f"{field} {when} happens twice (the clocks go back): write "
            f"{describe_choice(first).split(' (')[0]} for the first ({_offset_text(first)}) or "
            f"{describe_choice(second).split(' (')[0]} for the second ({_offset_text(second)})",
            field=field,
        )
    return options[0].astimezone(UTC)


def start_text(moment: datetime, zone: ZoneInfo) -> str:
    """How a form shows a stored start: ``09:30``, or ``01:30 GMT`` in a repeated hour."""
    local = moment.astimezone(zone)
    if len(readings(local.date(), local.time(), zone)) > 1:
        return f"{local:%H:%M} {local.tzname()}"
    return f"{local:%H:%M}"


def span_text(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``09:30-10:30`` (``12:00-Sun 31 Oct 2027 11:00`` over midnight), in `zone`.

    Both ends carry their zone abbreviation when the offset changes in between
    or either time falls in a repeated hour: ``01:30 BST-01:30 GMT``.
    """
    a, b = start.astimezone(zone), end.astimezone(zone)
    named = (
        a.utcoffset() != b.utcoffset()
        or len(readings(a.date(), a.time(), zone)) > 1
        or len(readings(b.date(), b.time(), zone)) > 1
    )
    first = f"{a:%H:%M} {a.tzname()}" if named else f"{a:%H:%M}"
    last = f"{b:%H:%M} {b.tzname()}" if named else f"{b:%H:%M}"
    if a.date() != b.date():
        last = f"{b:%a} {b.day} {b:%b %Y} {last}"
    return f"{first}-{last}"
