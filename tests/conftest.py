"""Shared fixtures: an isolated environment and a store on SQLite or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from store.db import close_database, database, open_database
from store.settings import Settings, load_settings, use_settings

# The real PostgreSQL, Dovecot and SMTP servers (session fixtures).
pytest_plugins = ["tests.servers", "tests.servers.sshd"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the developer's own config, data and ROLLCALL_* variables."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith("ROLLCALL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("ROLLCALL_TIMEZONE", "Europe/London")
    return home


@pytest.fixture
def settings() -> Settings:
    """Test settings (Europe/London, a fixed organizer) made current for the rules."""
    value = load_settings(
        environ={"ROLLCALL_TIMEZONE": "Europe/London"},
        organizer_email="training@example.test",
        organizer_name="Training Team",
    )
    use_settings(value)
    return value


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file database URL."""
    return f"sqlite:///{tmp_path / 'rollcall.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'rollcall.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    url: str = server.create_database()
    yield url
    close_database()
    server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def store(db_url: str, settings: Settings) -> Iterator[str]:
    """The store opened and migrated on each backend; yields the URL."""
    open_database(db_url)
    yield db_url
    close_database()
    database.initialize(None)


@pytest.fixture
def sqlite_store(sqlite_url: str, settings: Settings) -> Iterator[str]:
    """The store opened on SQLite only (for tests that do not depend on the backend)."""
    open_database(sqlite_url)
    yield sqlite_url
    close_database()
    database.initialize(None)
