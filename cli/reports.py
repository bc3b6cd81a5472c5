"""`rollcall report`: the reports as text tables, JSON or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from cli.context import Context, emit_json, json_flag, say, store_command
from cli.tables import parse_day, parse_days, text_table


@click.command()
@click.argument("name")
@click.option("--days", metavar="N", help="Window of the expiring report (default 30).")
@click.option("--since", metavar="YYYY-MM-DD", help="Sessions starting on or after.")
@click.option("--until", metavar="YYYY-MM-DD", help="Sessions starting on or before.")
@click.option("--csv", "csv_file", metavar="FILE", help="Write the rows as CSV to FILE.")
@json_flag
@store_command
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
    from store.private_files import write_private_text
    from store.reports import run_report, to_csv

    rows = run_report(
        name,
        days=parse_days(days),
        since=parse_day(since, "since"),
        until=parse_day(until, "until"),
    )
    if csv_file:
        try:
            write_private_text(Path(csv_file), to_csv(rows))
        except OSError as exc:
            raise ValidationError(f"cannot write {csv_file}: {exc}", field="csv") from exc
    if as_json:
        emit_json(rows)
    elif not csv_file:
        say(text_table(rows))
    else:
        say(f"wrote {len(rows)} rows to {csv_file}")
