"""`rollcall init` and `rollcall demo`: the schema and sample data."""

from __future__ import annotations

import click

from cli.context import Context, store_command


@click.command()
@store_command
def init(ctx: Context) -> None:
    """Create or upgrade the database schema."""
    from store.migrations import SCHEMA_VERSION

    click.echo(f"database ready (schema version {SCHEMA_VERSION})")


@click.command()
@click.option("--force", is_flag=True, help="Add demo data even if the database has data.")
@click.option("--if-empty", is_flag=True, help="Do nothing (exit 0) if the database has data.")
@click.option("--seed", type=int, default=7, show_default=True)
@store_command
def demo(ctx: Context, force: bool, if_empty: bool, seed: int) -> None:
    """Fill the database with realistic sample data."""
    from store.demo import fill_demo
    from store.models import Person

    if if_empty and Person.select().exists():
        click.echo("the database already has data; demo data not added")
        return
    summary = fill_demo(seed=seed, force=force)
    click.echo(
        f"demo data added: {summary['people']} people, {summary['trainers']} trainers, "
        f"{summary['sessions']} sessions, {summary['enrolments']} enrolments, "
        f"{summary['pathways']} pathways"
    )
