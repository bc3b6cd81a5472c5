"""`rollcall pathway` and `rollcall progress`: learning pathways and a person's progress."""

from __future__ import annotations

from typing import Any

import click

from cli.context import Context, emit_json, json_flag, say, show, show_rows, store_command
from cli.tables import text_table


@click.group()
def pathway() -> None:
    """Learning pathways: add, require, list, show."""


@pathway.command("add")
@click.option("--name", required=True)
@click.option("--description", default="")
@json_flag
@store_command
def pathway_add(ctx: Context, name: str, description: str, as_json: bool) -> None:
    """Create a pathway with no requirements yet."""
    from store.pathways import add_pathway

    created = add_pathway(name, description)
    show(as_json, {"id": created.id}, f"added pathway {created.name!r} (id {created.id})")


@pathway.command("require")
@click.argument("pathway_id")
@click.option("--course", "courses", multiple=True, metavar="TITLE", help="Repeatable.")
@click.option("--session", "sessions", multiple=True, metavar="ID", help="Repeatable.")
@click.option("--elearning", metavar="NAME")
@click.option("--mode", default="all", metavar="all|any", show_default=True)
@click.option("--label", default=None, help="Shown name (default: from the courses or item).")
@json_flag
@store_command
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

    requirement = add_requirement(
        pathway_id,
        courses=courses,
        sessions=sessions,
        elearning=elearning,
        mode=mode,
        label=label,
    )
    show(
        as_json,
        requirement_dict(requirement),
        f"requirement {requirement.position} added: {requirement.label}",
    )


@pathway.command("list")
@json_flag
@store_command
def pathway_list(ctx: Context, as_json: bool) -> None:
    """List pathways."""
    from store.pathways import list_pathways

    rows = list_pathways()
    show(
        as_json, rows, text_table([{k: r[k] for k in ("id", "name", "requirements")} for r in rows])
    )


@pathway.command("show")
@click.argument("pathway_id")
@json_flag
@store_command
def pathway_show(ctx: Context, pathway_id: str, as_json: bool) -> None:
    """Show a pathway and its requirements in order."""
    from store.pathways import get_pathway, pathway_dict

    data = pathway_dict(get_pathway(pathway_id))
    if as_json:
        emit_json(data)
        return
    say(f"{data['name']} (id {data['id']})")
    if data["description"]:
        say(data["description"])
    for r in data["requirements"]:
        what = r["elearning"] if r["kind"] == "elearning" else f"{r['mode']} of"
        parts = r["courses"] + [f"session {s}" for s in r["sessions"]]
        detail = f"e-learning: {what}" if r["kind"] == "elearning" else f"{what} {', '.join(parts)}"
        say(f"  {r['position']}. {r['label']}  [{detail}]")


@click.command()
@click.argument("email")
@click.option("--pathway", "pathway_id", metavar="PATHWAY_ID")
@json_flag
@store_command
def progress(ctx: Context, email: str, pathway_id: str | None, as_json: bool) -> None:
    """A person's progress on every pathway (or one)."""
    from store.pathways import progress as progress_of

    rows = progress_of(email, pathway_id)
    show_rows(as_json, rows, _progress_lines)


def _progress_lines(p: dict[str, Any]) -> str:
    lines = [f"{p['name']} (id {p['pathway']}): {p['percent']}%"]
    lines += [f"  [{'x' if r['done'] else ' '}] {r['label']}" for r in p["requirements"]]
    return "\n".join(lines)
