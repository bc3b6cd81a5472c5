"""`rollcall mail poll` and `rollcall mail inbound`: read RSVP replies and show the inbound log."""

from __future__ import annotations

import click

from tui.cli import Context, emit_json, handle_errors, mail_group, pass_ctx


@mail_group.command("poll")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@pass_ctx
@handle_errors
def mail_poll(ctx: Context, as_json: bool) -> None:
    """Read the IMAP folder once and apply the replies found."""
    settings = ctx.open()
    from mail.poller import poll_once

    report = poll_once(settings)
    if as_json:
        emit_json(report.as_dict())
    else:
        click.echo(
            f"{report.fetched} new message(s): {report.applied} applied, "
            f"{report.ignored} not applied"
        )


@mail_group.command("inbound")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the log as JSON.")
@pass_ctx
@handle_errors
def mail_inbound(ctx: Context, limit: int, offset: int, as_json: bool) -> None:
    """Show the inbound log: every message read, with its outcome and reason."""
    ctx.open()
    from store.rsvp import inbound_dict, inbound_log

    rows = [inbound_dict(entry) for entry in inbound_log(limit, offset)]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no inbound messages")
        return
    for row in rows:
        outcome = "recorded" if row["recorded"] else row["outcome"]
        who = row["email"] or row["from"] or "?"
        session = f"session {row['session_id']}" if row["session_id"] else "-"
        why = f" ({row['reason']})" if row["reason"] else ""
        click.echo(f"{row['received_at']}  {outcome:8}  {who}  {session}{why}")
