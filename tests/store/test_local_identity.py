"""Who a local unix user is comes from the OS and the owner of the data, never the environment."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from store.access import Actor, local_actor
from store.settings import Settings, load_settings
from tests.builders import person

NOBODY = pwd.getpwnam("nobody").pw_uid


def _settings(db: str, config: Path | None = None, text: str = "") -> Settings:
    if config is not None:
        config.write_text(text)
    return load_settings(config, environ={}, db=db)


def test_the_owner_of_the_database_is_an_admin_and_others_are_not(
    sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(sqlite_store)
    assert local_actor(settings).role == "admin"
    # Another login on the same machine, whatever LOGNAME/USER claim.
    monkeypatch.setattr(os, "getuid", lambda: NOBODY)
    monkeypatch.setenv("LOGNAME", "root")
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("ROLLCALL_ADMINS", "nobody")
    assert local_actor(settings) == Actor("nobody", "learner")


def test_admins_and_logins_count_only_from_a_config_the_service_owns(
    sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann = person("ann@example.test")
    text = 'admins = ["nobody"]\n[logins]\nnobody = "ann@example.test"\n'
    trusted = _settings(sqlite_store, tmp_path / "config.toml", text)
    monkeypatch.setattr(os, "getuid", lambda: NOBODY)
    # The service's own config (owned by the database's owner) names nobody an admin.
    assert local_actor(trusted) == Actor("nobody", "admin")
    # The same lines in a file nobody wrote themselves count for nothing.
    own = tmp_path / "own.toml"
    mine = _settings(sqlite_store, own, text)
    os.chown(own, NOBODY, -1)
    assert local_actor(mine) == Actor("nobody", "learner")
    # A mapped login acts as that person, in their role.
    mapped = _settings(
        sqlite_store, tmp_path / "map.toml", '[logins]\nnobody = "ann@example.test"\n'
    )
    assert local_actor(mapped) == Actor("ann@example.test", "learner", ann.id)
