"""`rollcall config check`: what works in the configuration, in plain words."""

from __future__ import annotations

import sys

import click

from cli.context import EXIT_RULE, EXIT_SERVICE, Context, emit_json, fail, pass_ctx


@click.group("config")
def config_group() -> None:
    """Configuration: check what works."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
def config_check(ctx: Context, as_json: bool) -> None:
    """Connect to the database, SMTP and IMAP and say in plain words what works."""
    from mail.check import check_all

    try:
        settings = ctx.settings
    except Exception as exc:  # the settings themselves are wrong: say which key
        fail(f"configuration: {exc}", EXIT_RULE)
    results = check_all(settings)
    if as_json:
        emit_json([r.as_json() for r in results])
    else:
        if settings.config_path:
            click.echo(f"config file: {settings.config_path}")
        for result in results:
            mark = "ok  " if result.ok else "FAIL"
            click.echo(f"{mark} {result.service}: {result.detail}")
    if not all(r.ok for r in results):
        sys.exit(EXIT_SERVICE if any(r.unreachable for r in results) else EXIT_RULE)
