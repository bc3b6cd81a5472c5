"""What every scripting command shares: the context, error handling, exit codes, JSON output."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable
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

    def open(self) -> Settings:
        """Open (and migrate) the database; returns the settings."""
        settings = self.settings
        if not self._opened:
            from store.db import open_database

            open_database(settings.db)
            self._opened = True
        return settings


def fail(message: str, code: int = EXIT_RULE) -> NoReturn:
    """Print one ``error:`` line and exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func: F) -> F:
    """Turn rule errors into exit 1 and unreachable services into exit 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RollcallError as exc:
            fail(str(exc), EXIT_RULE)
        except ServiceUnavailable as exc:
            fail(str(exc), EXIT_SERVICE)

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    """Write exactly one JSON document to stdout."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def emit_json_rows(rows: Iterable[Any]) -> None:
    """Write one JSON array to stdout as the rows come, byte for byte what `emit_json` writes.

    Each row is encoded on its own and indented one level, so memory holds one row, not the list.
    """
    out = sys.stdout
    opened = False
    for row in rows:
        out.write(("[\n  " if not opened else ",\n  ") + _indented(row, "\n  "))
        opened = True
    out.write("\n]\n" if opened else "[]\n")
    out.flush()


_string = json.encoder.encode_basestring
"""The C string encoder `json.dumps(..., ensure_ascii=False)` uses."""


def _indented(value: Any, newline: str) -> str:
    """`value` as `json.dumps(value, ensure_ascii=False, indent=2)` writes it, nested at `newline`.

    `json.dumps` with an indent falls back to its pure-Python encoder; this writes the same
    bytes with the C string encoder, several times faster on long lists.
    """
    kind = type(value)
    if kind is str:
        return str(_string(value))
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    inner = newline + "  "
    if kind is dict:
        if not value:
            return "{}"
        parts = []
        for key, item in value.items():
            part = _string(item) if type(item) is str else _indented(item, inner)
            parts.append(_string(str(key)) + ": " + part)
        return "{" + inner + ("," + inner).join(parts) + newline + "}"
    if kind is list or kind is tuple:
        if not value:
            return "[]"
        return (
            "[" + inner + ("," + inner).join([_indented(v, inner) for v in value]) + newline + "]"
        )
    return json.dumps(value, ensure_ascii=False)


pass_ctx = click.make_pass_decorator(Context)
