"""`rollcall access`, `rollcall shell` (an SSH key's forced command) and `rollcall audit`."""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

import click

from cli.context import Context, fail, json_flag, say, show_rows, store_command

GLOBAL_OPTIONS = ("--db", "--config", "--as")
"""Options that would choose another database, config or person: never from a key."""

_SELF = frozenset({"available", "book", "unbook", "progress"})
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    "learner": _SELF,
    "manager": _SELF | {"session list", "session show", "requests", "team"},
    "trainer": _SELF
    | {"session list", "session show", "session finalise", "mark", "promote", "invite"},
}
"""What each role may run through its SSH key (admins: every command but `shell`).

The rules in `store/` check every change again; this list also keeps the
reading commands (people, mail, reports, audit) to the roles they are for.
"""


@click.group("access")
def access() -> None:
    """Who may reach rollcall over SSH, with which role."""


@access.command("grant")
@click.argument("email")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "trainer", "manager", "learner"])
)
@click.option("--key", "key_files", multiple=True, metavar="FILE.pub", help="A public key file.")
@store_command
def access_grant(ctx: Context, email: str, role: str, key_files: tuple[str, ...]) -> None:
    """Give a person a role and add their SSH keys to the service account's keys file."""
    from store.keys import grant, keys_file, read_key_file

    settings = ctx.settings
    keys = [read_key_file(path) for path in key_files]
    added = grant(settings, email, role, keys)
    say(f"{email}: role {role}; {len(added)} key(s) added to {keys_file(settings)}")
    for fingerprint in added:
        say(f"  {fingerprint}")


@access.command("revoke")
@click.argument("email")
@click.option("--key", "fingerprint", metavar="FINGERPRINT", help="Remove this key only.")
@store_command
def access_revoke(ctx: Context, email: str, fingerprint: str | None) -> None:
    """Remove one key, or every key and the role, of a person."""
    from store.keys import revoke

    settings = ctx.settings
    removed = revoke(settings, email, fingerprint)
    say(f"{email}: {len(removed)} key(s) removed" + ("" if fingerprint else "; role learner"))


@access.command("list")
@json_flag
@store_command
def access_list(ctx: Context, as_json: bool) -> None:
    """Everyone with a role or a key."""
    from store.access import require
    from store.keys import access_list as rows_of

    settings = ctx.settings
    require("access")
    rows = rows_of(settings)
    show_rows(as_json, rows, _access_line)


def _access_line(row: dict[str, Any]) -> str:
    keys = ", ".join(k["fingerprint"] for k in row["keys"]) or "no keys"
    return f"{row['email']:<32} {row['role']:<8} {keys}"


def _allowed(role: str, words: list[str]) -> bool:
    if role == "admin":
        return words[0] != "shell"
    allowed = ROLE_COMMANDS.get(role, frozenset())
    return words[0] in allowed or " ".join(words[:2]) in allowed


@click.command("shell")
@click.argument("email")
@store_command
def shell(ctx: Context, email: str) -> None:
    """The forced command of EMAIL's SSH key: the app, or one rollcall command as them.

    The person is the argument sshd ran this with, nothing else. With
    ``SSH_ORIGINAL_COMMAND`` set, it must be a rollcall command line their
    role allows; it runs on this account's database and config.
    """
    from cli.root import main
    from store.access import person_actor, set_actor
    from store.people import get_person

    settings = ctx.settings
    actor = person_actor(get_person(email))
    set_actor(actor)
    refusal = f"not allowed for {'an' if actor.role == 'admin' else 'a'} {actor.role}"
    try:
        words = shlex.split(os.environ.get("SSH_ORIGINAL_COMMAND", ""))
    except ValueError:
        fail("the command line cannot be read (unbalanced quotes)")
    if words and os.path.basename(words[0]) == "rollcall":
        words = words[1:]
    if not words:
        if ctx.open_app is None:
            fail("the app is not available here; give a command")
        ctx.open_app(settings, actor.name if actor.role == "learner" else None, restricted=True)
        return
    if words[0] in GLOBAL_OPTIONS or words[0].split("=", 1)[0] in GLOBAL_OPTIONS:
        fail(f"{words[0]} is not allowed from an SSH key; {refusal}")
    if words[0].startswith("-") or words[0] not in main.list_commands(click.get_current_context()):
        fail(f"only rollcall commands run here, not {words[0]!r}")
    if not _allowed(actor.role, words):
        fail(refusal)
    # This account's own database and config, as sshd started us; the person stays set.
    own = (["--db", ctx.db_url] if ctx.db_url else []) + (
        ["--config", ctx.config_path] if ctx.config_path else []
    )
    main.main(args=own + words, prog_name="rollcall", obj=ctx.open_app)
    sys.exit(0)


@click.command("audit")
@click.option("--since", metavar="YYYY-MM-DD", help="From this day on.")
@click.option("--session", "session_id", metavar="ID", help="Changes of this session.")
@click.option("--person", metavar="EMAIL", help="Changes about this person.")
@click.option("--actor", metavar="NAME", help="Changes made by this person, login or job.")
@click.option("--limit", metavar="N", help="At most N rows, newest first.")
@json_flag
@store_command
def audit(
    ctx: Context,
    since: str | None,
    session_id: str | None,
    person: str | None,
    actor: str | None,
    limit: str | None,
    as_json: bool,
) -> None:
    """Who changed what, newest first."""
    from store.access import audit_dict, audit_query
    from store.validate import parse_date, positive_int

    query = audit_query(
        since=parse_date(since, "since") if since else None,
        session=positive_int(session_id, "session") if session_id else None,
        person=person,
        actor=actor,
    )
    if limit is not None:
        query = query.limit(positive_int(limit, "limit"))
    rows = (audit_dict(entry) for entry in query.iterator())
    show_rows(as_json, rows, _audit_line)


def _audit_line(row: dict[str, Any]) -> str:
    where = f" session {row['session_id']}" if row["session_id"] is not None else ""
    who = f" {row['person']}" if row["person"] else ""
    line = f"{row['at'][:19]}  {row['actor']:<24} {row['action']:<18}{where}{who}"
    if row["before"] is not None or row["after"] is not None:
        line += f"\n    {row['before']} -> {row['after']}"
    return line
