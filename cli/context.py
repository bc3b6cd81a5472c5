"""What every scripting command shares: the context, error handling, exit codes, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import click

from store.errors import RollcallError, ServiceUnavailable
from store.settings import Settings

AppOpener = Callable[[Settings, str | None], None]
"""Opens the Textual app for the settings, as a learner when given an email."""

F = TypeVar("F", bound=Callable[..., Any])

EXIT_RULE = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3


@dataclass
class Context:
    """What every command gets: the settings and whether the database is open."""

    db_url: str | None
    config_path: str | None
    open_app: AppOpener | None = None
    _settings: Settings | None = None
    _opened: bool = False

    @property
    def settings(self) -> Settings:
        """Settings from the config file and environment, `--db` winning."""
        if self._settings is None:
            from store.settings import load_settings, use_settings

            self._settings = load_settings(self.config_path, db=self.db_url)
            use_settings(self._settings)
        return self._settings

    def open(self, *, migrate: bool = True) -> Settings:
        """Open (and, unless told not to, migrate) the database; returns the settings.

        A schema upgrade says on stderr where the copy taken before it is.
        """
        settings = self.settings
        if not self._opened:
            from store.db import open_database

            open_database(
                settings.db, migrate=migrate, notify=_note, busy_timeout=settings.busy_timeout
            )
            self._opened = True
        return settings


def _note(message: str) -> None:
    click.echo(message, err=True)


def fail(message: str, code: int = EXIT_RULE) -> NoReturn:
    """Print one ``error:`` line and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn rule errors into exit 1, and unreachable services and storage errors into exit 3.

    Storage errors (disk full, read-only, locked) print one line naming the
    database, never a traceback.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RollcallError as exc:
            fail(str(exc), EXIT_RULE)
        except ServiceUnavailable as exc:
            fail(str(exc), EXIT_SERVICE)
        except Exception as exc:
            from store.db import as_storage_error

            storage = as_storage_error(exc)
            if storage is None:
                raise
            fail(str(storage), EXIT_SERVICE)

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    """Write exactly one JSON document to stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


pass_ctx = click.make_pass_decorator(Context)
