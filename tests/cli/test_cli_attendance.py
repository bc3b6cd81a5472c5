"""`rollcall sheet`, `attendance import`, `kiosk` and past sessions, as scripts run them."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf

from tests.cli.conftest import Runner

NAMES = [
    "Zoë Ångström",
    "François Müller",
    "Łukasz Żółć",
    "Σωκράτης Παπαδόπουλος",
    "Дмитрий Шостакович",
    "Ǿyvind Ærø",
]


def _people(rollcall: Runner, tmp_path: Path, count: int) -> list[str]:
    names = [NAMES[n] if n < len(NAMES) else f"Attendee {n:02d} Núñez" for n in range(count)]
    rows = "".join(f"p{n}@example.org,{name},Ops,,\n" for n, name in enumerate(names))
    csv_file = tmp_path / "people.csv"
    csv_file.write_text("email,name,department,role,location\n" + rows, encoding="utf-8")
    result = rollcall("person", "import", str(csv_file))
    assert result.code == 0, result.stderr
    return names


def _session(rollcall: Runner, day: str, *extra: str) -> int:
    result = rollcall(
        "session",
        "add",
        "--title",
        "Manual Handling",
        "--date",
        day,
        "--start",
        "09:30",
        "--duration",
        "60",
        "--location",
        "Salle Été",
        "--json",
        *extra,
    )
    assert result.code == 0, result.stderr
    return int(result.json()["ids"][0])


def test_sheet_lists_every_attendee_on_several_pages(rollcall: Runner, tmp_path: Path) -> None:
    names = _people(rollcall, tmp_path, 60)
    assert rollcall("trainer", "add", "--email", "tess@example.org", "--name", "Tess").code == 0
    sid = _session(rollcall, "2031-02-03", "--trainer", "tess@example.org")
    for n in range(60):
        assert rollcall("enrol", str(sid), f"p{n}@example.org").code == 0
    target = tmp_path / "out" / "sheet.pdf"
    result = rollcall("sheet", str(sid), "--pdf", str(target))
    assert result.code == 0, result.stderr
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    assert len(reader.pages) >= 3
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    for name in names:
        assert name in text
    for number, page in enumerate(pages, start=1):
        # The header and the table head repeat on every page.
        assert "Sign-in sheet: Manual Handling" in page
        assert "Mon 3 Feb 2031 09:30-10:30 (Europe/London)" in page
        assert "Salle Été" in page
        assert "Tess" in page
        assert "Signature" in page
        assert f"page {number} of {len(pages)}" in page


def test_sheet_errors(rollcall: Runner, tmp_path: Path) -> None:
    missing = rollcall("sheet", "999", "--pdf", str(tmp_path / "x.pdf"))
    assert missing.code == 1
    assert missing.stderr.startswith("error: session")
    sid = _session(rollcall, "2031-02-03")
    folder = rollcall("sheet", str(sid), "--pdf", str(tmp_path))
    assert folder.code == 1
    assert "pdf" in folder.stderr
    assert rollcall("sheet", str(sid)).code == 2


def test_attendance_import_and_past_enrolment(rollcall: Runner, tmp_path: Path) -> None:
    _people(rollcall, tmp_path, 3)
    sid = _session(rollcall, "2024-03-04")  # a session held in the past
    refused = rollcall("book", str(sid), "p0@example.org")
    assert refused.code == 1
    assert "already started" in refused.stderr
    enrolled = rollcall("enrol", str(sid), "p0@example.org", "--json")
    assert enrolled.code == 0, enrolled.stderr
    assert enrolled.json() == {"status": "enrolled", "waitlist_position": None}
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"session_id,email,status\n{sid},p0@example.org,attended\n{sid},p1@example.org,late\n",
        encoding="utf-8",
    )
    result = rollcall("attendance", "import", str(bad))
    assert result.code == 1
    assert result.stderr.startswith("error: csv: import refused, nothing imported: line 3: status")
    shown = rollcall("session", "show", str(sid), "--json").json()
    assert [e["status"] for e in shown["enrolments"]] == ["enrolled"]
    good = tmp_path / "good.csv"
    good.write_text(
        f"session_id,email,status\n{sid},p0@example.org,attended\n{sid},p1@example.org,no-show\n",
        encoding="utf-8",
    )
    result = rollcall("attendance", "import", str(good), "--json")
    assert result.code == 0, result.stderr
    assert result.json() == {"marked": 2, "enrolled": 1}
    shown = rollcall("session", "show", str(sid), "--json").json()
    assert {(e["email"], e["status"], e["recorded_after"]) for e in shown["enrolments"]} == {
        ("p0@example.org", "attended", True),
        ("p1@example.org", "no_show", True),
    }


def test_kiosk_needs_an_exit_pin_and_an_open_session(rollcall: Runner) -> None:
    sid = _session(rollcall, "2031-02-03")
    no_pin = rollcall("kiosk", str(sid))
    assert no_pin.code == 1
    assert "kiosk_exit_pin" in no_pin.stderr
    assert rollcall("session", "cancel", str(sid), "--reason", "room flooded").code == 0
    cancelled = rollcall("kiosk", str(sid), extra_env={"ROLLCALL_KIOSK_EXIT_PIN": "4321"})
    assert cancelled.code == 1
    assert "cancelled" in cancelled.stderr
