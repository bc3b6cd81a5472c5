"""Scripting commands for outbound mail: mail send/outbox, invite, tick, worker, config check."""

from __future__ import annotations

import sys
from typing import Any

import click

from tui.cli import (
    EXIT_RULE,
    EXIT_SERVICE,
    Context,
    emit_json,
    fail,
    handle_errors,
    mail_group,
    main,
    pass_ctx,
)


@mail_group.command("send")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@handle_errors
def mail_send(ctx: Context, as_json: bool) -> None:
    """Drain the outbox once over one SMTP connection (exit 3 when SMTP is unreachable)."""
    settings = ctx.open()
    from mail.sender import send_outbox

    report = send_outbox(settings)
    if as_json:
        emit_json(report.as_json())
    else:
        click.echo(f"sent {report.sent}, failed {report.failed}, pending {report.pending}")
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


@mail_group.command("outbox")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed"]))
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Newest N rows.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@handle_errors
def mail_outbox(ctx: Context, status: str | None, limit: int | None, as_json: bool) -> None:
    """List queued, sent and failed mail, newest first."""
    ctx.open()
    from store.outbox import counts, outbox_query

    rows = [_outbox_dict(row) for row in outbox_query(status, limit)]
    if as_json:
        emit_json(rows)
        return
    summary = counts()
    click.echo(", ".join(f"{n} {name}" for name, n in summary.items()))
    for row in rows:
        when = row["sent_at"] or row["next_attempt_at"] or row["created_at"]
        click.echo(
            f"{row['id']:>6}  {row['status']:<8} {when[:16]}  "
            f"{row['recipient']:<30} {row['subject']}"
        )
        if row["last_error"] and row["status"] != "sent":
            click.echo(f"        {row['last_error']}")


@main.command("invite")
@click.argument("session_id", metavar="ID")
@click.option("--to", "emails", multiple=True, metavar="EMAIL", help="Only these people.")
@click.option("--message", metavar="TEXT", help="A message sent with the invitation.")
@click.option("--subject", metavar="TEXT", help="Subject of the message (with --message).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@handle_errors
def invite_command(
    ctx: Context,
    session_id: str,
    emails: tuple[str, ...],
    message: str | None,
    subject: str | None,
    as_json: bool,
) -> None:
    """Queue calendar invitations (default: every enrolled person); calendar becomes invited."""
    ctx.open()
    from store.outbox import invite

    result = invite(session_id, list(emails) or None, message, True, subject=subject)
    if as_json:
        emit_json({"queued": result.queued, "invited": result.invited, "messaged": result.messaged})
        return
    click.echo(f"queued {result.queued} message(s); {len(result.invited)} invited")


@main.command("tick")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
@handle_errors
def tick_command(ctx: Context, as_json: bool) -> None:
    """Run the status clock once and queue due reminders."""
    ctx.open()
    from mail.jobs import tick

    report = tick()
    if as_json:
        emit_json(report.as_json())
        return
    statuses = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in report.sessions.items())
    click.echo(f"queued {report.reminders} reminder(s); sessions: {statuses}")


@main.command("worker")
@pass_ctx
@handle_errors
def worker_command(ctx: Context) -> None:
    """Send mail, queue reminders and poll replies on intervals until SIGTERM or SIGINT."""
    import asyncio
    import logging

    settings = ctx.open()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from mail.worker import run_worker

    asyncio.run(run_worker(settings))


@main.group("config")
def config_group() -> None:
    """Configuration: check what works."""


@config_group.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@pass_ctx
def config_check(ctx: Context, as_json: bool) -> None:
    """Connect to the database, SMTP and IMAP and say in plain words what works."""
    from mail.check import check_all

    try:
        settings = ctx.settings
    except Exception as exc:  # the settings themselves are wrong: say which key
        fail(f"configuration: {exc}", EXIT_RULE)
    results = check_all(settings)
    if as_json:
        emit_json([r.as_json() for r in results])
    else:
        if settings.config_path:
            click.echo(f"config file: {settings.config_path}")
        for result in results:
            mark = "ok  " if result.ok else "FAIL"
            click.echo(f"{mark} {result.service}: {result.detail}")
    if not all(r.ok for r in results):
        sys.exit(EXIT_SERVICE if any(r.unreachable for r in results) else EXIT_RULE)
