"""Scripting commands for pathways, progress, completions, renewals and reports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from tui.cli import Context, emit_json, handle_errors, main, pass_ctx


def _days(value: str | None) -> int | None:
    from store.validate import positive_int

    return None if value is None else positive_int(value, "days", allow_zero=True)


def _date(value: str | None, field: str) -> date | None:
    from store.validate import parse_date

    return None if value is None else parse_date(value, field)


def _table(rows: list[dict[str, Any]]) -> str:
    """Rows as aligned plain-text columns for people reading a terminal."""
    if not rows:
        return "(no rows)"
    headers = list(rows[0].keys())
    cells = [["" if r[h] is None else str(r[h]) for h in headers] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    return "\n".join(lines)


@main.group()
def pathway() -> None:
    """Learning pathways: add, require, list, show."""


@pathway.command("add")
@click.option("--name", required=True)
@click.option("--description", default="")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def pathway_add(ctx: Context, name: str, description: str, as_json: bool) -> None:
    """Create a pathway with no requirements yet."""
    from store.pathways import add_pathway

    ctx.open()
    created = add_pathway(name, description)
    if as_json:
        emit_json({"id": created.id})
    else:
        click.echo(f"added pathway {created.name!r} (id {created.id})")


@pathway.command("require")
@click.argument("pathway_id")
@click.option("--course", "courses", multiple=True, metavar="TITLE", help="Repeatable.")
@click.option("--session", "sessions", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--elearning", metavar="NAME")
@click.option("--mode", default="all", metavar="all|any", show_default=True)
@click.option("--label", default=None, help="Shown name (default: from the courses or item).")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def pathway_require(
    ctx: Context,
    pathway_id: str,
    courses: tuple[str, ...],
    sessions: tuple[str, ...],
    elearning: str | None,
    mode: str,
    label: str | None,
    as_json: bool,
) -> None:
    """Append one requirement: courses and/or sessions (mode all|any) or an e-learning item."""
    from store.pathways import add_requirement, requirement_dict

    ctx.open()
    requirement = add_requirement(
        pathway_id,
        courses=courses,
        sessions=sessions,
        elearning=elearning,
        mode=mode,
        label=label,
    )
    if as_json:
        emit_json(requirement_dict(requirement))
    else:
        click.echo(f"requirement {requirement.position} added: {requirement.label}")


@pathway.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def pathway_list(ctx: Context, as_json: bool) -> None:
    """List pathways."""
    from store.pathways import list_pathways

    ctx.open()
    rows = list_pathways()
    if as_json:
        emit_json(rows)
    else:
        click.echo(_table([{k: r[k] for k in ("id", "name", "requirements")} for r in rows]))


@pathway.command("show")
@click.argument("pathway_id")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def pathway_show(ctx: Context, pathway_id: str, as_json: bool) -> None:
    """Show a pathway and its requirements in order."""
    from store.pathways import get_pathway, pathway_dict

    ctx.open()
    data = pathway_dict(get_pathway(pathway_id))
    if as_json:
        emit_json(data)
        return
    click.echo(f"{data['name']} (id {data['id']})")
    if data["description"]:
        click.echo(data["description"])
    for r in data["requirements"]:
        what = r["elearning"] if r["kind"] == "elearning" else f"{r['mode']} of"
        parts = r["courses"] + [f"session {s}" for s in r["sessions"]]
        detail = f"e-learning: {what}" if r["kind"] == "elearning" else f"{what} {', '.join(parts)}"
        click.echo(f"  {r['position']}. {r['label']}  [{detail}]")


@main.command()
@click.argument("email")
@click.option("--pathway", "pathway_id", metavar="PATHWAY_ID")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def progress(ctx: Context, email: str, pathway_id: str | None, as_json: bool) -> None:
    """A person's progress on every pathway (or one)."""
    from store.pathways import progress as progress_of

    ctx.open()
    rows = progress_of(email, pathway_id)
    if as_json:
        emit_json(rows)
        return
    for p in rows:
        click.echo(f"{p['name']} (id {p['pathway']}): {p['percent']}%")
        for r in p["requirements"]:
            click.echo(f"  [{'x' if r['done'] else ' '}] {r['label']}")


@main.group()
def completion() -> None:
    """Completions: import e-learning results, mark one by hand."""


@completion.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def completion_import(ctx: Context, file: str, as_json: bool) -> None:
    """Import e-learning completions (header: email,item,completed_on[,expires_on]).

    All rows or none: a bad row refuses the whole file, with its line number.
    """
    from store.completions import import_completions_csv
    from store.people import read_csv_file

    ctx.open()
    result = import_completions_csv(read_csv_file(file))
    if as_json:
        emit_json({"added": result.added, "skipped": result.skipped})
    else:
        click.echo(f"imported: {result.added} added, {result.skipped} already recorded")


@completion.command("add")
@click.argument("email")
@click.argument("item")
@click.option("--date", "on", metavar="YYYY-MM-DD", help="Completion date (default today).")
@click.option("--expires", metavar="YYYY-MM-DD")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def completion_add(
    ctx: Context, email: str, item: str, on: str | None, expires: str | None, as_json: bool
) -> None:
    """Mark an e-learning item completed by hand."""
    from store.completions import mark_elearning_done

    ctx.open()
    done = mark_elearning_done(email, item, on, expires)
    if as_json:
        emit_json(
            {
                "id": done.id,
                "completed_on": done.completed_on.isoformat(),
                "expires_on": done.expires_on.isoformat() if done.expires_on else None,
            }
        )
    else:
        click.echo(f"recorded: {email} completed {item!r} on {done.completed_on}")


@main.command()
@click.option("--days", metavar="N", help="Expiring within N days (default 30).")
@click.option("--email", metavar="EMAIL", help="Only this person.")
@click.option("--course", metavar="TITLE", help="Only this course.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def due(
    ctx: Context, days: str | None, email: str | None, course: str | None, as_json: bool
) -> None:
    """Who is due for renewal: completions expired or expiring within N days."""
    from store.completions import due_for_renewal

    ctx.open()
    n = _days(days)
    rows = [
        r.as_dict() for r in due_for_renewal(30 if n is None else n, email=email, course=course)
    ]
    if as_json:
        emit_json(rows)
    else:
        click.echo(_table(rows))


@main.command("book-next")
@click.argument("email")
@click.argument("course")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def book_next(ctx: Context, email: str, course: str, as_json: bool) -> None:
    """Book a person onto the next scheduled session of a course (the admin's renewal action)."""
    from store.completions import book_next_session

    ctx.open()
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
        click.echo(f"session {session.id} is full: waitlisted at {result.waitlist_position}")
    else:
        click.echo(f"enrolled on session {session.id}")


@main.command()
@click.argument("name")
@click.option("--days", metavar="N", help="Window of the expiring report (default 30).")
@click.option("--since", metavar="YYYY-MM-DD", help="Sessions starting on or after.")
@click.option("--until", metavar="YYYY-MM-DD", help="Sessions starting on or before.")
@click.option("--csv", "csv_file", metavar="FILE", help="Write the rows as CSV to FILE.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
@handle_errors
def report(
    ctx: Context,
    name: str,
    days: str | None,
    since: str | None,
    until: str | None,
    csv_file: str | None,
    as_json: bool,
) -> None:
    """Run a report: no-shows[-course|-department|-trainer], attendance[-weekly],
    responses, response-times, expiring, fill-rate[-monthly]."""
    from store.errors import ValidationError
    from store.reports import run_report, to_csv

    ctx.open()
    rows = run_report(
        name, days=_days(days), since=_date(since, "since"), until=_date(until, "until")
    )
    if csv_file:
        try:
            Path(csv_file).write_text(to_csv(rows), encoding="utf-8")
        except OSError as exc:
            raise ValidationError(f"cannot write {csv_file}: {exc}", field="csv") from exc
    if as_json:
        emit_json(rows)
    elif not csv_file:
        click.echo(_table(rows))
    else:
        click.echo(f"wrote {len(rows)} rows to {csv_file}")
