"""`rollcall completion`, `due` and `book-next`: completions and renewals."""

from __future__ import annotations

from typing import Any

import click

from cli.context import (
    Context,
    csv_import_command,
    emit_json,
    json_flag,
    say,
    show,
    store_command,
)
from cli.tables import parse_days, text_table


@click.group()
def completion() -> None:
    """Completions: import e-learning results, mark one by hand."""


@completion.command("import")
@csv_import_command
def completion_import(text: str) -> tuple[dict[str, Any], str]:
    """Import e-learning completions (header: email,item,completed_on[,expires_on])."""
    from store.completions import import_completions_csv

    result = import_completions_csv(text)
    return (
        {"added": result.added, "skipped": result.skipped},
        f"imported: {result.added} added, {result.skipped} already recorded",
    )


@completion.command("add")
@click.argument("email")
@click.argument("item")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="Completion date (default today).")
@click.option("--expires", metavar="YYYY-MM-DD")
@json_flag
@store_command
def completion_add(
    ctx: Context, email: str, item: str, on: str | None, expires: str | None, as_json: bool
) -> None:
    """Mark an e-learning item completed by hand."""
    from store.completions import mark_elearning_done

    done = mark_elearning_done(email, item, on, expires)
    show(
        as_json,
        {
            "id": done.id,
            "completed_on": done.completed_on.isoformat(),
            "expires_on": done.expires_on.isoformat() if done.expires_on else None,
        },
        f"recorded: {email} completed {item!r} on {done.completed_on}",
    )


@click.command()
@click.option("--days", metavar="N", help="Expiring within N days (default 30).")
@click.option("--email", metavar="EMAIL", help="Only this person.")
@click.option("--course", metavar="TITLE", help="Only this course.")
@json_flag
@store_command
def due(
    ctx: Context, days: str | None, email: str | None, course: str | None, as_json: bool
) -> None:
    """Who is due for renewal: completions expired or expiring within N days."""
    from store.completions import due_for_renewal

    n = parse_days(days)
    rows = [
        r.as_dict() for r in due_for_renewal(30 if n is None else n, email=email, course=course)
    ]
    show(as_json, rows, text_table(rows))


@click.command("book-next")
@click.argument("email")
@click.argument("course")
@json_flag
@store_command
def book_next(ctx: Context, email: str, course: str, as_json: bool) -> None:
    """Book a person onto the next scheduled session of a course (the admin's renewal action)."""
    from store.completions import book_next_session

    session, result = book_next_session(email, course)
    if as_json:
        emit_json(
            {
                "session": session.id,
                "status": result.status,
                "waitlist_position": result.waitlist_position,
            }
        )
    elif result.status == "waitlisted":
        say(f"session {session.id} is full: waitlisted at {result.waitlist_position}")
    else:
        say(f"enrolled on session {session.id}")
