"""The keymap: one table of every screen's keys, each with an id the config can remap."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from textual.binding import Binding

import screens
from screens.keymap import KEYMAP
from screens.session_form import SessionForm
from screens.sessions import SessionsScreen
from store.settings import load_settings, use_settings
from tests.tui.conftest import Data, settle
from tui.app import make_app


def _declared() -> list[tuple[str, Binding]]:
    return [
        (name, binding)
        for name, bindings in KEYMAP.items()
        for binding in bindings
        if isinstance(binding, Binding)
    ]


def _screens_by_row() -> dict[str, type]:
    """Each keymap row and the screen class that takes it."""
    found: dict[str, type] = {}
    for module in pkgutil.iter_modules(screens.__path__):
        loaded = importlib.import_module(f"screens.{module.name}")
        for value in vars(loaded).values():
            if not isinstance(value, type) or value.__module__ != loaded.__name__:
                continue
            for name, bindings in KEYMAP.items():
                if value.__dict__.get("BINDINGS") is bindings:
                    found[name] = value
    return found


def test_every_binding_has_its_own_id() -> None:
    """A `[keymap]` entry names one binding: no binding without an id, no id twice."""
    ids = [binding.id or "" for _, binding in _declared()]
    assert "" not in ids
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_row_belongs_to_a_screen_that_has_its_actions() -> None:
    """Each row is some screen's BINDINGS, and that screen answers every action in it."""
    owners = _screens_by_row()
    assert set(owners) == set(KEYMAP)
    for name, binding in _declared():
        action = binding.action.split("(")[0]
        if action.startswith("app."):
            continue
        assert hasattr(owners[name], f"action_{action}"), (name, binding.action)


def test_no_screen_uses_a_key_twice() -> None:
    """Within one screen's row, each key does one thing."""
    for name, bindings in KEYMAP.items():
        keys = [b.key for b in Binding.make_bindings(bindings)]
        assert len(keys) == len(set(keys)), name


async def test_the_config_keymap_moves_a_key(tmp_path: Path, data: Data) -> None:
    """`[keymap]` in the config file moves "new session" from n to N: n then does nothing."""
    config = tmp_path / "config.toml"
    config.write_text('[keymap]\nsession-new = "N"\n', encoding="utf-8")
    settings = load_settings(config, environ={"ROLLCALL_TIMEZONE": "Europe/London"})
    use_settings(settings)
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, SessionsScreen)
        await pilot.press("N")
        await settle(pilot)
        assert isinstance(app.screen, SessionForm)
