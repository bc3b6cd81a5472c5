"""Typed, frozen settings read from the TOML config file and ROLLCALL_* variables.

Discovery order, later wins:

1. defaults below;
2. the TOML file: ``--config PATH``, else ``$ROLLCALL_CONFIG``, else
   ``config.toml`` in the platformdirs user config directory (missing is fine);
3. ``ROLLCALL_<KEY>`` environment variables, one per key (``ROLLCALL_SMTP_HOST``
   overrides ``smtp_host``).

Errors name the file (or variable) and the key.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from store.errors import ValidationError

APP_NAME = "rollcall"
SECURITY_MODES = ("none", "starttls", "tls")


def system_timezone_name() -> str:
    """Best guess at the machine's IANA zone name; ``UTC`` when it cannot tell."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and _zone_exists(tz):
        return tz
    try:
        name = Path("/etc/timezone").read_text(encoding="utf-8").strip()
        if name and _zone_exists(name):
            return name
    except OSError:
        pass
    try:
        target = os.readlink("/etc/localtime")
        marker = "zoneinfo/"
        if marker in target:
            name = target.split(marker, 1)[1]
            if _zone_exists(name):
                return name
    except OSError:
        pass
    return "UTC"


def _zone_exists(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def default_config_path() -> Path:
    """Where the config file lives when neither --config nor ROLLCALL_CONFIG says."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    """The user data directory that holds the embedded SQLite database."""
    return Path(platformdirs.user_data_dir(APP_NAME))


@dataclass(frozen=True)
class Settings:
    """Everything rollcall can be configured with. Each field is a TOML key."""

    db: str = ""
    """Database URL: ``sqlite:///abs/path.db``, a file path, or ``postgresql://...``.
    Empty means ``rollcall.db`` in the user data directory."""

    db_password_command: str = ""
    """A command whose first output line is the PostgreSQL password (kept out of the URL)."""

    timezone: str = field(default_factory=system_timezone_name)
    """IANA zone in which times are entered and shown."""

    organizer_email: str = "training@example.org"
    """Address that sends invitations; it is also the iCalendar ORGANIZER."""

    organizer_name: str = "Training team"
    """Display name of the organizer."""

    smtp_host: str = ""
    """SMTP server; empty means mail is queued in the outbox but not sent."""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_password_command: str = ""
    """A command whose first output line is the SMTP password (instead of writing it down)."""
    smtp_security: str = "starttls"
    """``none``, ``starttls`` or ``tls``."""
    smtp_timeout: int = 300
    """Seconds to wait for the SMTP server's reply to a command (RFC 5321 §4.5.3.2: 5 minutes)."""
    smtp_data_timeout: int = 600
    """Seconds to wait for the reply to the end of a message's data (RFC 5321 §4.5.3.2:
    10 minutes): the server may still be delivering, and giving up early sends it twice."""

    imap_host: str = ""
    """IMAP server holding the organizer's mailbox; empty disables polling."""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: str = ""
    imap_password_command: str = ""
    imap_security: str = "tls"
    imap_folder: str = "INBOX"
    """Folder the RSVP replies arrive in."""
    imap_processed_folder: str = "rollcall/processed"
    """Folder handled replies are moved to (created if missing)."""

    reminder_hours: int = 24
    """Hours before the start at which reminders go out."""
    auto_promote: bool = True
    """Enrol the first waitlisted person as soon as a place frees up."""
    decline_cancels: bool = False
    """A declined invitation cancels the enrolment."""
    offer_hours: int = 0
    """Hours a freed place is offered to the first in line before it passes on; 0 gives it
    at once (sessions may override)."""
    request_expiry_hours: int = 24
    """Manager-approval requests still unanswered this many hours before the start expire."""
    app_runs_jobs: bool = True
    """The app sends mail, polls replies and queues reminders in the background while open.

    Set it false (``ROLLCALL_APP_RUNS_JOBS=false``) where a separate ``rollcall worker`` runs.
    """
    alias_domains: tuple[str, ...] = ()
    """Mail domains whose senders may answer for an attendee of the same local part."""
    meeting_url_template: str = "https://meet.jit.si/rollcall-{room}"
    """Template of generated meeting links; ``{room}`` is a token unique to the session."""
    max_message_bytes: int = 5_000_000
    """Inbound messages larger than this are logged and not parsed."""
    kiosk_opens_minutes: int = 30
    """The kiosk check-in opens this many minutes before a session starts."""
    kiosk_closes_minutes: int = 0
    """The kiosk check-in closes this many minutes after the start; 0 means at the end."""
    kiosk_exit_pin: str = ""
    """What the admin types after ``ctrl+x`` to leave the kiosk; the kiosk needs one."""
    busy_timeout: int = 30
    """Seconds to wait for another writer's lock on SQLite before giving up (exit 3)."""

    keymap: Mapping[str, str] = field(default_factory=dict)
    """Key remapping for the app: binding id -> keys."""
    logins: Mapping[str, str] = field(default_factory=dict)
    """Login name -> person email, so a learner's SSH login opens their own view."""
    admins: tuple[str, ...] = ()
    """Unix logins that are admins besides root and the account that owns the config/database."""
    authorized_keys: str = ""
    """The keys file `rollcall access` manages; empty means ``~/.ssh/authorized_keys``."""
    shell_command: str = "rollcall"
    """The program an SSH key's forced command runs (``rollcall`` on the PATH, or a full path)."""

    config_path: str = ""
    """The file these settings were read from (empty when none)."""

    @property
    def zone(self) -> ZoneInfo:
        """The configured zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    def db_secret(self) -> str | None:
        """The PostgreSQL password from the password command (None: the URL's, or PGPASSFILE)."""
        if not self.db_password_command:
            return None
        return _secret("", self.db_password_command, "db_password_command")

    def smtp_secret(self) -> str:
        """The SMTP password, running the password command when one is set."""
        return _secret(self.smtp_password, self.smtp_password_command, "smtp_password_command")

    def imap_secret(self) -> str:
        """The IMAP password, running the password command when one is set."""
        return _secret(self.imap_password, self.imap_password_command, "imap_password_command")


def _secret(plain: str, command: str, key: str) -> str:
    if not command:
        return plain
    try:
        out = subprocess.run(
            shlex.split(command), capture_output=True, text=True, check=True, timeout=30
        )
    except subprocess.CalledProcessError as exc:
        # Its arguments may hold a secret: name the key and the exit status only.
        raise ValidationError(
            f"the password command failed with exit status {exc.returncode}", field=key
        ) from None
    except subprocess.TimeoutExpired:
        raise ValidationError("the password command did not finish in 30 s", field=key) from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "cannot run it"
        raise ValidationError(f"the password command failed: {reason}", field=key) from None
    lines = out.stdout.splitlines()
    return lines[0] if lines else ""


_BOOL_TRUE = {"1", "true", "yes", "on"}
_BOOL_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, raw: Any, kind: Any, source: str) -> Any:
    where = f"{source}: {name}"
    if kind is bool or kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _BOOL_TRUE:
            return True
        if text in _BOOL_FALSE:
            return False
        raise ValidationError(f"{where}: expected true or false, got {raw!r}", field=name)
    if kind is int or kind == "int":
        if isinstance(raw, bool):
            raise ValidationError(f"{where}: expected a whole number, got {raw!r}", field=name)
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{where}: expected a whole number, got {raw!r}", field=name
            ) from None
    if kind in ("tuple[str, ...]",):
        if isinstance(raw, str):
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        if isinstance(raw, list) and all(isinstance(p, str) for p in raw):
            return tuple(raw)
        raise ValidationError(f"{where}: expected a list of strings", field=name)
    if kind in ("Mapping[str, str]",):
        if isinstance(raw, dict) and all(isinstance(v, str) for v in raw.values()):
            return dict(raw)
        raise ValidationError(f"{where}: expected a table of strings", field=name)
    if isinstance(raw, (dict, list)):
        raise ValidationError(f"{where}: expected a text value", field=name)
    return str(raw)


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read the config file and environment into a validated `Settings`.

    Raises `ValidationError` naming the file or variable and the key.
    """
    env = os.environ if environ is None else environ
    explicit = config_path or env.get("ROLLCALL_CONFIG")
    path = Path(explicit) if explicit else default_config_path()
    values: dict[str, Any] = {}
    types = {f.name: f.type for f in fields(Settings)}
    if path.exists():
        import tomllib  # only a program with a config file reads TOML

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ValidationError(f"{path}: cannot read the config file: {exc}", "config") from exc
        for key, raw in data.items():
            if key not in types or key == "config_path":
                raise ValidationError(f"{path}: unknown key {key!r}", field=key)
            values[key] = _coerce(key, raw, types[key], str(path))
        values["config_path"] = str(path)
        _refuse_readable_secrets(path, values)
    elif explicit:
        raise ValidationError(f"{path}: the config file does not exist", field="config")
    for key, kind in types.items():
        # Who is an admin, and which keys file, come from the file only: the
        # environment of whoever runs rollcall says nothing about identity.
        if key in ("keymap", "logins", "config_path", "admins", "authorized_keys"):
            continue
        var = f"ROLLCALL_{key.upper()}"
        if var in env:
            values[key] = _coerce(key, env[var], kind, var)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    _validate(settings)
    return settings


def _refuse_readable_secrets(path: Path, values: Mapping[str, Any]) -> None:
    """Refuse a config file holding a password that others can read, as ssh does."""
    secrets = [k for k in ("smtp_password", "imap_password") if values.get(k)]
    db = str(values.get("db") or "")
    if "://" in db and urlparse(db).password:
        secrets.append("db")
    if not secrets:
        return
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & 0o077:
        raise ValidationError(
            f"{path} holds a password ({', '.join(secrets)}) and others can read it "
            f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}",
            field="config",
        )


def _validate(s: Settings) -> None:
    if not _zone_exists(s.timezone):
        raise ValidationError(f"unknown time zone {s.timezone!r}", field="timezone")
    for key in ("smtp_security", "imap_security"):
        if getattr(s, key) not in SECURITY_MODES:
            raise ValidationError(
                f"must be one of {', '.join(SECURITY_MODES)}, got {getattr(s, key)!r}", field=key
            )
    for key in ("smtp_port", "imap_port"):
        if not 0 < getattr(s, key) < 65536:
            raise ValidationError("must be a port number between 1 and 65535", field=key)
    for key in ("smtp_timeout", "smtp_data_timeout"):
        if getattr(s, key) < 1:
            raise ValidationError("must be at least 1 second", field=key)
    for key in (
        "reminder_hours",
        "offer_hours",
        "request_expiry_hours",
        "kiosk_opens_minutes",
        "kiosk_closes_minutes",
    ):
        if getattr(s, key) < 0:
            raise ValidationError("must not be negative", field=key)
    if s.busy_timeout < 1:
        raise ValidationError("must be at least 1 second", field="busy_timeout")
    if "@" not in s.organizer_email:
        raise ValidationError("must be an email address", field="organizer_email")


_current: Settings | None = None


def use_settings(settings: Settings) -> None:
    """Make `settings` the ones the rules read (the CLI and app call this at start)."""
    global _current
    _current = settings


def current_settings() -> Settings:
    """The settings in force; the defaults plus environment when none were set."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current
