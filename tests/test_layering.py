"""The store, mail code and scripting commands start without loading the TUI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "module",
    [
        "store.booking",
        "store.sessions",
        "store.demo",
        "cli",
        "tui.launch",
        "mail.worker",
        "mail.sender",
    ],
)
def test_importing_does_not_load_textual(module: str) -> None:
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'screens')]; "
        "print(','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_import_linter_contracts_hold() -> None:
    tool = Path(sys.executable).with_name("lint-imports")
    lint = subprocess.run([str(tool)], capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "4 kept, 0 broken" in lint.stdout
