"""The service account's ``authorized_keys``: one forced-command line per person's key.

Each key rollcall manages is a line
``command="rollcall shell EMAIL",restrict,pty <type> <base64> <comment>``
(the gitolite / git-shell pattern): sshd runs `rollcall shell` for that
person whatever the client asks, with no port, agent or X11 forwarding and
no ~/.ssh/rc; ``pty`` gives back the terminal the app needs (sshd's
``PermitTTY`` still decides). Lines rollcall did not write are kept as they are. The
file is rewritten atomically (a temporary file, fsync, rename) under a lock,
mode 0600, so sshd never reads half a file.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import os
import pwd
import re
import shlex
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store.access import record, require, role_of, roles, set_role
from store.db import write_transaction
from store.errors import RuleViolation, ValidationError
from store.people import get_person
from store.settings import Settings

_OURS = re.compile(r'^command="(?P<command>[^"]*)",restrict(?:,pty)?\s+(?P<key>.*)$')
_SAFE_COMMENT = re.compile(r"[^\w@.+:=/-]+")


@dataclass(frozen=True)
class PublicKey:
    """One OpenSSH public key: type, base64 blob and comment."""

    type: str
    blob: str
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        """``SHA256:...`` as ``ssh-keygen -l`` prints it."""
        digest = hashlib.sha256(base64.b64decode(self.blob)).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")

    def line(self) -> str:
        """The key as it appears in a keys file."""
        return f"{self.type} {self.blob} {self.comment}".rstrip()


@dataclass(frozen=True)
class KeyLine:
    """A line of the keys file; `email` is set on the lines rollcall wrote."""

    text: str
    key: PublicKey | None = None
    email: str | None = None


def parse_key(text: str, field: str = "key") -> PublicKey:
    """Read one public key (``ssh-ed25519 AAAA... comment``); errors name `field`."""
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise ValidationError("is not an OpenSSH public key (type, key, comment)", field=field)
    kind, blob = parts[0], parts[1]
    try:
        raw = base64.b64decode(blob, validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        inner = raw[4 : 4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise ValidationError("holds no valid base64 key", field=field) from None
    if inner != kind or not kind.replace("-", "").replace("@", "").replace(".", "").isalnum():
        raise ValidationError(f"the key says {inner!r} but the line says {kind!r}", field=field)
    # The comment lands in a file sshd reads: keep it to one harmless word.
    comment = _SAFE_COMMENT.sub("_", parts[2].strip())[:100] if len(parts) > 2 else ""
    return PublicKey(kind, blob, comment)


def read_key_file(path: str | os.PathLike[str], field: str = "key") -> PublicKey:
    """The public key in a ``.pub`` file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path}: {exc}", field=field) from None
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1:
        raise ValidationError(f"{path} must hold exactly one public key", field=field)
    return parse_key(lines[0], field)


def keys_file(settings: Settings) -> Path:
    """The keys file: the ``authorized_keys`` setting, else ``~/.ssh/authorized_keys``."""
    if settings.authorized_keys:
        return Path(settings.authorized_keys).expanduser()
    return Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh" / "authorized_keys"


def _parse_line(text: str) -> KeyLine:
    match = _OURS.match(text)
    if match is None:
        return KeyLine(text)
    try:
        words = shlex.split(match["command"])
        key = parse_key(match["key"])
    except (ValueError, ValidationError):
        return KeyLine(text)
    if len(words) < 3 or words[-2] != "shell":
        return KeyLine(text)
    return KeyLine(text, key, words[-1])


def _foreign_key(text: str) -> str | None:
    # The base64 blob of a line rollcall did not write, to refuse granting it twice.
    for word in text.split():
        if len(word) > 40 and word.startswith("AAAA"):
            return word
    return None


def read_lines(path: Path) -> list[KeyLine]:
    """Every line of the keys file (none when it does not exist)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"cannot read {path}: {exc}", field="authorized_keys") from None
    return [_parse_line(line) for line in text.splitlines()]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(f"{path}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_atomically(path: Path, lines: Sequence[KeyLine]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".authorized_keys.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write("".join(f"{line.text}\n" for line in lines))
            out.flush()
            os.fchmod(out.fileno(), 0o600)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def forced_line(settings: Settings, email: str, key: PublicKey) -> str:
    """The keys-file line that runs `rollcall shell EMAIL` for `key`."""
    command = f"{settings.shell_command} shell {shlex.quote(email)}"
    if '"' in command or "\\" in command:
        raise ValidationError("must not hold quotes or backslashes", field="shell_command")
    return f'command="{command}",restrict,pty {key.line()}'


def grant(settings: Settings, email: str, role: str, keys: Sequence[PublicKey]) -> list[str]:
    """Give `email` the `role` and add `keys` to the keys file; returns their fingerprints.

    A key already held by another person (or by a line rollcall did not
    write) is refused, and then nothing changes.
    """
    path = keys_file(settings)
    with write_transaction(), _locked(path):
        require("access")
        person = get_person(email)
        lines = read_lines(path)
        held = {line.key.blob: line.email for line in lines if line.key is not None}
        foreign = {_foreign_key(line.text) for line in lines if line.key is None}
        added: list[KeyLine] = []
        for key in keys:
            holder = held.get(key.blob)
            if holder is not None and holder.lower() != person.email.lower():
                raise RuleViolation(f"{key.fingerprint} already belongs to {holder}", field="key")
            if key.blob in foreign:
                raise RuleViolation(
                    f"{key.fingerprint} is already in {path} for another use", field="key"
                )
            if holder is None and key.blob not in {k.key.blob for k in added if k.key}:
                added.append(KeyLine(forced_line(settings, person.email, key), key, person.email))
        before = set_role(person, role)
        fingerprints = [line.key.fingerprint for line in added if line.key]
        record(
            "access.grant",
            person=person,
            before={"role": before},
            after={"role": role, "keys": fingerprints},
        )
        if added:
            _write_atomically(path, lines + added)
        return fingerprints


def revoke(settings: Settings, email: str, fingerprint: str | None = None) -> list[str]:
    """Remove one key (by fingerprint) or all keys and the role of `email`; returns what went."""
    path = keys_file(settings)
    with write_transaction(), _locked(path):
        require("access")
        person = get_person(email)
        lines = read_lines(path)

        def goes(line: KeyLine) -> bool:
            mine = line.email is not None and line.email.lower() == person.email.lower()
            return mine and (fingerprint is None or line.key.fingerprint == fingerprint)  # type: ignore[union-attr]

        removed = [line.key.fingerprint for line in lines if goes(line) and line.key]
        if fingerprint is not None and not removed:
            raise ValidationError(f"{person.email} has no key {fingerprint}", field="key")
        role = role_of(person)
        if fingerprint is None:
            set_role(person, None)
        record(
            "access.revoke",
            person=person,
            before={"role": role},
            after={"role": role if fingerprint else "learner", "removed": removed},
        )
        if removed:
            _write_atomically(path, [line for line in lines if not goes(line)])
        return removed


def access_list(settings: Settings) -> list[dict[str, Any]]:
    """Everyone with a role or a key: ``[{"email", "role", "keys": [...]}]`` by email."""
    granted = {email.lower(): (email, role) for email, role in roles().items()}
    keys: dict[str, list[dict[str, str]]] = {}
    for line in read_lines(keys_file(settings)):
        if line.key is not None and line.email is not None:
            keys.setdefault(line.email.lower(), []).append(
                {"fingerprint": line.key.fingerprint, "comment": line.key.comment}
            )
    out = []
    for lower in sorted(set(granted) | set(keys)):
        email, role = granted.get(lower, (lower, "learner"))
        out.append({"email": email, "role": role, "keys": keys.get(lower, [])})
    return out
