"""`session add/edit` refuse a double-booked room with exit 1 unless --allow-clash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.cli.conftest import Result, Runner

DAY = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()


def add(rollcall: Runner, title: str, location: str, start: str, *extra: str) -> Result:
    return rollcall(
        "session", "add", "--title", title, "--date", DAY, "--start", start,
        "--duration", "60", "--location", location, *extra, "--json",
    )  # fmt: skip


def test_a_double_booked_room_is_exit_1_unless_allowed(rollcall: Runner) -> None:
    first = add(rollcall, "Fire Safety", "Room 1", "09:30")
    assert first.code == 0, first.stderr
    first_id = first.json()["ids"][0]

    refused = add(rollcall, "First Aid", "room 1", "10:00")
    assert refused.code == 1, (refused.stdout, refused.stderr)
    assert refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith("error: location: "), refused.stderr
    assert '"Fire Safety"' in lines[0]
    assert f"session {first_id}" in lines[0]
    assert "--allow-clash" in lines[0]
    assert len(rollcall("session", "list", "--json").json()) == 1

    allowed = add(rollcall, "First Aid", "room 1", "10:00", "--allow-clash")
    assert allowed.code == 0, allowed.stderr
    assert len(rollcall("session", "list", "--json").json()) == 2


def test_an_edit_onto_a_booked_room_is_exit_1_unless_allowed(rollcall: Runner) -> None:
    add(rollcall, "Fire Safety", "Room 1", "09:30")
    other = add(rollcall, "First Aid", "Room 2", "09:30").json()["ids"][0]

    refused = rollcall("session", "edit", str(other), "--location", "Room 1")
    assert refused.code == 1, refused.stderr
    assert "Fire Safety" in refused.stderr
    shown = rollcall("session", "show", str(other), "--json").json()
    assert shown["location"] == "Room 2"

    allowed = rollcall("session", "edit", str(other), "--location", "Room 1", "--allow-clash")
    assert allowed.code == 0, allowed.stderr
    assert rollcall("session", "show", str(other), "--json").json()["location"] == "Room 1"


def test_session_list_search_reads_a_date(rollcall: Runner) -> None:
    add(rollcall, "Fire Safety", "Room 1", "09:30")
    day = datetime.fromisoformat(DAY)
    found = rollcall("session", "list", "--search", f"{day:%d %b}", "--json").json()
    assert [s["title"] for s in found] == ["Fire Safety"]
    other_day = day + timedelta(days=1)
    assert rollcall("session", "list", "--search", f"{other_day:%d %b}", "--json").json() == []
