"""The `rollcall` command: the scripting interface of CLI.md, and the app with no command.

Heavy imports (Textual, mail) happen inside the commands that need them, so
scripting commands and the worker start without loading the TUI.
"""

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

F = TypeVar("F", bound=Callable[..., Any])

EXIT_RULE = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3


@dataclass
class Context:
    """What every command gets: the settings and whether the database is open."""

    db_url: str | None
    config_path: str | None
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


pass_ctx = click.make_pass_decorator(Context)


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", metavar="URL", help="Database URL or SQLite file path.")
@click.option("--config", "config_path", metavar="PATH", help="TOML config file.")
@click.option("--as", "as_email", metavar="EMAIL", help="Open the app as this learner.")
@click.version_option(package_name="rollcall")
@click.pass_context
def main(
    ctx: click.Context, db_url: str | None, config_path: str | None, as_email: str | None
) -> None:
    """rollcall: run instructor-led training from the terminal.

    With no command, opens the app.
    """
    ctx.obj = Context(db_url=db_url, config_path=config_path)
    if ctx.invoked_subcommand is None:
        _run_app(ctx.obj, as_email)


@handle_errors
def _run_app(app_ctx: Context, as_email: str | None) -> None:
    settings = app_ctx.open()
    import getpass

    from store.people import get_person

    if as_email is None:
        # A site maps SSH logins to people so a learner's login opens their own view.
        as_email = settings.logins.get(getpass.getuser())
    if as_email is not None:
        as_email = get_person(as_email, field="as").email
    from tui.app import run_app

    run_app(settings, as_email=as_email)


def register(*modules: str) -> None:
    """Import the command modules; each adds its commands to `main` on import."""
    import importlib

    for name in modules:
        importlib.import_module(name)


@main.group("mail")
def mail_group() -> None:
    """Mail: send the outbox, poll the mailbox, show both logs."""


register("tui.cli_core", "tui.cli_inbound", "tui.cli_mail", "tui.cli_learning")
