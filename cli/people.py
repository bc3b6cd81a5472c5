"""`rollcall person` and `rollcall trainer`: add, import and list people and trainers."""

from __future__ import annotations

from typing import Any

import click

from cli.context import (
    Context,
    csv_import_command,
    json_flag,
    show,
    show_rows,
    store_command,
)


@click.group()
def person() -> None:
    """People: add, import, list."""


@person.command("add")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--department", default="")
@click.option("--role", default="")
@click.option("--location", default="")
@click.option("--staff-number", default=None, help="Badge number accepted by the kiosk.")
@click.option("--manager", metavar="EMAIL", help="Who approves their training.")
@json_flag
@store_command
def person_add(
    ctx: Context,
    email: str,
    name: str,
    department: str,
    role: str,
    location: str,
    staff_number: str | None,
    manager: str | None,
    as_json: bool,
) -> None:
    """Add a person."""
    from store.approvals import add_person_with_manager
    from store.people import PersonInput

    created = add_person_with_manager(
        PersonInput(email, name, department, role, location, staff_number=staff_number), manager
    )
    show(as_json, _person_dict(created), f"added {created.email} (id {created.id})")


def _person_dict(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "name": p.name,
        "department": p.department,
        "staff_number": p.staff_number,
        "role": p.job_role,
        "location": p.location,
        "active": p.active,
        "manager": p.manager.email if p.manager_id else None,
    }


@person.command("import")
@csv_import_command
def person_import(text: str) -> tuple[dict[str, Any], str]:
    """Import people from CSV (header: email,name,department,role,location[,manager])."""
    from store.people import import_people_csv

    result = import_people_csv(text)
    return (
        {"added": len(result.new), "updated": len(result.updates)},
        f"imported: {len(result.new)} added, {len(result.updates)} updated",
    )


@person.command("list")
@click.option("--search", default="")
@click.option("--limit", metavar="N", help="At most N people.")
@click.option("--offset", metavar="N", help="Skip the first N people.")
@json_flag
@store_command
def person_list(
    ctx: Context, search: str, limit: str | None, offset: str | None, as_json: bool
) -> None:
    """List people (streamed)."""
    from store.models import Person
    from store.paging import keyset_pages, parse_count
    from store.people import people_query

    count = parse_count(limit, "limit", minimum=1)
    skip = parse_count(offset, "offset")
    pages = keyset_pages(people_query(search), (Person.name, Person.id), limit=count, offset=skip)
    rows = (_person_dict(p) for page in pages for p in page)
    show_rows(as_json, rows, _person_line)


def _person_line(p: dict[str, Any]) -> str:
    flag = "" if p["active"] else "  (inactive)"
    return (
        f"{p['email']:<32} {p['name']:<24} {p['department']:<16} {p['role']:<16} "
        f"{p['location']}{flag}"
    ).rstrip()


@click.group()
def trainer() -> None:
    """Trainers: add, list."""


@trainer.command("add")
@click.option("--email", required=True)
@click.option("--name", default=None)
@json_flag
@store_command
def trainer_add(ctx: Context, email: str, name: str | None, as_json: bool) -> None:
    """Register a trainer (the person is created if new)."""
    from store.people import add_trainer

    created = add_trainer(email, name)
    show(
        as_json,
        {"id": created.id, "email": created.person.email, "name": created.person.name},
        f"trainer {created.person.email} registered",
    )


@trainer.command("list")
@json_flag
@store_command
def trainer_list(ctx: Context, as_json: bool) -> None:
    """List trainers (streamed)."""
    from store.models import Person, Trainer
    from store.paging import keyset_pages

    query = Trainer.select(Trainer, Person).join(Person)
    rows = (
        {"id": t.id, "email": t.person.email, "name": t.person.name, "active": t.active}
        for page in keyset_pages(
            query, (Person.name, Trainer.id), key_of=lambda t: (t.person.name, t.id)
        )
        for t in page
    )
    show_rows(
        as_json,
        rows,
        lambda t: f"{t['email']:<32} {t['name']}{'' if t['active'] else '  (inactive)'}",
    )
