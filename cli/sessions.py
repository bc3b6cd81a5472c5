"""`rollcall session`: add, list, show, edit, cancel, delete and finalise sessions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from cli.context import (
    Context,
    emit_json,
    fail,
    handle_errors,
    json_flag,
    pass_ctx,
    say,
    show,
    store_command,
)


def _session_input_kwargs(
    title: str | None,
    date: str | None,
    start: str | None,
    duration: str | None,
    location: str | None,
    online_url: str | None,
    generate_link: bool,
    trainer: str | None,
    max_attendees: str | None,
    description: str | None,
    for_role: tuple[str, ...],
    for_department: tuple[str, ...],
    for_location: tuple[str, ...],
    material: tuple[str, ...],
    expiry_months: str | None,
    course: str | None,
    unlimited: bool = False,
) -> dict[str, Any]:
    """The options given on the command line, as `SessionInput` field names."""
    from store.session_input import parse_material

    values: dict[str, Any] = {}
    simple = {
        "title": title,
        "date": date,
        "start": start,
        "duration_minutes": duration,
        "location": location,
        "online_url": online_url,
        "trainer": trainer,
        "max_attendees": max_attendees,
        "description": description,
        "expiry_months": expiry_months,
        "course": course,
    }
    values.update({k: v for k, v in simple.items() if v is not None})
    if generate_link:
        values["generate_link"] = True
    if unlimited:
        if max_attendees is not None:
            fail("max: give either --max or --unlimited, not both")
        values["max_attendees"] = None
    # A repeated option given once as '' clears the set (back to "All" / no materials).
    for key, given in (
        ("roles", for_role),
        ("departments", for_department),
        ("locations", for_location),
    ):
        if given:
            values[key] = [v for v in given if v.strip()]
    if material:
        values["materials"] = [parse_material(m) for m in material if m.strip()]
    return values


def workflow_options(func: Any) -> Any:
    """`--approval` and `--offer-hours` of `session add` and `session edit`."""
    func = click.option(
        "--offer-hours", metavar="N", help="Hold a freed place N hours for the next in line."
    )(func)
    return click.option(
        "--approval", metavar="none|manager", help="Bookings wait for the manager's approval."
    )(func)


def allow_clash_option(func: Any) -> Any:
    """`--allow-clash` of `session add` and `session edit`."""
    return click.option(
        "--allow-clash",
        is_flag=True,
        help="Book the place even if another session there overlaps.",
    )(func)


@contextlib.contextmanager
def clash_hint() -> Iterator[None]:
    """A double-booked place is refused with the flag that books it anyway."""
    from store.errors import PlaceClash

    try:
        yield
    except PlaceClash as exc:
        fail(f"{exc}; --allow-clash books it anyway")


def session_options(func: Any) -> Any:
    """The options shared by `session add` and `session edit`."""
    options = [
        click.option("--title", metavar="T"),
        click.option("--date", metavar="YYYY-MM-DD"),
        click.option(
            "--start",
            metavar="HH:MM",
            help="Local start; in the hour the clocks repeat, add the zone (01:30 GMT).",
        ),
        click.option("--duration", metavar="MINUTES"),
        click.option("--location", metavar="TEXT", help="Room or address (in person)."),
        click.option("--online-url", metavar="URL", help="Meeting link (online)."),
        click.option(
            "--generate-link", is_flag=True, help="Online, with a generated meeting link."
        ),
        click.option("--trainer", metavar="EMAIL"),
        click.option("--max", "max_attendees", metavar="N", help="Capacity; omit for unlimited."),
        click.option("--description", metavar="TEXT"),
        click.option("--for-role", multiple=True, metavar="R"),
        click.option("--for-department", multiple=True, metavar="D"),
        click.option("--for-location", multiple=True, metavar="L"),
        click.option("--material", multiple=True, metavar="NAME=URL"),
        click.option("--expiry-months", metavar="N"),
        click.option("--course", metavar="TITLE", help="Course title (default: the title)."),
        click.option("--json", "as_json", is_flag=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def session() -> None:
    """Sessions: add, list, show, edit, cancel, delete."""


@session.command("add")
@session_options
@workflow_options
@allow_clash_option
@click.option("--repeat", type=click.Choice(["daily", "weekly", "monthly"]))
@click.option("--count", type=int)
@click.option("--until", metavar="YYYY-MM-DD")
@pass_ctx
@handle_errors
def session_add(
    ctx: Context,
    /,
    as_json: bool,
    repeat: str | None,
    count: int | None,
    until: str | None,
    approval: str | None,
    offer_hours: str | None,
    allow_clash: bool,
    **options: Any,
) -> None:
    """Add a session (or a recurring series with --repeat).

    An in-person session overlapping another in the same place is refused (exit 1,
    naming that session) unless --allow-clash.
    """
    from store.interest import create_with_policy
    from store.recurrence import Repeat
    from store.session_input import SessionInput
    from store.sessions import create_sessions
    from store.validate import parse_date

    for name, flag in (
        ("title", "--title"),
        ("date", "--date"),
        ("start", "--start"),
        ("duration", "--duration"),
    ):
        if options.get(name) is None:
            raise click.UsageError(f"Missing option '{flag}'.")
    ctx.open()
    values = _session_input_kwargs(**options)
    rule = None
    if repeat:
        rule = Repeat(repeat, count=count, until=parse_date(until, "until") if until else None)
    elif count is not None or until is not None:
        fail("repeat: --count and --until need --repeat")
    with clash_hint():
        created = create_with_policy(
            lambda: create_sessions(SessionInput(**values), rule, allow_clash=allow_clash),
            approval,
            offer_hours,
        )
    ids = [s.id for s in created]
    show(
        as_json,
        {"ids": ids},
        f"added session{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}",
    )


@session.command("list")
@click.option("--status", type=click.Choice(["scheduled", "in_progress", "completed", "cancelled"]))
@click.option("--trainer", metavar="EMAIL")
@click.option("--search", metavar="TEXT")
@click.option("--from", "first_day", metavar="YYYY-MM-DD", help="From this day (site's zone).")
@click.option("--to", "last_day", metavar="YYYY-MM-DD", help="To this day, included.")
@click.option("--limit", metavar="N", help="At most N sessions.")
@click.option("--offset", metavar="N", help="Skip the first N sessions.")
@json_flag
@store_command
def session_list(
    ctx: Context,
    status: str | None,
    trainer: str | None,
    search: str | None,
    first_day: str | None,
    last_day: str | None,
    limit: str | None,
    offset: str | None,
    as_json: bool,
) -> None:
    """List sessions in start order (streamed: rows are written as they are read)."""
    from cli.shared_writing import emit_session_json
    from store.paging import day_bounds, parse_count
    from store.serialize import iter_session_dicts
    from store.session_queries import sessions_query

    settings = ctx.settings
    count = parse_count(limit, "limit", minimum=1)
    skip = parse_count(offset, "offset")
    lower, upper = day_bounds(first_day, last_day, settings.zone)
    query = sessions_query(
        status=status, trainer=trainer, search=search, start_from=lower, start_before=upper
    )
    if as_json:
        emit_session_json(query, limit=count, offset=skip)
        return
    rows = iter_session_dicts(query, limit=count, offset=skip)
    from datetime import datetime

    from store.local_time import start_text

    for row in rows:
        start = datetime.fromisoformat(row["start"]).astimezone(settings.zone)
        cap = "∞" if row["max_attendees"] is None else row["max_attendees"]
        # In the hour the clocks repeat, the time carries its zone (01:30 GMT).
        when = f"{start:%Y-%m-%d} {start_text(start, settings.zone)}"
        say(
            f"{row['id']:>5}  {when:<16}  {row['title'][:32]:<32} "
            f"{row['enrolled']}/{cap} +{row['waitlisted']}  {row['status']}"
        )


@session.command("show")
@click.argument("session_id")
@json_flag
@store_command
def session_show(ctx: Context, session_id: str, as_json: bool) -> None:
    """Show a session with its enrolments."""
    from store.serialize import session_detail_dict
    from store.sessions import get_session

    settings = ctx.settings
    data = session_detail_dict(get_session(session_id))
    if as_json:
        emit_json(data)
        return
    from datetime import datetime

    from store.session_input import describe_when

    start, end = (datetime.fromisoformat(data[k]) for k in ("start", "end"))
    when = describe_when(start, end, settings.zone)
    say(f"{data['title']} (session {data['id']}, {data['status']})")
    say(f"  when:     {when} ({settings.zone.key}), {data['duration_minutes']} min")
    say(f"  where:    {data['location'] or data['online_url']}")
    say(f"  trainer:  {data['trainer'] or '-'}")
    cap = "unlimited" if data["max_attendees"] is None else data["max_attendees"]
    say(f"  places:   {data['enrolled']} of {cap}, {data['waitlisted']} waiting")
    if data["cancel_reason"]:
        say(f"  cancelled: {data['cancel_reason']}")
    for e in data["enrolments"]:
        pos = f" #{e['waitlist_position']}" if e["waitlist_position"] else ""
        say(f"  - {e['email']:<32} {e['status']}{pos}  {e['calendar']}")


@session.command("edit")
@click.argument("session_id")
@session_options
@workflow_options
@allow_clash_option
@click.option("--unlimited", is_flag=True, help="Remove the capacity limit.")
@store_command
def session_edit(
    ctx: Context,
    /,
    session_id: str,
    as_json: bool,
    unlimited: bool,
    approval: str | None,
    offer_hours: str | None,
    allow_clash: bool,
    **options: Any,
) -> None:
    """Change a session; moving it sends updated invitations.

    Moving an in-person session onto another in the same place is refused (exit 1)
    unless --allow-clash.
    """
    from store.interest import edit_with_policy
    from store.serialize import session_dict

    values = _session_input_kwargs(unlimited=unlimited, **options)
    if not values and approval is None and offer_hours is None:
        fail("session: give at least one option to change")
    result = edit_with_policy(session_id, values, approval, offer_hours, allow_clash=allow_clash)
    if as_json:
        data = session_dict(result.session)
        data["changed"] = result.changed
        emit_json(data)
    else:
        changed = ", ".join(result.changed) or "nothing"
        say(f"session {result.session.id} changed: {changed}")


@session.command("cancel")
@click.argument("session_id")
@click.option("--reason", required=True)
@store_command
def session_cancel(ctx: Context, session_id: str, reason: str) -> None:
    """Cancel a session; everyone on it is told, with the reason."""
    from store.sessions import cancel_session

    cancelled = cancel_session(session_id, reason)
    say(f"session {cancelled.id} cancelled")


@session.command("delete")
@click.argument("session_id")
@store_command
def session_delete(ctx: Context, session_id: str) -> None:
    """Delete a session that has no enrolments."""
    from store.sessions import delete_session

    delete_session(session_id)
    say(f"session {session_id} deleted")


@session.command("finalise")
@click.argument("session_id")
@store_command
def session_finalise(ctx: Context, session_id: str) -> None:
    """Close the attendance register of a session."""
    from store.attendance import finalise

    finalise(session_id)
    say(f"session {session_id} finalised")
