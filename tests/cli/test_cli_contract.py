"""The scripting contract of CLI.md: names, flags, JSON shapes and exit codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Result, Runner

SESSION_KEYS = {
    "id",
    "title",
    "course",
    "description",
    "start",
    "end",
    "duration_minutes",
    "type",
    "location",
    "online_url",
    "trainer",
    "max_attendees",
    "enrolled",
    "waitlisted",
    "remaining",
    "status",
    "cancel_reason",
    "visibility",
    "materials",
    "expiry_months",
    "series_id",
    "uid",
    "sequence",
    "trainer_calendar",
    "trainer_responded_at",
}
SESSION_KEYS |= {"offered", "requested", "approval", "offer_hours"}  # approvals and offers
ENROLMENT_KEYS = {
    "email",
    "name",
    "status",
    "calendar",
    "responded_at",
    "comment",
    "waitlist_position",
    "created_at",
    "recorded_after",
    "offer_expires_at",
}
DAY = (datetime.now(UTC) + timedelta(days=14)).date().isoformat()


def refused(result: Result, field: str) -> None:
    """Exit 1 with exactly one ``error:`` line that names `field`."""
    assert result.code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert field in lines[0], lines[0]


def add_session(rollcall: Runner, *extra: str) -> int:
    out = rollcall(
        "session",
        "add",
        "--title",
        "Fire Safety",
        "--date",
        DAY,
        "--start",
        "09:30",
        "--duration",
        "60",
        *extra,
        "--json",
    )
    assert out.code == 0, out.stderr
    ids: list[int] = out.json()["ids"]
    return ids[0]


@pytest.fixture
def people(rollcall: Runner) -> Runner:
    """A database with four people and a trainer."""
    for email, name, dept, role in [
        ("ann@example.org", "Ann", "Sales", "Manager"),
        ("bob@example.org", "Bob", "Sales", "Associate"),
        ("cat@example.org", "Cat", "Finance", "Manager"),
        ("dan@example.org", "Dan", "Sales", "Manager"),
    ]:
        out = rollcall(
            "person",
            "add",
            "--email",
            email,
            "--name",
            name,
            "--department",
            dept,
            "--role",
            role,
            "--location",
            "London",
        )
        assert out.code == 0, out.stderr
    assert rollcall("trainer", "add", "--email", "tess@example.org", "--name", "Tess").code == 0
    return rollcall


def test_init_creates_the_schema(rollcall: Runner, tmp_path: Path) -> None:
    out = rollcall("init")
    assert out.code == 0
    assert (tmp_path / "cli.db").exists()


def test_person_add_list_and_duplicate(people: Runner) -> None:
    listed = people("person", "list", "--json")
    assert [p["email"] for p in listed.json()] == [
        "ann@example.org",
        "bob@example.org",
        "cat@example.org",
        "dan@example.org",
        "tess@example.org",
    ]
    refused(people("person", "add", "--email", "ANN@example.org", "--name", "Ann 2"), "email")
    refused(people("person", "add", "--email", "not-an-address", "--name", "X"), "email")
    assert len(people("person", "list", "--json").json()) == 5


def test_person_import_all_or_nothing(rollcall: Runner, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text("email,name,department,role,location\na@x.org,A,Sales,Manager,London\n")
    assert rollcall("person", "import", str(good)).code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,name,department,role,location\n"
        "b@x.org,B,Sales,Manager,London\n"
        "oops,C,Sales,Manager,London\n"
        "d@x.org,,Sales,Manager,London\n"
    )
    out = rollcall("person", "import", str(bad))
    refused(out, "line 3")
    assert "line 4" in out.stderr
    assert [p["email"] for p in rollcall("person", "list", "--json").json()] == ["a@x.org"]
    refused(rollcall("person", "import", str(tmp_path / "missing.csv")), "file")


def test_session_add_json_shape_and_show(people: Runner) -> None:
    sid = add_session(
        people,
        "--location",
        "Room 1",
        "--trainer",
        "tess@example.org",
        "--max",
        "2",
        "--description",
        "Evacuation basics",
        "--for-role",
        "Manager",
        "--for-role",
        "Director",
        "--for-department",
        "Sales",
        "--material",
        "Agenda=https://example.org/agenda.pdf",
        "--expiry-months",
        "12",
    )
    shown = people("session", "show", str(sid), "--json").json()
    assert set(shown) == SESSION_KEYS | {"enrolments"}
    assert shown["start"] == f"{DAY}T{'08' if shown['start'][11:13] == '08' else '09'}:30:00+00:00"
    assert shown["type"] == "in_person"
    assert shown["location"] == "Room 1"
    assert shown["trainer"] == "tess@example.org"
    assert shown["visibility"] == {
        "roles": ["Manager", "Director"],
        "departments": ["Sales"],
        "locations": [],
    }
    assert shown["materials"] == [{"name": "Agenda", "url": "https://example.org/agenda.pdf"}]
    assert (shown["max_attendees"], shown["remaining"], shown["enrolled"]) == (2, 2, 0)
    assert shown["status"] == "scheduled"
    assert shown["sequence"] == 0
    listed = people("session", "list", "--json").json()
    assert [set(s) for s in listed] == [SESSION_KEYS]


def test_session_add_repeat_makes_a_series(people: Runner) -> None:
    out = people(
        "session",
        "add",
        "--title",
        "Clinic",
        "--date",
        DAY,
        "--start",
        "12:00",
        "--duration",
        "45",
        "--online-url",
        "https://meet.example.org/c",
        "--repeat",
        "weekly",
        "--count",
        "3",
        "--json",
    )
    ids = out.json()["ids"]
    assert len(ids) == 3
    series = {people("session", "show", str(i), "--json").json()["series_id"] for i in ids}
    assert len(series) == 1
    assert None not in series


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--date", "2026-13-01", "--location", "R"], "date"),
        (["--start", "9am", "--location", "R"], "start"),
        (["--duration", "0", "--location", "R"], "duration"),
        (["--max", "-2", "--location", "R"], "max"),
        (["--location", "R", "--online-url", "https://x.org"], "location"),
        ([], "location"),
        (["--location", "R", "--trainer", "ghost@example.org"], "trainer"),
        (["--location", "R", "--material", "no-equals-sign"], "material"),
        (["--location", "R", "--repeat", "weekly"], "repeat"),
    ],
)
def test_session_add_bad_input(people: Runner, args: list[str], field: str) -> None:
    base = {"--title": "T", "--date": DAY, "--start": "10:00", "--duration": "30"}
    for flag in ("--date", "--start", "--duration"):
        if flag in args:
            base.pop(flag)
    argv = [x for pair in base.items() for x in pair] + args
    refused(people("session", "add", *argv), field)
    assert people("session", "list", "--json").json() == []


def test_trainer_clash_is_exit_1(people: Runner) -> None:
    add_session(people, "--location", "Room 1", "--trainer", "tess@example.org")
    out = people(
        "session",
        "add",
        "--title",
        "Other",
        "--date",
        DAY,
        "--start",
        "10:00",
        "--duration",
        "30",
        "--location",
        "Room 2",
        "--trainer",
        "tess@example.org",
    )
    refused(out, "trainer")
    assert "Fire Safety" in out.stderr


def test_booking_flow_and_json(people: Runner) -> None:
    sid = add_session(people, "--location", "Room 1", "--max", "1", "--for-department", "Sales")
    booked = people("book", str(sid), "ann@example.org", "--json")
    assert booked.json() == {"status": "enrolled", "waitlist_position": None}
    full = people("book", str(sid), "bob@example.org", "--no-waitlist", "--json")
    refused(full, "Session full")
    waiting = people("book", str(sid), "bob@example.org", "--json")
    assert waiting.json() == {"status": "waitlisted", "waitlist_position": 1}
    refused(people("book", str(sid), "cat@example.org"), "session")  # Finance cannot see it
    assert people("enrol", str(sid), "cat@example.org", "--json").json() == {
        "status": "waitlisted",
        "waitlist_position": 2,
    }
    assert people("available", "dan@example.org", "--json").json()[0]["remaining"] == 0
    assert people("available", "cat@example.org", "--json").json() == []
    assert people("unbook", str(sid), "ann@example.org").code == 0
    shown = people("session", "show", str(sid), "--json").json()
    states = {e["email"]: (e["status"], e["waitlist_position"]) for e in shown["enrolments"]}
    assert states == {
        "ann@example.org": ("cancelled", None),
        "bob@example.org": ("enrolled", None),
        "cat@example.org": ("waitlisted", 1),
    }
    assert all(set(e) == ENROLMENT_KEYS for e in shown["enrolments"])
    refused(people("promote", str(sid), "cat@example.org"), "Session full")
    people("session", "edit", str(sid), "--max", "2")
    shown = people("session", "show", str(sid), "--json").json()
    assert shown["enrolled"] == 2
    assert shown["waitlisted"] == 0
    refused(people("book", str(sid), "ghost@example.org"), "email")
    refused(people("book", "9999", "ann@example.org"), "session")


def test_edit_cancel_delete(people: Runner) -> None:
    sid = add_session(people, "--location", "Room 1", "--max", "3")
    people("enrol", str(sid), "ann@example.org")
    people("enrol", str(sid), "bob@example.org")
    refused(people("session", "edit", str(sid), "--max", "1"), "max")
    edited = people("session", "edit", str(sid), "--start", "11:00", "--json").json()
    assert edited["sequence"] == 1
    assert edited["start"].endswith(":00:00+00:00")
    refused(people("session", "delete", str(sid)), "cancel")
    missing_reason = people("session", "cancel", str(sid))
    assert missing_reason.code == 2
    refused(people("session", "cancel", str(sid), "--reason", " "), "reason")
    assert people("session", "cancel", str(sid), "--reason", "Room flooded").code == 0
    shown = people("session", "show", str(sid), "--json").json()
    assert shown["status"] == "cancelled"
    assert shown["cancel_reason"] == "Room flooded"
    assert {e["status"] for e in shown["enrolments"]} == {"cancelled"}
    other = add_session(people, "--location", "Room 2")
    assert people("session", "delete", str(other)).code == 0
    refused(people("session", "show", str(other)), "session")


def test_mark_refuses_before_the_start(people: Runner) -> None:
    sid = add_session(people, "--location", "Room 1")
    people("enrol", str(sid), "ann@example.org")
    refused(people("mark", str(sid), "ann@example.org", "attended"), "session")
    assert people("mark", str(sid), "ann@example.org", "present").code == 2


def test_session_list_filters(people: Runner) -> None:
    a = add_session(people, "--location", "Room 1", "--trainer", "tess@example.org")
    b = people(
        "session",
        "add",
        "--title",
        "First Aid",
        "--date",
        DAY,
        "--start",
        "14:00",
        "--duration",
        "60",
        "--location",
        "Room 2",
        "--json",
    ).json()["ids"][0]
    people("session", "cancel", str(b), "--reason", "x")

    def ids(*args: str) -> list[int]:
        return [s["id"] for s in people("session", "list", *args, "--json").json()]

    assert ids() == [a, b]
    assert ids("--status", "cancelled") == [b]
    assert ids("--status", "scheduled") == [a]
    assert ids("--trainer", "tess@example.org") == [a]
    assert ids("--search", "aid") == [b]
    refused(people("session", "list", "--trainer", "ann@example.org"), "trainer")


def test_usage_errors_exit_2(rollcall: Runner) -> None:
    assert rollcall("no-such-command").code == 2
    assert rollcall("session", "list", "--bogus").code == 2
    assert rollcall("session", "add", "--title", "x").code == 2


def test_unreachable_database_exits_3(rollcall: Runner) -> None:
    out = rollcall("--db", "postgresql://nobody@127.0.0.1:1/none", "session", "list")
    assert out.code == 3
    assert out.stderr.startswith("error: database")


def test_bad_database_url_is_exit_1(rollcall: Runner) -> None:
    refused(rollcall("--db", "mysql://x/y", "init"), "db")


def test_demo_fills_then_refuses_a_second_time(rollcall: Runner) -> None:
    out = rollcall("demo")
    assert out.code == 0, out.stderr
    sessions = rollcall("session", "list", "--json").json()
    assert len(sessions) >= 40
    assert any(s["status"] == "cancelled" for s in sessions)
    assert any(s["series_id"] for s in sessions)
    assert any(s["type"] == "online" for s in sessions)
    assert any(s["waitlisted"] for s in sessions)
    assert any(s["status"] == "completed" for s in sessions)
    assert len(rollcall("person", "list", "--json").json()) >= 60
    refused(rollcall("demo"), "database")


def test_unknown_learner_is_refused_before_the_app_opens(rollcall: Runner, tmp_path: Path) -> None:
    rollcall("init")
    refused(rollcall("--as", "ghost@example.org"), "as: no person")
    import getpass

    config = tmp_path / "config.toml"
    config.write_text(f'[logins]\n{getpass.getuser()} = "ghost@example.org"\n')
    refused(rollcall("--config", str(config)), "as: no person")


def test_non_ascii_titles_and_searches_never_end_in_a_traceback(people: Runner) -> None:
    """The edit that crashed on a UNIQUE index, and searches that missed non-ASCII case."""
    sid = add_session(people, "--location", "Room 1")
    title = "Sécurité incendie – Übung"
    assert people("session", "edit", str(sid), "--title", title).code == 0
    moved = people("session", "edit", str(sid), "--start", "10:00")
    assert moved.code == 0, moved.stderr
    assert "Traceback" not in moved.stderr
    again = people("session", "edit", str(sid), "--title", title.upper(), "--json")
    assert again.code == 0, again.stderr
    found = people("session", "list", "--search", "übung", "--json").json()
    assert [s["id"] for s in found] == [sid]
    out = people("person", "add", "--email", "zoe@example.org", "--name", "Zoë Ångström")
    assert out.code == 0, out.stderr
    listed = people("person", "list", "--search", "ÅNGSTRÖM", "--json").json()
    assert [p["email"] for p in listed] == ["zoe@example.org"]
    clash = people("person", "add", "--email", "ZOE@example.org", "--name", "Zoë")
    assert clash.code == 1
    assert clash.stderr.startswith("error:")
    assert "email" in clash.stderr
    assert "Traceback" not in clash.stderr


def test_imports_read_spreadsheet_csv_and_name_the_bad_line(
    rollcall: Runner, tmp_path: Path
) -> None:
    """Excel's ';' and Windows-1252, detected or named with --encoding; bad bytes name the line."""
    people_csv = tmp_path / "people.csv"
    people_csv.write_bytes(
        "email;name;department;role;location\r\nzoe@example.org;Zoë Ångström;R&D;;Malmö\r\n".encode(
            "cp1252"
        )
    )
    assert rollcall("person", "import", str(people_csv)).code == 0
    [zoe] = rollcall("person", "list", "--json").json()
    assert (zoe["name"], zoe["department"]) == ("Zoë Ångström", "R&D")
    done = tmp_path / "done.csv"
    done.write_bytes(
        "\ufeffemail,item,completed_on\r\nzoe@example.org,Sécurité,2026-01-05\r\n".encode("utf-8")
    )
    out = rollcall("completion", "import", str(done), "--encoding", "utf-8", "--json")
    assert out.json() == {"added": 1, "skipped": 0}
    done.write_bytes("email,item,completed_on\nzoe@example.org,Übung,2026-01-06\n".encode("cp1252"))
    out = rollcall("completion", "import", str(done), "--encoding", "cp1252", "--json")
    assert out.json() == {"added": 1, "skipped": 0}
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"email,name\nann@example.org,Ann \xc3\x98\nbob@example.org,Bob \xf8x\n")
    refused(rollcall("person", "import", str(broken)), "line 3")
    assert [p["email"] for p in rollcall("person", "list", "--json").json()] == ["zoe@example.org"]
    refused(rollcall("person", "import", str(people_csv), "--encoding", "nope"), "encoding")
