"""The program keeps its parsed stylesheets between starts; the tests' apps never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.settings import Settings
from tests.tui.conftest import Data, settle
from tui import style_cache
from tui.app import make_app


async def start(
    settings: Settings, *, cache_styles: bool = False, restricted: bool = False
) -> tuple[list[str], int]:
    """Open the app until its first rows are drawn; its rules, and how many sources it read."""
    app = make_app(settings, cache_styles=cache_styles, restricted=restricted)
    loaded = app._styles_loaded
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        rules = [
            f"{rule.selectors} {rule.tie_breaker} {rule.is_default_rules} "
            f"{sorted(rule.styles.get_rules().items())!r}"
            for rule in app.stylesheet.rules
        ]
    return rules, -1 if loaded is None else len(loaded)


def cached(home: Path) -> list[Path]:
    return sorted((home / "rollcall").glob("styles-*.pickle"))


async def test_a_second_start_reads_the_styles_the_first_parsed(
    data: Data, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed, read = await start(settings, cache_styles=True)
    assert read == 0  # nothing kept yet: everything parsed
    [kept] = cached(tmp_path)
    assert kept.stat().st_mode & 0o077 == 0  # the owner's only
    written = kept.stat().st_mtime_ns

    again, read = await start(settings, cache_styles=True)
    assert read > 10  # the app's files and the widgets' default CSS
    assert again == parsed  # the same rules, in the same order
    assert kept.stat().st_mtime_ns == written  # nothing new to keep: not written again

    # A damaged file is ignored (parsed as usual) and replaced.
    kept.write_bytes(b"not a pickle")
    damaged, read = await start(settings, cache_styles=True)
    assert (damaged, read) == (parsed, 0)
    assert kept.read_bytes() != b"not a pickle"
    assert len(style_cache.load(make_app(settings).stylesheet)) > 10


async def test_tests_and_restricted_apps_keep_nothing(
    data: Data, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    _, read = await start(settings)
    assert read == -1
    _, read = await start(settings, cache_styles=True, restricted=True)
    assert read == -1
    assert cached(tmp_path) == []
