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


def test_every_command_loads_without_the_tui_and_only_when_asked_for() -> None:
    """The group imports a command's module when the command is asked for; all of them
    together still load no Textual."""
    code = (
        "import sys, click; from cli import main; "
        "before = 'cli.booking' in sys.modules; "
        "ctx = click.Context(main); "
        "names = main.list_commands(ctx); "
        "found = [main.get_command(ctx, n).name == n for n in names]; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'rich', 'screens')]; "
        "print(before, len(names), all(found), ','.join(sorted(bad)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "37", "True"]


def test_import_linter_contracts_hold() -> None:
    tool = Path(sys.executable).with_name("lint-imports")
    lint = subprocess.run([str(tool)], capture_output=True, text=True, cwd=ROOT)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "4 kept, 0 broken" in lint.stdout
