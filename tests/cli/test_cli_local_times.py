"""`session add/edit --start` on days the clocks change (Europe/London, as the runner sets).

On 28 March 2027 01:00-02:00 does not exist; on 31 October 2027 01:00-02:00
happens twice (first BST, UTC+1, then GMT, UTC+0). The CLI refuses a time that
names no instant or two, with an ``error:`` line naming ``start`` and the ways
to write it, and changes nothing; ``01:30 BST`` or ``01:30 GMT`` picks one.
"""

from __future__ import annotations

from typing import Any

from tests.cli.conftest import Runner
from tests.cli.test_cli_contract import refused

GAP_DAY = "2027-03-28"
REPEATED_DAY = "2027-10-31"


def add(rollcall: Runner, day: str, start: str, *extra: str) -> Any:
    """Run ``session add`` for a 60-minute session at `start` on `day`."""
    return rollcall(
        "session",
        "add",
        "--title",
        "Night Shift Safety",
        "--date",
        day,
        "--start",
        start,
        "--duration",
        "60",
        "--location",
        "Depot",
        *extra,
        "--json",
    )


def test_a_start_in_the_spring_gap_is_refused(rollcall: Runner) -> None:
    result = add(rollcall, GAP_DAY, "01:30")
    refused(result, "start")
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
    assert rollcall("session", "list", "--json").json() == []


def test_a_start_in_the_repeated_hour_must_say_which(rollcall: Runner) -> None:
    result = add(rollcall, REPEATED_DAY, "01:30")
    refused(result, "start")
    # The message offers both instants, as they can be typed.
    assert "01:30 BST" in result.stderr
    assert "01:30 GMT" in result.stderr
    assert rollcall("session", "list", "--json").json() == []


def test_the_zone_picks_the_instant_and_the_session_keeps_its_length(rollcall: Runner) -> None:
    first = add(rollcall, REPEATED_DAY, "01:30 BST")
    assert first.code == 0, first.stderr
    second = add(rollcall, REPEATED_DAY, "01:30 GMT", "--title", "Night Shift Safety II")
    assert second.code == 0, second.stderr
    shown = [
        rollcall("session", "show", str(out.json()["ids"][0]), "--json").json()
        for out in (first, second)
    ]
    assert [(s["start"], s["end"]) for s in shown] == [
        ("2027-10-31T00:30:00+00:00", "2027-10-31T01:30:00+00:00"),
        ("2027-10-31T01:30:00+00:00", "2027-10-31T02:30:00+00:00"),
    ]
    # The human output says which 01:30 too.
    first_id = str(shown[0]["id"])
    assert "01:30 BST-01:30 GMT (Europe/London)" in rollcall("session", "show", first_id).stdout
    listed = rollcall("session", "list").stdout
    assert "2027-10-31 01:30 BST" in listed
    assert "2027-10-31 01:30 GMT" in listed


def test_edit_to_a_repeated_hour_is_refused_then_chosen(rollcall: Runner) -> None:
    made = add(rollcall, REPEATED_DAY, "09:30")
    assert made.code == 0, made.stderr
    sid = str(made.json()["ids"][0])
    before = rollcall("session", "show", sid, "--json").json()
    refused(rollcall("session", "edit", sid, "--start", "01:30"), "start")
    refused(rollcall("session", "edit", sid, "--start", "01:30 CET"), "start")
    assert rollcall("session", "show", sid, "--json").json() == before
    edited = rollcall("session", "edit", sid, "--start", "01:30+00:00", "--json")
    assert edited.code == 0, edited.stderr
    after = edited.json()
    assert (after["start"], after["end"]) == (
        "2027-10-31T01:30:00+00:00",
        "2027-10-31T02:30:00+00:00",
    )
    assert after["sequence"] == before["sequence"] + 1
