"""People reach rollcall through a real sshd with their own keys, each in their role."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.servers.sshd import ROLLCALL, SshServer


@dataclass
class Site:
    """A service account with people, keys and two running sessions."""

    server: SshServer
    keys: dict[str, Path]
    own: int
    """A session in progress trained by trainer@."""
    other: int
    """A session in progress trained by other@."""
    future: int
    """A session next week that the learner can book."""

    def local(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`rollcall` run directly by the service account (an admin)."""
        return subprocess.run(
            [ROLLCALL, "--config", str(self.server.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def ssh(self, who: str, command: str, *options: str) -> subprocess.CompletedProcess[str]:
        """`command` sent through `who`'s key (sshd runs the forced command)."""
        return self.server.ssh(self.keys[who], *options, command)


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def site(ssh_server: SshServer) -> Site:
    def local(*args: str) -> subprocess.CompletedProcess[str]:
        return _ok(
            subprocess.run(
                [ROLLCALL, "--config", str(ssh_server.config), *args],
                capture_output=True,
                text=True,
                timeout=60,
            )
        )

    local("init")
    for email in ("admin@example.test", "learner@example.test", "boss@example.test"):
        local("person", "add", "--email", email, "--name", email.split("@")[0].title())
    local("trainer", "add", "--email", "trainer@example.test", "--name", "Tess")
    local("trainer", "add", "--email", "other@example.test", "--name", "Otto")
    began = datetime.now(UTC) - timedelta(minutes=10)
    ids: list[int] = []
    for trainer, when in (
        ("trainer@example.test", began),
        ("other@example.test", began + timedelta(minutes=1)),
        ("trainer@example.test", began + timedelta(days=7)),
    ):
        out = local(
            "session", "add", "--title", f"Course {len(ids)}", "--date", f"{when:%Y-%m-%d}",
            "--start", f"{when:%H:%M}", "--duration", "120", "--location", f"Room {len(ids) + 1}",
            "--trainer", trainer, "--json",
        )  # fmt: skip
        ids += json.loads(out.stdout)["ids"]
    for session in ids[:2]:
        local("enrol", str(session), "learner@example.test")
    keys = {}
    for who, role in (
        ("admin", "admin"),
        ("trainer", "trainer"),
        ("learner", "learner"),
        ("boss", "manager"),
    ):
        keys[who] = ssh_server.keygen(who)
        email = f"{who}@example.test"
        local("access", "grant", email, "--role", role, "--key", f"{keys[who]}.pub")
    return Site(ssh_server, keys, *ids)


def test_a_learner_can_book_but_not_delete_nor_get_a_shell(site: Site) -> None:
    refused = site.ssh("learner", f"rollcall session delete {site.future}")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: not allowed for a learner"
    # The session is still there.
    assert json.loads(site.local("session", "show", str(site.future), "--json").stdout)
    # The store refuses too when the command is one a learner may run for themselves.
    other = site.ssh("learner", f"unbook {site.own} trainer@example.test")
    assert other.returncode == 1
    assert "not allowed for a learner" in other.stderr
    booked = _ok(site.ssh("learner", f"rollcall book {site.future} learner@example.test --json"))
    assert json.loads(booked.stdout)["status"] == "enrolled"
    for command in ("bash", "/bin/sh -c id", "id; rollcall session list", "scp -t /tmp"):
        result = site.ssh("learner", command)
        assert result.returncode == 1, command
        assert "only rollcall commands run here" in result.stderr
    for command in (
        f"rollcall --db /tmp/other.db session delete {site.future}",
        "rollcall --config=/tmp/x.toml session list",
        "rollcall --as admin@example.test session list",
    ):
        result = site.ssh("learner", command)
        assert result.returncode == 1, command
        assert "not allowed from an SSH key" in result.stderr
    # Nothing the learner tried is in the audit log but their own booking.
    rows = json.loads(site.local("audit", "--actor", "learner@example.test", "--json").stdout)
    assert [(r["action"], r["session_id"]) for r in rows] == [("book", site.future)]


def test_a_learner_key_forwards_nothing(site: Site, tmp_path: Path) -> None:
    stdio = site.ssh("learner", "", "-W", "127.0.0.1:9")
    assert stdio.returncode != 0
    assert "prohibited" in stdio.stderr or "failed" in stdio.stderr
    remote = site.server.ssh(
        site.keys["learner"], "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:9", "-N", "",
        timeout=30,
    )  # fmt: skip
    assert remote.returncode != 0
    assert "forwarding failed" in remote.stderr


def test_the_keys_file_holds_forced_commands(site: Site) -> None:
    lines = site.server.keys_file.read_text().splitlines()
    assert len(lines) == 4
    for line in lines:
        assert line.startswith(f'command="{ROLLCALL} --config {site.server.config} shell ')
        assert '",restrict,pty ssh-ed25519 ' in line
    assert stat.S_IMODE(site.server.keys_file.stat().st_mode) == 0o600
    listed = json.loads(site.local("access", "list", "--json").stdout)
    by_email = {row["email"]: row for row in listed}
    assert by_email["boss@example.test"]["role"] == "manager"
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", f"{site.keys['learner']}.pub"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert by_email["learner@example.test"]["keys"] == [
        {"fingerprint": fingerprint, "comment": "learner"}
    ]


def test_a_trainer_marks_their_own_register_only(site: Site) -> None:
    _ok(site.ssh("trainer", f"rollcall mark {site.own} learner@example.test attended"))
    refused = site.ssh("trainer", f"mark {site.other} learner@example.test attended")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: not allowed for a trainer"
    edit = site.ssh("trainer", f"session cancel {site.own} --reason nope")
    assert edit.returncode == 1
    assert "not allowed for a trainer" in edit.stderr
    shown = json.loads(_ok(site.local("session", "show", str(site.own), "--json")).stdout)
    assert shown["enrolments"][0]["status"] == "attended"
    other = json.loads(_ok(site.local("session", "show", str(site.other), "--json")).stdout)
    assert other["enrolments"][0]["status"] == "enrolled"
    rows = json.loads(_ok(site.local("audit", "--session", str(site.own), "--json")).stdout)
    assert rows[0]["actor"] == "trainer@example.test"
    assert rows[0]["action"] == "mark"
    assert rows[0]["after"] == {"status": "attended"}


def test_a_manager_reads_their_reports_only(site: Site) -> None:
    refused = site.ssh("boss", "progress learner@example.test")
    assert refused.returncode == 1
    assert "not allowed for a manager" in refused.stderr
    # The learner reports to the manager (the person's manager link).
    with sqlite3.connect(site.server.config.parent / "rollcall.db") as db:
        db.execute(
            "UPDATE person SET manager_id = (SELECT id FROM person WHERE email = ?) "
            "WHERE email = ?",
            ("boss@example.test", "learner@example.test"),
        )
    _ok(site.ssh("boss", "progress learner@example.test --json"))
    _ok(site.ssh("boss", "progress boss@example.test --json"))
    team = json.loads(_ok(site.ssh("boss", "team --json")).stdout)
    assert [m["email"] for m in team["members"]] == ["learner@example.test"]
    assert "only your own team" in site.ssh("boss", "team --manager admin@example.test").stderr
    assert json.loads(_ok(site.ssh("boss", "requests --json")).stdout) == []
    assert site.ssh("boss", "progress admin@example.test").returncode == 1
    assert site.ssh("boss", "person list").returncode == 1
    changed = site.ssh("boss", f"unbook {site.own} learner@example.test")
    assert changed.returncode == 1
    assert "not allowed for a manager" in changed.stderr


def test_an_admin_can_do_all(site: Site) -> None:
    _ok(site.ssh("admin", f"mark {site.other} learner@example.test no-show"))
    _ok(site.ssh("admin", f"session delete {site.future}"))
    listed = _ok(site.ssh("admin", "rollcall person list --json"))
    assert len(json.loads(listed.stdout)) == 5
    rows = json.loads(_ok(site.ssh("admin", "audit --json --limit 2")).stdout)
    assert [r["action"] for r in rows] == ["session.delete", "mark"]
    assert {r["actor"] for r in rows} == {"admin@example.test"}
    # Still no shell, even for an admin.
    assert site.ssh("admin", "bash").returncode == 1
    assert site.ssh("admin", "shell learner@example.test").returncode == 1


def test_grant_and_revoke_keep_foreign_lines_and_one_owner_per_key(site: Site) -> None:
    keys = site.server.keys_file
    foreign = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFv0z0EXAMPLEforeignKEYkeptASitIS ops@host"
    keys.write_text(keys.read_text() + foreign + "\n")
    taken = site.local(
        "access", "grant", "admin@example.test", "--role", "admin",
        "--key", f"{site.keys['learner']}.pub",
    )  # fmt: skip
    assert taken.returncode == 1
    assert "already belongs to learner@example.test" in taken.stderr
    _ok(site.local("access", "revoke", "learner@example.test"))
    text = keys.read_text()
    assert "shell learner@example.test" not in text
    assert foreign in text
    assert len(text.splitlines()) == 4
    assert site.ssh("learner", "available learner@example.test").returncode != 0
    listed = json.loads(site.local("access", "list", "--json").stdout)
    assert "learner@example.test" not in {row["email"] for row in listed}
    rows = json.loads(site.local("audit", "--person", "learner@example.test", "--json").stdout)
    assert rows[0]["action"] == "access.revoke"
    assert rows[0]["before"] == {"role": "learner"}


def _wait(socket: str, text: str, timeout: float = 40) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = subprocess.run(
            ["tmux", "-L", socket, "capture-pane", "-p", "-t", "rc"],
            capture_output=True,
            text=True,
        ).stdout
        if text in screen:
            return screen
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{screen}")


@pytest.mark.skipif(
    shutil.which("tmux") is None and os.environ.get("CI") != "true", reason="tmux is not installed"
)
def test_a_learner_key_opens_the_learner_view(site: Site) -> None:
    socket = f"rollcall-ssh-{uuid.uuid4().hex[:8]}"
    command = " ".join(site.server.ssh_command(site.keys["learner"], "-tt", ""))
    env = {**os.environ, "TERM": "xterm-256color"}
    subprocess.run(
        ["tmux", "-L", socket, "new-session", "-d", "-s", "rc", "-x", "120", "-y", "40", command],
        check=True,
        env=env,
    )
    try:
        _wait(socket, "My calendar — Learner (learner@example.test)")
        # The rows are read in a worker after the screen shows: wait for them too.
        assert "Course 2" in _wait(socket, "Course 2")
        # The command palette offers no screenshot (a file written on the server).
        subprocess.run(["tmux", "-L", socket, "send-keys", "-t", "rc", "C-p"], check=True)
        _wait(socket, "Search for commands")
        subprocess.run(["tmux", "-L", socket, "send-keys", "-t", "rc", "scree"], check=True)
        time.sleep(1.5)
        assert "Save an SVG" not in _wait(socket, "scree")
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)
