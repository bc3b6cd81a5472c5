"""Rooms are checked like trainers: one place, overlapping times, refused unless allowed."""

from __future__ import annotations

import pytest

from store.db import database, open_database
from store.errors import PlaceClash
from store.migrations import SCHEMA_VERSION, SchemaVersion, current_version
from store.models import Session
from store.recurrence import Repeat
from store.sessions import cancel_session, create_sessions, edit_session, place_clash
from tests.builders import future_day, session, session_input

pytestmark = pytest.mark.usefixtures("store")


def test_an_overlap_in_the_same_place_is_refused_naming_the_session() -> None:
    first = session(title="Fire Safety", location="Room 1", start="09:30", duration_minutes=60)
    with pytest.raises(PlaceClash) as refused:
        create_sessions(session_input(title="First Aid", location="  room   1 ", start="10:00"))
    assert refused.value.field == "location"
    assert refused.value.session_id == first.id
    assert '"Fire Safety"' in str(refused.value)
    assert f"session {first.id}" in str(refused.value)
    assert "09:30" in str(refused.value)
    assert Session.select().count() == 1


def test_allow_clash_books_the_place_anyway() -> None:
    session(location="Room 1")
    made = create_sessions(session_input(title="Second group", location="Room 1"), allow_clash=True)
    assert Session.select().count() == 2
    assert Session.get_by_id(made[0].id).place_key == "room 1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"location": "Room 2"},
        {"start": "10:30"},  # starts as the other ends
        {"start": "08:30"},  # ends as the other starts
        {"location": None, "online_url": "https://meet.example.org/room-1"},
        {"date": future_day(11)},
    ],
    ids=["other room", "right after", "right before", "online", "next day"],
)
def test_no_overlap_no_clash(overrides: dict[str, object]) -> None:
    session(location="Room 1", start="09:30", duration_minutes=60)
    create_sessions(session_input(title="Other", **overrides))
    assert Session.select().count() == 2


def test_a_cancelled_session_frees_its_place() -> None:
    first = session(location="Room 1")
    cancel_session(first.id, "trainer ill")
    create_sessions(session_input(title="Replacement", location="Room 1"))
    assert place_clash("ROOM 1", first.start, first.end, exclude=[first.id]) is not None


def test_an_edit_that_moves_onto_a_booked_place_is_refused() -> None:
    booked = session(title="Fire Safety", location="Room 1", start="09:30")
    other = session(title="First Aid", location="Room 2", start="09:30")
    with pytest.raises(PlaceClash, match="Fire Safety"):
        edit_session(other.id, {"location": "Room 1"})
    assert Session.get_by_id(other.id).location == "Room 2"
    edit_session(other.id, {"location": "Room 1"}, allow_clash=True)
    # Already sharing the room (allowed once): editing something else does not ask again.
    result = edit_session(other.id, {"title": "First Aid at Work"})
    assert result.changed == ["title"]
    assert booked.id != other.id


def test_moving_a_session_within_its_own_slot_is_no_clash_with_itself() -> None:
    only = session(location="Room 1", start="09:30", duration_minutes=60)
    edit_session(only.id, {"start": "09:45", "duration_minutes": 90})
    assert Session.get_by_id(only.id).duration_minutes == 90


def test_a_series_stops_at_the_occurrence_that_clashes() -> None:
    session(title="Busy", location="Hall", date=future_day(24))
    with pytest.raises(PlaceClash, match="Busy"):
        create_sessions(
            session_input(title="Weekly", location="Hall", date=future_day(10)),
            Repeat("weekly", count=4),
        )
    assert Session.select().where(Session.title == "Weekly").count() == 0


def test_an_older_database_gets_place_keys_on_upgrade(store: str) -> None:
    """A version-9 database (no place key) is back-filled, so its rooms are checked too."""
    booked = session(title="Fire Safety", location="Room 1")
    db = database.obj
    db.execute_sql('DROP INDEX IF EXISTS "session_place_key_start"')
    db.execute_sql('ALTER TABLE "session" DROP COLUMN "place_key"')
    with SchemaVersion.bind_ctx(db):
        SchemaVersion.update(version=9).execute()

    open_database(store)

    assert current_version(database.obj) == SCHEMA_VERSION
    assert Session.get_by_id(booked.id).place_key == "room 1"
    with pytest.raises(PlaceClash, match="Fire Safety"):
        create_sessions(session_input(title="Other", location="ROOM 1"))
