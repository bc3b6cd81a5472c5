"""`rollcall backup`, `restore` and `check`: copies taken while others write, and their check."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import (
    EXIT_RULE,
    Context,
    emit_json,
    handle_errors,
    json_flag,
    pass_ctx,
    store_command,
)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def backup_command(ctx: Context, file: Path) -> None:
    """Write a consistent copy of the database to FILE (mode 0600) while others write.

    SQLite: the online backup API (one file, restorable with `rollcall restore`
    or usable as a database itself). PostgreSQL: `pg_dump --format=custom`.
    """
    from store.backup import backup_database

    ctx.open(migrate=False)
    written = backup_database(file)
    click.echo(f"backup written to {written}")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
@pass_ctx
@handle_errors
def restore_command(ctx: Context, file: Path, yes: bool) -> None:
    """Bring back the backup FILE into the database, then upgrade its schema.

    Refuses a backup from a newer release, and a database holding data
    without --yes.
    """
    from store.backup import restore_database

    ctx.open(migrate=False)
    version = restore_database(file, yes=yes)
    click.echo(f"restored {file} (schema version {version})")


@click.command("check")
@json_flag
@store_command
def check_command(ctx: Context, as_json: bool) -> None:
    """Check integrity and the rules the data must keep; exit 1 when a problem is found.

    Checks: SQLite integrity_check and foreign_key_check; no session over its
    maximum; waitlist positions 1..n per session; no row pointing to a missing
    person, session, course or trainer.

    --json prints {"ok": true|false, "findings": [{"check": "integrity" |
    "foreign_key" | "capacity" | "waitlist" | "orphan", "table": "session" |
    null, "row_id": 12 | null, "message": "..."}]}.
    """
    from store.backup import check_database

    findings = check_database()
    if as_json:
        emit_json({"ok": not findings, "findings": [f.as_json() for f in findings]})
    elif findings:
        for finding in findings:
            click.echo(f"{finding.check}: {finding.message}")
        click.echo(f"{len(findings)} problem(s) found", err=True)
    else:
        click.echo("ok: no problems found")
    if findings:
        raise SystemExit(EXIT_RULE)
