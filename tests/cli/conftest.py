"""Run the installed `rollcall` command as a subprocess against a fresh database."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Result:
    """What one `rollcall` run did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        """stdout parsed as exactly one JSON document."""
        return json.loads(self.stdout)


Runner = Callable[..., Result]


def rollcall_executable() -> str:
    """The `rollcall` console script installed next to this Python."""
    candidate = Path(sys.executable).with_name("rollcall")
    found = str(candidate) if candidate.exists() else shutil.which("rollcall")
    assert found, "the rollcall command is not installed (pip install -e .)"
    return found


@pytest.fixture
def rollcall(tmp_path: Path, isolated_env: Path) -> Runner:
    """Call ``rollcall(*args)`` to run the command on a database under tmp_path."""
    exe = rollcall_executable()
    env = dict(os.environ)
    env["ROLLCALL_DB"] = str(tmp_path / "cli.db")
    env["ROLLCALL_TIMEZONE"] = "Europe/London"
    env["ROLLCALL_ORGANIZER_EMAIL"] = "training@example.test"

    def run(
        *args: str, input: str | None = None, extra_env: dict[str, str] | None = None
    ) -> Result:
        out = subprocess.run(
            [exe, *args],
            capture_output=True,
            text=True,
            env={**env, **(extra_env or {})},
            input=input,
            timeout=60,
            cwd=tmp_path,
        )
        return Result(out.returncode, out.stdout, out.stderr)

    return run
