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
    term.wait_for("Attendees")  # the page, not the list (whose header also says "Trainer")
    shown = term.wait_for("Trainer ")  # the details line appears once the page is read
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
