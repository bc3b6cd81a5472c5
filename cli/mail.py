"""`rollcall mail` (send, outbox, poll, inbound) and `rollcall invite`."""

from __future__ import annotations

from typing import Any

import click

from cli.context import (
    EXIT_SERVICE,
    Context,
    emit_json,
    emit_json_rows,
    fail,
    json_flag,
    say,
    show,
    show_rows,
    store_command,
)


@click.group("mail")
def mail() -> None:
    """Mail: send the outbox, poll the mailbox, show both logs."""


@mail.command("send")
@json_flag
@store_command
def mail_send(ctx: Context, as_json: bool) -> None:
    """Drain the outbox once over one SMTP connection (exit 3 when SMTP is unreachable).

    SIGTERM or SIGINT ends it once the message in flight is recorded.
    """
    import asyncio

    settings = ctx.settings
    from mail.sender import drain_outbox
    from mail.worker import stop_on_signals

    async def send() -> Any:
        stop = asyncio.Event()
        with stop_on_signals(stop):
            return await drain_outbox(settings, stop=stop)

    report = asyncio.run(send())
    if as_json:
        emit_json(report.as_json())
    else:
        say(f"sent {report.sent}, failed {report.failed}, pending {report.pending}")
        for line in report.errors:
            click.echo(f"  {line}", err=True)
    if report.unreachable:
        fail(f"SMTP: {report.unreachable}; nothing lost, the mail stays queued", EXIT_SERVICE)


def _outbox_dict(row: Any) -> dict[str, Any]:
    import json

    from mail.compose import subject_for
    from store.serialize import iso

    subject = row.subject
    if not subject:
        try:
            subject = subject_for(json.loads(row.payload))
        except (ValueError, KeyError, TypeError):
            subject = ""
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "recipient": row.recipient,
        "session_id": row.session_id,
        "subject": subject,
        "attempts": row.attempts,
        "created_at": iso(row.created_at),
        "next_attempt_at": iso(row.next_attempt_at) if row.status == "pending" else None,
        "sent_at": iso(row.sent_at),
        "last_error": row.last_error,
        "message_id": row.message_id,
    }


@mail.command("outbox")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Newest N rows.")
@click.option("--since", metavar="YYYY-MM-DD", help="Queued on or after this day (site's zone).")
@json_flag
@store_command
def mail_outbox(
    ctx: Context, status: str | None, limit: int | None, since: str | None, as_json: bool
) -> None:
    """List queued, sent and failed mail, newest first (streamed)."""
    settings = ctx.settings
    from store.models import Outbox
    from store.outbox import counts, outbox_query
    from store.paging import day_bounds, keyset_pages

    first, _ = day_bounds(since, None, settings.zone, first_field="since")
    pages = keyset_pages(
        outbox_query(status, since=first), (Outbox.id, Outbox.id), limit=limit, descending=True
    )
    rows = (_outbox_dict(row) for page in pages for row in page)
    if as_json:
        emit_json_rows(rows)
        return
    summary = counts()
    say(", ".join(f"{n} {name}" for name, n in summary.items()))
    for row in rows:
        when = row["sent_at"] or row["next_attempt_at"] or row["created_at"]
        say(
            f"{row['id']:>6}  {row['status']:<8} {when[:16]}  "
            f"{row['recipient']:<30} {row['subject']}"
        )
        if row["last_error"] and row["status"] != "sent":
            say(f"        {row['last_error']}")


@mail.command("poll")
@json_flag
@store_command
def mail_poll(ctx: Context, as_json: bool) -> None:
    """Read the IMAP folder once and apply the replies found."""
    settings = ctx.settings
    from mail.poller import poll_once

    report = poll_once(settings)
    show(
        as_json,
        report.as_dict(),
        f"{report.fetched} new message(s): {report.applied} applied, {report.ignored} not applied",
    )


@mail.command("inbound")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Only the newest N entries (default: the whole log).",
)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--since", metavar="YYYY-MM-DD", help="Received on or after this day (site's zone).")
@json_flag
@store_command
def mail_inbound(
    ctx: Context, limit: int | None, offset: int, since: str | None, as_json: bool
) -> None:
    """Show the inbound log, newest first: every message read, with its outcome and reason.

    Without --limit the whole log is printed, as it is read.
    """
    settings = ctx.settings
    from store.inbound import InboundMessage
    from store.paging import day_bounds, keyset_pages
    from store.rsvp import inbound_dict, inbound_query

    first, _ = day_bounds(since, None, settings.zone, first_field="since")
    pages = keyset_pages(
        inbound_query(first),
        (InboundMessage.received_at, InboundMessage.id),
        limit=limit,
        offset=offset,
        descending=True,
    )
    rows = (inbound_dict(entry) for page in pages for entry in page)
    show_rows(as_json, rows, _inbound_line, empty="no inbound messages")


def _inbound_line(row: dict[str, Any]) -> str:
    outcome = "recorded" if row["recorded"] else row["outcome"]
    who = row["email"] or row["from"] or "?"
    session = f"session {row['session_id']}" if row["session_id"] else "-"
    why = f" ({row['reason']})" if row["reason"] else ""
    return f"{row['received_at']}  {outcome:8}  {who}  {session}{why}"


@click.command("invite")
@click.argument("session_id", metavar="ID")
@click.option("--to", "emails", multiple=True, metavar="EMAIL", help="Only these people.")
@click.option("--message", metavar="TEXT", help="A message sent with the invitation.")
@click.option("--subject", metavar="TEXT", help="Subject of the message (with --message).")
@json_flag
@store_command
def invite_command(
    ctx: Context,
    session_id: str,
    emails: tuple[str, ...],
    message: str | None,
    subject: str | None,
    as_json: bool,
) -> None:
    """Queue calendar invitations (default: every enrolled person); calendar becomes invited."""
    from store.outbox import invite

    result = invite(session_id, list(emails) or None, message, True, subject=subject)
    show(
        as_json,
        {"queued": result.queued, "invited": result.invited, "messaged": result.messaged},
        f"queued {result.queued} message(s); {len(result.invited)} invited",
    )
