"""The scripting interface (docs/cli.md): `main`, the `rollcall` command group.

Each module holds one command group (or a few top-level commands); they are
added here, so importing one never registers anything by side effect. Nothing
here loads Textual: the worker and scripts start without the TUI.
"""

from __future__ import annotations

from cli import (
    access,
    approvals,
    attendance,
    backup,
    booking,
    completions,
    config,
    mail,
    pathways,
    people,
    reports,
    sessions,
    setup,
)
from cli import worker as worker_commands
from cli.root import main

for command in (
    setup.init,
    setup.demo,
    people.person,
    people.trainer,
    sessions.session,
    booking.available,
    booking.book,
    booking.enrol,
    booking.unbook,
    booking.promote,
    booking.mark,
    mail.mail,
    mail.invite_command,
    worker_commands.tick_command,
    worker_commands.worker_command,
    config.config_group,
    pathways.pathway,
    pathways.progress,
    completions.completion,
    completions.due,
    completions.book_next,
    reports.report,
    attendance.attendance,
    attendance.sheet,
    attendance.kiosk,
    access.access,
    access.shell,
    access.audit,
    approvals.approve,
    approvals.decline_request,
    approvals.requests,
    approvals.team,
    approvals.interest,
    approvals.offer,
    backup.backup_command,
    backup.restore_command,
    backup.check_command,
):
    main.add_command(command)

__all__ = ["main"]
