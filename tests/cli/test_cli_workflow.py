"""CLI contract of the booking workflow: approvals, requests, interest lists, offers."""

from __future__ import annotations

from tests.cli.conftest import Runner
from tests.cli.test_cli_contract import add_session, refused


def _team(rollcall: Runner) -> None:
    assert rollcall("person", "add", "--email", "boss@example.org", "--name", "Bea").code == 0
    out = rollcall(
        "person",
        "add",
        "--email",
        "ann@example.org",
        "--name",
        "Ann",
        "--manager",
        "boss@example.org",
        "--json",
    )
    assert out.code == 0, out.stderr
    assert out.json()["manager"] == "boss@example.org"


def test_person_add_with_an_unknown_manager_adds_nobody(rollcall: Runner) -> None:
    out = rollcall(
        "person", "add", "--email", "x@example.org", "--name", "X", "--manager", "no@example.org"
    )
    refused(out, "manager")
    assert rollcall("person", "list", "--json").json() == []


def test_approval_request_flow_and_json_shapes(rollcall: Runner) -> None:
    _team(rollcall)
    sid = add_session(rollcall, "--location", "Room 1", "--max", "2", "--approval", "manager")
    shown = rollcall("session", "show", str(sid), "--json").json()
    assert shown["approval"] == "manager"
    booked = rollcall("book", str(sid), "ann@example.org", "--json")
    assert booked.json() == {"status": "requested", "waitlist_position": None}
    listed = rollcall("requests", "--json").json()
    assert [set(r) for r in listed] == [
        {"session_id", "title", "start", "email", "name", "manager", "status", "requested_at"}
    ]
    assert listed[0]["manager"] == "boss@example.org"
    assert rollcall("requests", "--manager", "ann@example.org", "--json").json() == []
    refused(rollcall("requests", "--manager", "ghost@example.org", "--json"), "manager")
    refused(
        rollcall("approve", str(sid), "ann@example.org", "--manager", "ann@example.org"), "manager"
    )
    assert rollcall("requests", "--json").json() == listed
    out = rollcall("approve", str(sid), "ann@example.org", "--note", "enjoy", "--json")
    assert out.json() == {"request": "approved", "status": "enrolled", "waitlist_position": None}
    refused(rollcall("decline-request", str(sid), "ann@example.org"), "email")
    report = rollcall("report", "requests", "--json").json()
    assert report[0]["approved"] == 1


def test_decline_request_and_bad_policy_values(rollcall: Runner) -> None:
    _team(rollcall)
    sid = add_session(rollcall, "--location", "Room 1", "--approval", "manager")
    rollcall("book", str(sid), "ann@example.org")
    out = rollcall("decline-request", str(sid), "ann@example.org", "--note", "later", "--json")
    assert out.json()["status"] == "cancelled"
    before = rollcall("session", "list", "--json").json()
    bad = rollcall(
        "session",
        "add",
        "--title",
        "T",
        "--date",
        "2030-01-01",
        "--start",
        "09:00",
        "--duration",
        "60",
        "--location",
        "R",
        "--approval",
        "sometimes",
    )
    refused(bad, "approval")
    refused(rollcall("session", "edit", str(sid), "--offer-hours", "soon"), "offer_hours")
    assert rollcall("session", "list", "--json").json() == before


def test_offer_hours_hold_a_freed_place(rollcall: Runner) -> None:
    for name in ("a", "b"):
        assert rollcall("person", "add", "--email", f"{name}@example.org", "--name", name).code == 0
    sid = add_session(rollcall, "--location", "Room 1", "--max", "1", "--offer-hours", "8")
    rollcall("book", str(sid), "a@example.org")
    rollcall("book", str(sid), "b@example.org")
    assert rollcall("unbook", str(sid), "a@example.org").code == 0
    shown = rollcall("session", "show", str(sid), "--json").json()
    assert (shown["offered"], shown["remaining"], shown["offer_hours"]) == (1, 0, 8)
    offered = [e for e in shown["enrolments"] if e["status"] == "offered"]
    assert offered[0]["email"] == "b@example.org"
    assert offered[0]["offer_expires_at"] is not None
    assert rollcall("offer", "accept", str(sid), "b@example.org").code == 0
    report = rollcall("report", "offers", "--json").json()
    assert report[0]["taken"] == 1


def test_interest_add_list_and_refusals(rollcall: Runner) -> None:
    for name in ("a", "b"):
        assert rollcall("person", "add", "--email", f"{name}@example.org", "--name", name).code == 0
    add_session(rollcall, "--location", "Room 1")
    assert rollcall("interest", "add", "Fire Safety", "b@example.org").code == 0
    out = rollcall("interest", "add", "fire safety", "a@example.org", "--json")
    assert set(out.json()) == {"course", "email", "name", "source", "created_at"}
    listed = rollcall("interest", "list", "Fire Safety", "--json").json()
    assert [r["email"] for r in listed] == ["b@example.org", "a@example.org"]
    refused(rollcall("interest", "add", "Nope", "a@example.org"), "course")
    refused(rollcall("interest", "add", "Fire Safety", "a@example.org"), "email")
    refused(rollcall("interest", "list", "Nope", "--json"), "course")
    assert rollcall("interest", "list", "--json").json() == listed
    # A new date of the course books them in order of interest, within its capacity.
    sid = add_session(rollcall, "--location", "Room 2", "--max", "1")
    shown = rollcall("session", "show", str(sid), "--json").json()
    assert [(e["email"], e["status"]) for e in shown["enrolments"]] == [
        ("b@example.org", "enrolled")
    ]
    assert [r["email"] for r in rollcall("interest", "list", "--json").json()] == ["a@example.org"]


def test_team_shows_a_managers_people_as_json_and_text(rollcall: Runner) -> None:
    _team(rollcall)
    sid = add_session(rollcall, "--location", "Room 1", "--max", "2")
    assert rollcall("book", str(sid), "ann@example.org").code == 0
    shown = rollcall("team", "--manager", "boss@example.org", "--json")
    assert shown.code == 0, shown.stderr
    data = shown.json()
    assert set(data) == {"manager", "members", "bookings", "attendance", "due"}
    assert data["members"] == [
        {
            "email": "ann@example.org",
            "name": "Ann",
            "department": "",
            "booked": 1,
            "attended": 0,
            "no_shows": 0,
            "due": 0,
        }
    ]
    assert [(b["session_id"], b["status"]) for b in data["bookings"]] == [(sid, "enrolled")]
    text = rollcall("team", "--manager", "boss@example.org")
    assert "team of boss@example.org: 1 person" in text.stdout
    assert "booked 1" in text.stdout
    # An admin with no person of their own must say whose team.
    refused(rollcall("team"), "manager")
    refused(rollcall("team", "--manager", "ghost@example.org"), "manager")
