"""The scripting interface (docs/cli.md): `main`, the `rollcall` command group.

Each module holds one command group (or a few top-level commands); they are
named here and imported when one of them runs (or the help lists them), so
a command, the worker and the app load only their own module. Importing one
never registers anything by side effect. Nothing here loads Textual: the
worker and scripts start without the TUI.
"""

from __future__ import annotations

from cli.root import main

main.name_commands(
    {
        "init": "cli.setup:init",
        "demo": "cli.setup:demo",
        "person": "cli.people:person",
        "trainer": "cli.people:trainer",
        "session": "cli.sessions:session",
        "available": "cli.booking:available",
        "book": "cli.booking:book",
        "enrol": "cli.booking:enrol",
        "unbook": "cli.booking:unbook",
        "promote": "cli.booking:promote",
        "mark": "cli.booking:mark",
        "mail": "cli.mail:mail",
        "invite": "cli.mail:invite_command",
        "tick": "cli.worker:tick_command",
        "worker": "cli.worker:worker_command",
        "config": "cli.config:config_group",
        "pathway": "cli.pathways:pathway",
        "progress": "cli.pathways:progress",
        "completion": "cli.completions:completion",
        "due": "cli.completions:due",
        "book-next": "cli.completions:book_next",
        "report": "cli.reports:report",
        "attendance": "cli.attendance:attendance",
        "sheet": "cli.attendance:sheet",
        "kiosk": "cli.attendance:kiosk",
        "access": "cli.access:access",
        "shell": "cli.access:shell",
        "audit": "cli.access:audit",
        "approve": "cli.approvals:approve",
        "decline-request": "cli.approvals:decline_request",
        "requests": "cli.approvals:requests",
        "team": "cli.approvals:team",
        "interest": "cli.approvals:interest",
        "offer": "cli.approvals:offer",
        "backup": "cli.backup:backup_command",
        "restore": "cli.backup:restore_command",
        "check": "cli.backup:check_command",
    }
)

__all__ = ["main"]
