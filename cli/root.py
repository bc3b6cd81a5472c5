"""The `rollcall` group: global options, and the app when no command is given."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from cli.context import AppOpener, Context, fail, handle_errors


class CommandGroup(click.Group):
    """A group whose commands are imported when one is asked for: run, or listed by the help.

    The scripting interface has forty commands in a dozen modules; a command (and the app)
    imports its own module, not all of them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._named: dict[str, str] = {}

    def name_commands(self, named: Mapping[str, str]) -> None:
        """Add commands by name, each as ``"module:attribute"``, imported when first asked for."""
        self._named.update(named)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, in order."""
        return sorted({*self.commands, *self._named})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command `cmd_name`, imported now if it is only named so far."""
        if cmd_name not in self.commands and cmd_name in self._named:
            module, attribute = self._named[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=CommandGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    # The program's entry point hands in the function that opens the app as the
    # context object, so this package never imports the TUI itself.
    opener: AppOpener | None = ctx.obj if callable(ctx.obj) else None
    ctx.obj = Context(db_url=db_url, config_path=config_path, open_app=opener)
    if ctx.invoked_subcommand is None:
        _run_app(ctx.obj, as_email)


@handle_errors
def _run_app(app_ctx: Context, as_email: str | None) -> None:
    if app_ctx.open_app is None:
        fail("the app is not available here; give a command (rollcall --help)")
    settings = app_ctx.open()
    from store.access import current_actor, mapped_login, require
    from store.people import get_person

    if as_email is not None:
        # Opening someone else's view is for admins (to see what a learner sees).
        require("as")
    else:
        # A site maps logins to people so a learner's login opens their own view.
        as_email = mapped_login(settings)
    actor = current_actor()
    if as_email is not None:
        as_email = get_person(as_email, field="as").email
        if actor.person_id is not None and actor.role != "learner":
            as_email = None  # a mapped trainer or manager gets the app for their role
    elif actor.role == "learner":
        fail("not allowed for a learner: this login is not an admin nor mapped to a person")
    app_ctx.open_app(settings, as_email)
