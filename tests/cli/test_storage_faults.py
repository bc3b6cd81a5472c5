"""A full disk, a read-only database and a locked one: exit 3, one line, nothing half-written."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Result, Runner
from tests.cli.test_backup import add_people, add_session, ok, one_error_line


def _mount(point: Path, options: str) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        # Where mounting is impossible (no root, no CAP_SYS_ADMIN) the test cannot
        # run; CI runs as root and must never skip it.
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            pytest.fail(f"cannot mount a tmpfs as root under CI: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs under tmp_path, unmounted afterwards."""
    point = tmp_path / "disk"
    point.mkdir()
    _mount(point, "size=3m,mode=0755")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def _free_bytes(path: Path) -> int:
    info = os.statvfs(path)
    return info.f_bavail * info.f_frsize


def test_full_disk_is_exit_3_in_one_line(
    rollcall: Runner, tmp_path: Path, small_disk: Path
) -> None:
    env = {"ROLLCALL_DB": str(small_disk / "rollcall.db")}
    sid = add_session(rollcall, "Fire Safety", 10, **env)
    add_people(rollcall, tmp_path, ["ann@example.org"], **env)
    ok(rollcall("enrol", str(sid), "ann@example.org", extra_env=env))
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * (_free_bytes(small_disk) - 200_000))

    big = tmp_path / "many.csv"
    rows = [f"p{i}@example.org,Person {i} {'x' * 120},Ops,Analyst,Leeds" for i in range(4000)]
    big.write_text("email,name,department,role,location\n" + "\n".join(rows) + "\n")
    result = rollcall("person", "import", str(big), extra_env=env)
    one_error_line(result, 3, str(small_disk / "rollcall.db"), "full")

    filler.unlink()
    assert ok(rollcall("check", "--json", extra_env=env)).json() == {"ok": True, "findings": []}
    emails = [p["email"] for p in ok(rollcall("person", "list", "--json", extra_env=env)).json()]
    # The import is all or nothing: none of its rows is there.
    assert emails == ["ann@example.org"]
    shown = ok(rollcall("session", "show", str(sid), "--json", extra_env=env)).json()
    assert shown["enrolled"] == 1


def _read_only(result: Result, db: Path) -> None:
    one_error_line(result, 3, str(db), "readonly")


def test_read_only_database_reads_and_refuses_writes(
    rollcall: Runner, tmp_path: Path, small_disk: Path
) -> None:
    db = small_disk / "rollcall.db"
    env = {"ROLLCALL_DB": str(db)}
    sid = add_session(rollcall, "Fire Safety", 10, **env)
    add_people(rollcall, tmp_path, ["ann@example.org", "bob@example.org"], **env)
    ok(rollcall("enrol", str(sid), "ann@example.org", extra_env=env))
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)

    listed = ok(rollcall("session", "list", "--json", extra_env=env)).json()
    assert [s["id"] for s in listed] == [sid]
    shown = ok(rollcall("session", "show", str(sid), "--json", extra_env=env)).json()
    assert [e["email"] for e in shown["enrolments"]] == ["ann@example.org"]
    people = ok(rollcall("person", "list", "--json", extra_env=env)).json()
    assert len(people) == 2
    assert ok(rollcall("check", "--json", extra_env=env)).json()["ok"] is True

    refused = rollcall("enrol", str(sid), "bob@example.org", extra_env=env)
    one_error_line(refused, 3, str(db))
    refused = rollcall("person", "add", "--email", "cy@example.org", "--name", "Cy", extra_env=env)
    one_error_line(refused, 3, str(db))
    assert sorted(os.listdir(small_disk)) == ["rollcall.db"]


def test_locked_database_is_exit_3(rollcall: Runner, tmp_path: Path) -> None:
    """A writer holding the lock past the busy timeout gives one line, exit 3."""
    ok(rollcall("init"))
    holder = subprocess.Popen(
        [
            "python3",
            "-c",
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "c.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
            str(tmp_path / "cli.db"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        result = rollcall(
            "person", "add", "--email", "a@example.org", "--name", "A",
            extra_env={"ROLLCALL_BUSY_TIMEOUT": "1"},
        )  # fmt: skip
        one_error_line(result, 3, str(tmp_path / "cli.db"), "locked")
    finally:
        holder.kill()
        holder.wait()
