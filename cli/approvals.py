"""The booking workflow: `approve`, `decline-request`, `requests`, `interest`, `offer`."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, emit_json, json_flag, show, show_rows, store_command


def _decided(result: object, as_json: bool) -> None:
    from store.approvals import Decision

    assert isinstance(result, Decision)
    if as_json:
        emit_json(
            {
                "request": result.request.status,
                "status": result.status,
                "waitlist_position": result.waitlist_position,
            }
        )
    elif result.status == "waitlisted":
        click.echo(f"approved: Session full, waitlisted at position {result.waitlist_position}")
    else:
        click.echo(f"{result.request.status}: {result.status}")


def _decision_command(name: str, rule_name: str, doc: str) -> click.Command:
    """`approve` and `decline-request`: the same arguments, a different rule."""

    @click.command(name, help=doc)
    @click.argument("session_id")
    @click.argument("email")
    @click.option("--note", default="", help="A note for the learner.")
    @click.option("--manager", metavar="EMAIL", help="Decide as this manager (default: an admin).")
    @json_flag
    @store_command
    def command(
        ctx: Context, session_id: str, email: str, note: str, manager: str | None, as_json: bool
    ) -> None:
        from store import approvals

        rule = getattr(approvals, rule_name)
        _decided(rule(session_id, email, by=manager, note=note), as_json)

    return command


approve = _decision_command(
    "approve",
    "approve",
    "Approve a learner's request: books the place (or the waitlist when full).",
)
decline_request = _decision_command(
    "decline-request",
    "decline",
    "Decline a learner's request: the booking is cancelled and the learner told.",
)


@click.command()
@click.option("--manager", metavar="EMAIL", help="Only this manager's team.")
@json_flag
@store_command
def requests(ctx: Context, manager: str | None, as_json: bool) -> None:
    """Requests waiting for a manager's approval, oldest first."""
    from store.approvals import pending_requests, request_dict

    rows = [request_dict(r) for r in pending_requests(manager)]
    show_rows(
        as_json,
        rows,
        lambda row: (
            f"{row['session_id']:>5}  {row['start'][:16]}  {row['title'][:28]:<28} "
            f"{row['email']:<28} manager {row['manager'] or '-'}"
        ),
    )


@click.command()
@click.option("--manager", metavar="EMAIL", help="Whose team (an admin's choice; default: yours).")
@json_flag
@store_command
def team(ctx: Context, manager: str | None, as_json: bool) -> None:
    """A manager's team: bookings to come, the last year's attendance, renewals due."""
    from store.team import team as team_of
    from store.team import team_manager

    data = team_of(team_manager(manager))
    show(as_json, data.as_dict(), _team_text(data))


def _team_text(data: Any) -> str:
    size = len(data.members)
    lines = [f"team of {data.manager}: {size} {'person' if size == 1 else 'people'}"]
    for m in data.members:
        lines.append(
            f"  {m.name[:28]:<28} {m.email:<32} booked {m.booked}, attended {m.attended}, "
            f"no-shows {m.no_shows}, due {m.due}"
        )
    if data.bookings:
        lines.append("bookings to come:")
        lines += [
            f"  {b.start:%Y-%m-%d %H:%M}  {b.title[:30]:<30} {b.name[:24]:<24} {b.status}"
            for b in data.bookings
        ]
    if data.due:
        lines.append("due for renewal:")
        lines += [f"  {d.expires_on}  {d.item[:30]:<30} {d.name}" for d in data.due]
    return "\n".join(lines)


@click.group()
def interest() -> None:
    """Interest lists: people waiting for a date of a course."""


@interest.command("add")
@click.argument("course")
@click.argument("email")
@json_flag
@store_command
def interest_add(ctx: Context, course: str, email: str, as_json: bool) -> None:
    """Put a person on a course's interest list."""
    from store.interest import add_interest, interest_dict

    entry = add_interest(course, email, source="admin")
    show(
        as_json,
        interest_dict(entry),
        f"{entry.person.email} is on the interest list of {entry.course.title}",
    )


@interest.command("remove")
@click.argument("course")
@click.argument("email")
@store_command
def interest_remove(ctx: Context, course: str, email: str) -> None:
    """Take a person off a course's interest list."""
    from store.interest import remove_interest

    remove_interest(course, email)
    click.echo("removed")


@interest.command("list")
@click.argument("course", required=False)
@json_flag
@store_command
def interest_list(ctx: Context, course: str | None, as_json: bool) -> None:
    """People waiting for a date, in order of interest (one course or all)."""
    from store.interest import interest_dict
    from store.interest import interest_list as list_rule

    rows = [interest_dict(e) for e in list_rule(course)]
    show_rows(
        as_json,
        rows,
        lambda row: f"{row['course'][:30]:<30} {row['email']:<32} {row['created_at'][:16]}",
    )


@click.group()
def offer() -> None:
    """Offered places: accept or decline for the offered person."""


@offer.command("accept")
@click.argument("session_id")
@click.argument("email")
@store_command
def offer_accept(ctx: Context, session_id: str, email: str) -> None:
    """Take the place offered to this person."""
    from store.offers import accept_offer

    accept_offer(session_id, email, author="admin")
    click.echo("enrolled")


@offer.command("decline")
@click.argument("session_id")
@click.argument("email")
@store_command
def offer_decline(ctx: Context, session_id: str, email: str) -> None:
    """Turn the offered place down; it goes to the next in line."""
    from store.offers import decline_offer

    decline_offer(session_id, email, author="admin")
    click.echo("passed on")
