"""Contract tests: `rollcall pathway|progress|completion|due|report` run as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest


def _today() -> date:
    return datetime.now(ZoneInfo("Europe/London")).date()


def _rollcall() -> str:
    beside = Path(sys.executable).parent / "rollcall"
    found = str(beside) if beside.exists() else shutil.which("rollcall")
    assert found, "the rollcall command is not installed"
    return found


class Cli:
    """Runs the installed command against one temporary database."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ROLLCALL_")},
            "ROLLCALL_DB": str(tmp / "cli.db"),
            "ROLLCALL_TIMEZONE": "Europe/London",
            "XDG_CONFIG_HOME": str(tmp / "config"),
            "XDG_DATA_HOME": str(tmp / "data"),
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run `rollcall ARGS`; never raises on a non-zero exit."""
        return subprocess.run(
            [_rollcall(), *args], env=self.env, capture_output=True, text=True, timeout=60
        )

    def json(self, *args: str) -> Any:
        """Run with `--json`, expect exit 0 and exactly one JSON document."""
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def error(self, *args: str) -> str:
        """Run, expect exit 1 with one `error:` line; returns that line."""
        done = self.run(*args)
        assert done.returncode == 1, (done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith("error: ")
        return lines[0]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """A CLI with two people and a past Fire Safety session."""
    c = Cli(tmp_path)
    for email, name in (("ann@example.org", "Ann"), ("bob@example.org", "Bob")):
        assert c.run("person", "add", "--email", email, "--name", name).returncode == 0
    past = (_today() - timedelta(days=7)).isoformat()
    for room, title in enumerate(("Fire Safety", "First Aid"), start=1):
        added = c.run(
            "session", "add", "--title", title, "--date", past, "--start", "10:00",
            "--duration", "60", "--location", f"Room {room}", "--expiry-months", "12",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    return c


def test_pathway_add_require_list_show_and_progress(cli: Cli) -> None:
    created = cli.json("pathway", "add", "--name", "New Starter", "--description", "Basics")
    assert set(created) == {"id"}
    pid = str(created["id"])
    cli.json("pathway", "require", pid, "--elearning", "Induction")
    cli.json(
        "pathway", "require", pid, "--course", "Fire Safety", "--course", "First Aid",
        "--mode", "any",
    )  # fmt: skip
    shown = cli.json("pathway", "show", pid)
    assert [r["label"] for r in shown["requirements"]] == ["Induction", "Fire Safety or First Aid"]
    assert cli.json("pathway", "list") == [
        {"id": created["id"], "name": "New Starter", "description": "Basics", "requirements": 2}
    ]
    assert cli.json("progress", "ann@example.org") == [
        {
            "pathway": created["id"],
            "name": "New Starter",
            "complete": False,
            "percent": 0,
            "requirements": [
                {"label": "Induction", "mode": "all", "kind": "elearning", "done": False},
                {
                    "label": "Fire Safety or First Aid",
                    "mode": "any",
                    "kind": "sessions",
                    "done": False,
                },
            ],
        }
    ]
    assert cli.run("book", "1", "ann@example.org").returncode != 0  # started: cannot be booked
    csv_file = cli.tmp / "done.csv"
    csv_file.write_text("email,item,completed_on\nann@example.org,Induction,2026-01-05\n")
    imported = cli.run("completion", "import", str(csv_file))
    assert imported.returncode == 0, imported.stderr
    [state] = cli.json("progress", "ann@example.org", "--pathway", pid)
    assert (state["percent"], state["requirements"][0]["done"]) == (50, True)


def test_bad_input_exits_1_names_the_field_and_changes_nothing(cli: Cli) -> None:
    assert "name" in cli.error("pathway", "add", "--name", " ")
    pid = str(cli.json("pathway", "add", "--name", "P")["id"])
    assert "name" in cli.error("pathway", "add", "--name", "p")
    assert "course" in cli.error("pathway", "require", pid, "--course", "Nope")
    assert "mode" in cli.error("pathway", "require", pid, "--course", "Fire Safety", "--mode", "x")
    assert "session" in cli.error("pathway", "require", pid, "--session", "999")
    assert "pathway" in cli.error("pathway", "require", "77", "--course", "Fire Safety")
    assert "pathway" in cli.error("pathway", "show", "abc")
    assert "email" in cli.error("progress", "nobody@example.org")
    assert "days" in cli.error("due", "--days", "-3")
    assert "report" in cli.error("report", "nope")
    assert "date" in cli.error("completion", "add", "ann@example.org", "X", "--date", "soon")
    assert cli.json("pathway", "show", pid)["requirements"] == []
    assert cli.run("pathway", "frobnicate").returncode == 2


def test_bad_csv_row_refuses_the_whole_import(cli: Cli) -> None:
    csv_file = cli.tmp / "bad.csv"
    csv_file.write_text(
        "email,item,completed_on\n"
        "ann@example.org,Induction,2026-01-05\n"
        "nobody@example.org,Induction,2026-01-05\n"
        "bob@example.org,Induction,yesterday\n"
    )
    line = cli.error("completion", "import", str(csv_file))
    assert "line 3" in line
    assert "line 4" in line
    assert "line 2" not in line
    csv_file.write_text("email,item,completed_on\nann@example.org,Induction,2026-01-05\n")
    assert cli.json("completion", "import", str(csv_file)) == {"added": 1, "skipped": 0}


def test_due_report_and_csv_export(cli: Cli) -> None:
    assert cli.run("mark", "1", "ann@example.org", "attended").returncode == 1  # not enrolled
    added = cli.run(
        "completion", "add", "bob@example.org", "Induction",
        "--date", (_today() - timedelta(days=300)).isoformat(),
        "--expires", (_today() + timedelta(days=5)).isoformat(),
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    [row] = cli.json("due", "--days", "10")
    assert (row["email"], row["item"], row["days_left"], row["status"]) == (
        "bob@example.org",
        "Induction",
        5,
        "expiring",
    )
    assert cli.json("due", "--days", "2") == []
    assert [r["item"] for r in cli.json("report", "expiring", "--days", "10")] == ["Induction"]
    out = cli.tmp / "fill.csv"
    done = cli.run("report", "fill-rate", "--csv", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == ""  # no capped sessions: no rows
    out2 = cli.tmp / "exp.csv"
    assert cli.run("report", "expiring", "--days", "10", "--csv", str(out2)).returncode == 0
    assert out2.read_text().splitlines()[0].startswith("email,name,department,kind,item")
    for name in ("no-shows", "attendance", "responses", "response-times", "fill-rate-monthly"):
        assert isinstance(cli.json("report", name), list)
