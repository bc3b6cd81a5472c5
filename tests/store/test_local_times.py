"""Local start times the clocks skip or repeat: refused naming `start`, or chosen on purpose."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from store.errors import ValidationError
from store.local_time import instant, readings
from store.models import Outbox, Session
from store.sessions import edit_session
from store.settings import Settings, use_settings
from tests.builders import session

# (zone, a day the clocks go forward, a wall time in its gap)
GAPS = [
    ("Europe/London", date(2027, 3, 28), "01:30"),
    ("America/New_York", date(2027, 3, 14), "02:30"),
    ("Australia/Sydney", date(2027, 10, 3), "02:30"),
]


@pytest.fixture
def in_zone(request: pytest.FixtureRequest, settings: Settings) -> Iterator[ZoneInfo]:
    """Make the site's zone `request.param` for the test."""
    use_settings(dataclasses.replace(settings, timezone=request.param))
    yield ZoneInfo(request.param)
    use_settings(settings)


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize(("in_zone", "day", "start"), GAPS, indirect=["in_zone"])
def test_a_start_the_clocks_skip_is_refused_and_nothing_is_made(
    in_zone: ZoneInfo, day: date, start: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        session(date=day, start=start)
    assert refused.value.field == "start"
    assert "does not exist" in refused.value.message
    assert in_zone.key in refused.value.message
    assert Session.select().count() == 0
    # Naming a zone does not make a skipped time exist.
    with pytest.raises(ValidationError):
        session(date=day, start=f"{start} UTC+00:00")


@pytest.mark.usefixtures("store")
@pytest.mark.parametrize(("in_zone", "day", "start"), GAPS, indirect=["in_zone"])
def test_moving_a_session_into_the_gap_changes_nothing(
    in_zone: ZoneInfo, day: date, start: str
) -> None:
    made = session(date=day, start="12:00")
    Outbox.delete().execute()
    with pytest.raises(ValidationError) as refused:
        edit_session(made.id, {"start": start})
    assert refused.value.field == "start"
    again = Session.get_by_id(made.id)
    assert (again.start, again.end, again.sequence) == (made.start, made.end, made.sequence)
    assert Outbox.select().count() == 0


@pytest.mark.parametrize("zone", ["Europe/London", "America/New_York", "Australia/Sydney"])
def test_every_wall_time_of_two_years_means_what_zoneinfo_says(zone: str) -> None:
    """Each quarter hour of 2027-2028: none, one or two instants, exactly as the zone's rules."""
    tz = ZoneInfo(zone)
    day = date(2027, 1, 1)
    counts = {0: 0, 1: 0, 2: 0}
    while day.year < 2029:
        for minute in range(0, 24 * 60, 15):
            wall = time(minute // 60, minute % 60)
            found = readings(day, wall, tz)
            counts[len(found)] += 1
            for moment in found:
                local = moment.astimezone(UTC).astimezone(tz)
                assert (local.date(), local.time()) == (day, wall)
            if len(found) == 2:
                first, second = (m.astimezone(UTC) for m in found)
                assert second - first == timedelta(hours=1)
            if len(found) == 1 and minute % 60 == 30:
                assert instant(day, f"{wall:%H:%M}", tz) == found[0].astimezone(UTC)
        day += timedelta(days=1)
    # Each year one skipped and one repeated hour, of four quarter hours each.
    assert counts[0] == counts[2] == 2 * 4
