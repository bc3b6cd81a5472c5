"""`rollcall tick` and `rollcall worker`: the status clock, reminders and the mail jobs."""

from __future__ import annotations

import sys

import click

from cli.context import Context, emit_json, json_flag, store_command


@click.command("tick")
@json_flag
@store_command
def tick_command(ctx: Context, as_json: bool) -> None:
    """Run the status clock once and queue due reminders."""
    from mail.tick import tick

    report = tick()
    if as_json:
        emit_json(report.as_json())
        return
    statuses = ", ".join(f"{n} {name.replace('_', ' ')}" for name, n in report.sessions.items())
    click.echo(f"queued {report.reminders} reminder(s); sessions: {statuses}")


@click.command("worker")
@store_command
def worker_command(ctx: Context) -> None:
    """Send mail, queue reminders and poll replies on intervals until SIGTERM or SIGINT."""
    import asyncio
    import logging

    settings = ctx.settings
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from mail.worker import run_worker

    asyncio.run(run_worker(settings))
