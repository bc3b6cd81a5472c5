"""Attendance capture: `attendance import`, the sign-in `sheet` and the door `kiosk`."""

from __future__ import annotations

from typing import Any

import click

from cli.context import (
    Context,
    csv_import_command,
    fail,
    handle_errors,
    pass_ctx,
    store_command,
)


@click.group()
def attendance() -> None:
    """Attendance: import marks from a CSV file."""


@attendance.command("import")
@csv_import_command
def attendance_import(text: str) -> tuple[dict[str, Any], str]:
    """Import attendance marks (header: session_id,email,status; attended or no-show).

    People not on a session yet are enrolled on it (recorded after the fact).
    """
    from store.attendance_import import import_attendance_csv

    result = import_attendance_csv(text)
    enrolled = sum(1 for row in result.rows if row.enrol)
    return (
        {"marked": len(result.rows), "enrolled": enrolled},
        f"imported: {len(result.rows)} marked, {enrolled} enrolled after the fact",
    )


@click.command()
@click.argument("session_id")
@click.option("--pdf", "pdf", required=True, metavar="FILE", help="Where to write the PDF.")
@store_command
def sheet(ctx: Context, session_id: str, pdf: str) -> None:
    """Write a printable sign-in sheet for a session (PDF)."""
    from store.sheet import write_sheet

    click.echo(f"sign-in sheet written to {write_sheet(session_id, pdf)}")


@click.command()
@click.argument("session_id")
@pass_ctx
@handle_errors
def kiosk(ctx: Context, session_id: str) -> None:
    """Open the self check-in screen for a session (leave with ctrl+x and the exit PIN)."""
    from store.kiosk import open_kiosk_session

    if ctx.open_app is None:
        fail("the kiosk is not available here")
    settings = ctx.open()
    if not settings.kiosk_exit_pin:
        fail(
            "kiosk_exit_pin: set an exit PIN first (config key kiosk_exit_pin or "
            "ROLLCALL_KIOSK_EXIT_PIN); the kiosk cannot be left without it"
        )
    session = open_kiosk_session(session_id)
    ctx.open_app(settings, None, kiosk_session=session.id)
