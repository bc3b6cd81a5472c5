"""The real `rollcall` command in a real terminal (tmux): open, search, open, mark."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROLLCALL = shutil.which("rollcall", path=str(Path(sys.executable).parent)) or "rollcall"

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and os.environ.get("CI") != "true", reason="tmux is not installed"
)


class Terminal:
    """A private tmux server running one window."""

    def __init__(self, socket: str) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=True
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "rc", key)
            time.sleep(0.15)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "rc")

    def wait_for(self, text: str, timeout: float = 30, absent: str | None = None) -> str:
        """Wait until `text` is on screen (and `absent`, if given, is not)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown and (absent is None or absent not in shown):
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen was:\n{self.screen()}")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    db = tmp_path / "rollcall.db"
    env = {**os.environ, "ROLLCALL_TIMEZONE": "Europe/London", "ROLLCALL_DB": str(db)}
    subprocess.run([ROLLCALL, "--db", str(db), "demo"], check=True, env=env, capture_output=True)
    term = Terminal(f"rollcall-test-{uuid.uuid4().hex[:8]}")
    command = (
        f"env TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config XDG_DATA_HOME={tmp_path}/data "
        f"ROLLCALL_TIMEZONE=Europe/London {ROLLCALL} --db {db}"
    )
    term.tmux("new-session", "-d", "-s", "rc", "-x", "120", "-y", "40", command)
    try:
        yield term, db
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True)


def test_open_search_open_and_mark_the_register(terminal: tuple[Terminal, Path]) -> None:
    term, db = terminal
    term.wait_for("row ")
    time.sleep(0.5)  # let the first window settle before typing
    term.keys("/", "F", "i", "r", "e")
    # Typing narrows the list step by step; wait for the last step, not the first.
    shown = term.wait_for("(filtered)", absent="Data Protection")
    shown = term.wait_for("Fire Safety", absent="Data Protection")
    time.sleep(0.5)
    term.keys("Enter", "Enter")  # to the list, then open the oldest Fire Safety (in the past)
    # The details appear once the page is read ("Trainer" alone is also the list's header).
    shown = term.wait_for("Attendees ")
    session_id = int(re.search(r"Fire Safety\s+#(\d+)", shown).group(1))  # type: ignore[union-attr]
    first = re.search(r"^\s*Name.*\n\s*(\S+ \S+)", shown, re.M).group(1)  # type: ignore[union-attr]
    term.keys("n")
    term.wait_for("no-show")
    with sqlite3.connect(db) as conn:
        (status,) = conn.execute(
            "SELECT e.status FROM enrolment e JOIN person p ON p.id = e.person_id "
            "WHERE e.session_id = ? AND p.name = ?",
            (session_id, first),
        ).fetchone()
    assert status == "no_show"
    term.keys("Escape")
    term.wait_for("(filtered)")
    term.keys("Escape", "q")  # clear the search, then quit from the sessions list
    deadline = time.monotonic() + 10
    while _alive(term) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(term), "q on the sessions list did not quit"


def _alive(term: Terminal) -> bool:
    return (
        subprocess.run(
            ["tmux", "-L", term.socket, "has-session", "-t", "rc"], capture_output=True
        ).returncode
        == 0
    )


def _kiosk_terminal(tmp_path: Path, start_in_minutes: int) -> tuple[Terminal, Path, int]:
    """A session starting `start_in_minutes` from now with Ann booked, its kiosk in tmux."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    db = tmp_path / "kiosk.db"
    env = {
        **os.environ,
        "ROLLCALL_TIMEZONE": "Europe/London",
        "ROLLCALL_DB": str(db),
        "XDG_CONFIG_HOME": f"{tmp_path}/config",
        "XDG_DATA_HOME": f"{tmp_path}/data",
    }

    def run(*args: str) -> str:
        out = subprocess.run([ROLLCALL, *args], check=True, env=env, capture_output=True, text=True)
        return out.stdout

    start = datetime.now(ZoneInfo("Europe/London")) + timedelta(minutes=start_in_minutes)
    run("person", "add", "--email", "ann@example.org", "--name", "Ann Ängel")
    added = run(
        "session", "add", "--title", "Ladder Safety", "--date", f"{start:%Y-%m-%d}",
        "--start", f"{start:%H:%M}", "--duration", "120", "--location", "Yard", "--json",
    )  # fmt: skip
    session_id = int(re.search(r"\d+", added.split("[", 1)[1]).group(0))  # type: ignore[union-attr]
    if start_in_minutes > 0:
        run("book", str(session_id), "ann@example.org")
    else:
        run("enrol", str(session_id), "ann@example.org")
    term = Terminal(f"rollcall-kiosk-{uuid.uuid4().hex[:8]}")
    command = (
        f"env TERM=xterm-256color XDG_CONFIG_HOME={tmp_path}/config XDG_DATA_HOME={tmp_path}/data "
        f"ROLLCALL_TIMEZONE=Europe/London ROLLCALL_KIOSK_EXIT_PIN=8642 "
        f"{ROLLCALL} --db {db} kiosk {session_id}"
    )
    term.tmux("new-session", "-d", "-s", "rc", "-x", "110", "-y", "32", command)
    return term, db, session_id


def _status(db: Path, session_id: int) -> str:
    with sqlite3.connect(db) as conn:
        (status,) = conn.execute(
            "SELECT e.status FROM enrolment e JOIN person p ON p.id = e.person_id "
            "WHERE e.session_id = ? AND p.email = 'ann@example.org'",
            (session_id,),
        ).fetchone()
    return str(status)


def test_kiosk_checks_in_and_cannot_be_left_without_the_pin(tmp_path: Path) -> None:
    term, db, session_id = _kiosk_terminal(tmp_path, start_in_minutes=-5)
    try:
        term.wait_for("Ladder Safety")
        term.wait_for("Check-in open until")
        time.sleep(0.5)
        term.tmux("send-keys", "-t", "rc", "-l", "ann@example.org")
        term.keys("Enter")
        term.wait_for("Welcome, Ann Ängel!")
        assert _status(db, session_id) == "attended"
        term.tmux("send-keys", "-t", "rc", "-l", "stranger@example.org")
        term.keys("Enter")
        term.wait_for("could not find")
        for key in ("Escape", "C-q", "C-c", "C-p", "q"):
            term.keys(key)
        time.sleep(1)
        assert _alive(term), "a key left the kiosk without the PIN"
        shown = term.screen()
        assert "Ladder Safety" in shown
        assert "palette" not in shown.lower()
        term.keys("C-x")
        term.wait_for("exit PIN")
        term.tmux("send-keys", "-t", "rc", "-l", "8642")
        term.keys("Enter")
        deadline = time.monotonic() + 10
        while _alive(term) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(term), "the exit PIN did not close the kiosk"
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True)


def test_kiosk_before_the_window_says_when_check_in_opens(tmp_path: Path) -> None:
    term, db, session_id = _kiosk_terminal(tmp_path, start_in_minutes=180)
    try:
        term.wait_for("Check-in opens at")
        term.tmux("send-keys", "-t", "rc", "-l", "ann@example.org")
        term.keys("Enter")
        # The answer box says it too, beside the window line.
        deadline = time.monotonic() + 10
        while term.screen().count("Check-in opens at") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert term.screen().count("Check-in opens at") == 2, term.screen()
        assert _status(db, session_id) == "enrolled"
    finally:
        subprocess.run(["tmux", "-L", term.socket, "kill-server"], capture_output=True)


def test_a_form_typed_in_one_burst_keeps_every_field(terminal: tuple[Terminal, Path]) -> None:
    """Keys that arrive together with Tab inside (a slow SSH link) each land in their field.

    Before the fix the app handed the keys after a Tab to the field being left,
    so ``abc⇥def⇥ghi`` became the title "abcdefghi".
    """
    term, db = terminal
    term.wait_for("row ")
    time.sleep(0.5)
    term.keys("n")
    term.wait_for("New session")
    time.sleep(0.5)
    # One send-keys call: tmux writes the whole burst to the terminal at once.
    term.tmux(
        "send-keys", "-t", "rc",
        "Burst Title", "Tab", "Burst Course", "Tab", "Typed in one go", "Tab",
        "2027-03-04", "Tab", "14:15", "Tab", "75", "Tab",  # date, start, minutes
        "Tab", "Room 9", "Tab",  # past the in person/online choice; location
        "Tab", "12", "C-s",  # past the trainer; max attendees; save
    )  # fmt: skip
    term.wait_for("Session created")
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT s.title, c.title, s.description, s.start, s.duration_minutes, s.location, "
            "s.max_attendees FROM session s JOIN course c ON c.id = s.course_id "
            "WHERE s.title LIKE 'Burst%' OR c.title LIKE 'Burst%'"
        ).fetchall()
    assert len(row) == 1, row
    title, course, description, start, minutes, location, max_attendees = row[0]
    assert (title, course, description) == ("Burst Title", "Burst Course", "Typed in one go")
    assert str(start).startswith("2027-03-04")
    assert "14:15" in str(start)
    assert (minutes, location, max_attendees) == (75, "Room 9", 12)
