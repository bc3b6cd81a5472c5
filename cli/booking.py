"""Booking and attendance: `available`, `book`, `enrol`, `unbook`, `promote`, `mark`."""

from __future__ import annotations

from typing import Any

import click

from cli.context import (
    Context,
    emit_json,
    json_flag,
    say,
    show_rows,
    store_command,
)


@click.command()
@click.argument("email")
@click.option("--from", "first_day", metavar="YYYY-MM-DD", help="From this day (site's zone).")
@click.option("--to", "last_day", metavar="YYYY-MM-DD", help="To this day, included.")
@click.option("--limit", metavar="N", help="At most N sessions.")
@json_flag
@store_command
def available(
    ctx: Context,
    email: str,
    first_day: str | None,
    last_day: str | None,
    limit: str | None,
    as_json: bool,
) -> None:
    """Sessions this person can see and book (streamed)."""
    from cli.shared_writing import emit_session_json
    from store.availability import available_query
    from store.paging import day_bounds, parse_count
    from store.people import get_person
    from store.serialize import iter_session_dicts

    settings = ctx.settings
    count = parse_count(limit, "limit", minimum=1)
    lower, upper = day_bounds(first_day, last_day, settings.zone)
    query = available_query(get_person(email), start_from=lower, start_before=upper)
    if as_json:
        emit_session_json(query, limit=count)
    else:
        show_rows(False, iter_session_dicts(query, limit=count), _available_line)


def _available_line(row: dict[str, Any]) -> str:
    left = "unlimited" if row["remaining"] is None else f"{row['remaining']} left"
    if row["remaining"] == 0:
        left = "Session full"
    return f"{row['id']:>5}  {row['start'][:16]}  {row['title']}  ({left})"


def _booking_output(result: Any, as_json: bool) -> None:
    if as_json:
        emit_json({"status": result.status, "waitlist_position": result.waitlist_position})
    elif result.status == "enrolled":
        say("enrolled")
    elif result.status == "requested":
        say("requested: waiting for the manager's approval")
    else:
        say(f"Session full: waitlisted at position {result.waitlist_position}")


@click.command()
@click.argument("session_id")
@click.argument("email")
@click.option("--no-waitlist", is_flag=True, help="Refuse instead of joining the waitlist.")
@json_flag
@store_command
def book(ctx: Context, session_id: str, email: str, no_waitlist: bool, as_json: bool) -> None:
    """Book a session as the learner (visibility applies)."""
    from store.booking import book as book_rule

    _booking_output(book_rule(session_id, email, allow_waitlist=not no_waitlist), as_json)


@click.command()
@click.argument("session_id")
@click.argument("email")
@json_flag
@store_command
def enrol(ctx: Context, session_id: str, email: str, as_json: bool) -> None:
    """Enrol a person as the admin (visibility does not apply)."""
    from store.booking import enrol as enrol_rule

    _booking_output(enrol_rule(session_id, email), as_json)


@click.command()
@click.argument("session_id")
@click.argument("email")
@store_command
def unbook(ctx: Context, session_id: str, email: str) -> None:
    """Cancel a person's booking or waitlist place."""
    from store.booking import unbook as unbook_rule

    unbook_rule(session_id, email)
    say("booking cancelled")


@click.command()
@click.argument("session_id")
@click.argument("email")
@store_command
def promote(ctx: Context, session_id: str, email: str) -> None:
    """Move a waitlisted person onto the session."""
    from store.booking import promote as promote_rule

    promote_rule(session_id, email)
    say("promoted")


@click.command()
@click.argument("session_id")
@click.argument("email")
@click.argument("outcome", type=click.Choice(["attended", "no-show"]))
@store_command
def mark(ctx: Context, session_id: str, email: str, outcome: str) -> None:
    """Mark attendance: attended or no-show."""
    from store.attendance import mark as mark_rule

    mark_rule(session_id, email, outcome)
    say(f"marked {outcome}")
