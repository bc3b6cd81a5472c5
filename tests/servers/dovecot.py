"""A private Dovecot (IMAP + LMTP) with the SMTP relay in front, for the test session."""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted, MailMessage

from tests.servers.common import (
    HOST,
    IO_TIMEOUT,
    START_TIMEOUT,
    free_port,
    is_root,
    missing,
    port_open,
    stop_process,
    tail,
)
from tests.servers.smtp_relay import RelayController, RelayHandler

# --------------------------------------------------------------------------- Dovecot + SMTP


def dovecot_conf(base: Path, imap_port: int, mail_user: str, mail_group: str) -> str:
    """Dovecot 2.3 config for a private instance that never reads /etc/dovecot."""
    rootless = ""
    if not is_root():
        # Without root, Dovecot cannot switch users or chroot; run everything as us.
        rootless = f"""
default_internal_user = {mail_user}
default_internal_group = {mail_group}
default_login_user = {mail_user}
service anvil {{
  chroot =
}}
"""
    return f"""\
base_dir = {base}/run
state_dir = {base}/state
instance_name = rollcall-test-{base.name}
log_path = {base}/dovecot.log
protocols = imap lmtp
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# sdbox stays fast as a mailbox grows; fsync buys nothing for a throwaway store.
mail_location = sdbox:~/sdbox
mail_fsync = never
# Mail is owned by an unprivileged user whose uid may be below the default 500.
first_valid_uid = 1
# One passwd file per user: Dovecot 2.3 stats a passwd file at most once per
# second and serves its cached copy in between, so a user appended to a shared
# file can stay unknown for up to a second. A file nobody looked up yet is read
# at once, and a missing one is not cached.
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users/%u
  # uid= also lets root's doveadm drop privileges for expunge/list.
  default_fields = uid={mail_user} gid={mail_group} home={base}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = {HOST}
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  {"chroot =" if not is_root() else ""}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
{rootless}"""


class MailServers:
    """Handles to the session's Dovecot (IMAP, LMTP) and the aiosmtpd relay in front of it.

    Mailboxes are addresses (``alice@example.test``) with a password; IMAP
    login, SMTP AUTH and LMTP recipients all use the full address.
    """

    def __init__(self, base: Path, imap_port: int, smtp_port: int, doveadm: str) -> None:
        self.base = base
        self.smtp_host = HOST
        self.smtp_port = smtp_port
        self.imap_host = HOST
        self.imap_port = imap_port
        self.lmtp_socket = base / "run" / "lmtp"
        self.config = base / "dovecot.conf"
        self.log_path = base / "dovecot.log"
        self.passwords: dict[str, str] = {}
        self.drop_limit: int | None = None
        self._doveadm = doveadm
        self._passwd_lock = threading.Lock()
        self._handler = RelayHandler(self)
        self._controller: RelayController | None = None

    # ---- mailboxes

    def add_mailbox(self, address: str, password: str = "secret") -> str:
        """Create the mailbox ``address`` with ``password`` and return the address.

        Adding an existing address again with the same password is a no-op; a
        different password is refused, because Dovecot 2.3 may keep serving the
        old one (see ``dovecot_conf``).
        """
        with self._passwd_lock:
            known = self.passwords.get(address)
            if known is not None:
                if known != password:
                    raise ValueError(f"{address} already exists with another password")
                return address
            if "/" in address or address.startswith("."):
                raise ValueError(f"not usable as a mailbox file name: {address!r}")
            # Write-then-rename: Dovecot must never read a half-written file.
            tmp = self.base / "users" / f".{address}.tmp"
            tmp.write_text(f"{address}:{{PLAIN}}{password}::::::\n")
            tmp.chmod(0o644)
            tmp.replace(self.base / "users" / address)
            self.passwords[address] = password
        return address

    def mailbox(self, address: str, password: str | None = None) -> MailBoxUnencrypted:
        """Return a logged-in imap_tools mailbox for ``address`` (use it in a ``with``)."""
        if password is None:
            password = self.passwords[address]
        box = MailBoxUnencrypted(self.imap_host, port=self.imap_port, timeout=IO_TIMEOUT)
        try:
            return box.login(address, password)
        except BaseException:
            box.client.shutdown()  # a failed login must not leak the socket
            raise

    def messages(self, address: str, folder: str = "INBOX") -> list[MailMessage]:
        """Fetch every message in one folder without marking it seen."""
        with self.mailbox(address) as box:
            box.folder.set(folder)
            return list(box.fetch(mark_seen=False, bulk=True))

    def wipe(self, address: str) -> None:
        """Empty every folder of ``address`` and delete all folders but INBOX."""
        self.doveadm("expunge", "-u", address, "mailbox", "*", "all")
        listed = self.doveadm("mailbox", "list", "-u", address).split("\n")
        folders = [name for name in listed if name and name != "INBOX"]
        if folders:
            # Deepest first, so a parent is empty by the time it is deleted.
            folders.sort(key=lambda name: name.count("/"), reverse=True)
            self.doveadm("mailbox", "delete", "-u", address, "-s", *folders)

    def doveadm(self, *args: str) -> str:
        """Run ``doveadm -c <private config> ARGS`` and return its stdout."""
        cmd = [self._doveadm, "-c", str(self.config), *args]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=IO_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{shlex.join(cmd)} hung\n{tail(self.log_path)}") from exc
        if done.returncode != 0:
            raise AssertionError(
                f"{shlex.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"{tail(self.log_path)}"
            )
        return done.stdout

    # ---- SMTP faults

    @property
    def smtp_running(self) -> bool:
        """Whether the SMTP server is accepting connections."""
        return self._controller is not None

    def start_smtp(self) -> None:
        """Start the SMTP server on ``smtp_port`` (the same port every time); no-op if running."""
        if self._controller is not None:
            return
        controller = RelayController(
            self._handler,
            hostname=HOST,
            port=self.smtp_port,
            server_hostname="smtp.rollcall.test",
            ready_timeout=START_TIMEOUT,
            authenticator=self._handler.authenticate,
            # Loopback only, so plaintext AUTH is fine and avoids a TLS setup.
            auth_require_tls=False,
        )
        controller.start()
        self._controller = controller

    def stop_smtp(self) -> None:
        """Stop the SMTP server: open connections are reset and new ones are refused."""
        controller = self._controller
        if controller is None:
            return
        self._controller = None

        async def abort_all() -> None:
            for conn in list(self._handler.connections):
                if isinstance(conn.transport, asyncio.WriteTransport):
                    conn.transport.abort()

        # Controller.stop() only closes the listener; live sessions would linger.
        asyncio.run_coroutine_threadsafe(abort_all(), controller.loop).result(IO_TIMEOUT)
        controller.stop()

    def drop_after(self, n: int | None) -> None:
        """Make the SMTP server reset each connection once it accepted ``n`` messages.

        The connection dies (no reply) when the client starts message n+1 with
        MAIL FROM, so exactly ``n`` messages per connection are delivered. The
        limit applies to every connection, new or open, until ``drop_after(None)``.
        """
        if n is not None and n < 0:
            raise ValueError("drop_after needs n >= 0 or None")
        self.drop_limit = n

    def reset(self) -> None:
        """Undo fault injection: SMTP running, no connection drops."""
        self.drop_after(None)
        self.start_smtp()

    def log_tail(self, lines: int = 30) -> str:
        """The end of Dovecot's log, for assertion messages."""
        return tail(self.log_path, lines)


_running_mail_servers: MailServers | None = None
"""The session's MailServers once started, for the autouse fault reset below."""


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Start Dovecot (IMAP + LMTP) and an SMTP relay into it, on 127.0.0.1, for the session."""
    global _running_mail_servers
    dovecot = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
    if dovecot is None or doveadm is None:
        missing("Dovecot not found (Debian: dovecot-imapd dovecot-lmtpd)")
    version = subprocess.run(
        [dovecot, "--version"], capture_output=True, text=True, timeout=IO_TIMEOUT, check=False
    ).stdout.strip()
    if not version.startswith("2.3."):
        # 2.4 renamed most settings this config uses; it would not even parse.
        pytest.fail(
            f"tests/servers/dovecot.py writes Dovecot 2.3 settings, found {version!r}",
            pytrace=False,
        )

    if is_root():
        mail_user = "nobody"
        mail_group = grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name
    else:
        mail_user = pwd.getpwuid(os.geteuid()).pw_name
        mail_group = grp.getgrgid(os.getegid()).gr_name

    base = Path(tempfile.mkdtemp(prefix="rollcall-mail-"))
    # Dovecot's unprivileged processes must traverse base to reach run/, mail/ and users/.
    base.chmod(0o755)
    for sub in ("run", "state", "mail", "users"):
        (base / sub).mkdir()
    if is_root():
        shutil.chown(base / "mail", mail_user, mail_group)

    servers = MailServers(base, imap_port=0, smtp_port=0, doveadm=doveadm)
    servers.add_mailbox("postmaster@example.test")
    proc: subprocess.Popen[bytes] | None = None
    stderr_path = base / "dovecot.stderr"
    try:
        # A port picked free can be taken before Dovecot binds it: retry with another.
        for attempt in range(3):
            servers.imap_port = free_port()
            servers.config.write_text(dovecot_conf(base, servers.imap_port, mail_user, mail_group))
            with stderr_path.open("wb") as err:
                # -F keeps the master our child, so terminate()+wait() reaps it for sure.
                proc = subprocess.Popen(
                    [dovecot, "-F", "-c", str(servers.config)],
                    stdin=subprocess.DEVNULL,
                    stdout=err,
                    stderr=subprocess.STDOUT,
                )
            deadline = time.monotonic() + START_TIMEOUT
            while proc.poll() is None and time.monotonic() < deadline:
                if servers.lmtp_socket.exists() and port_open(servers.imap_port):
                    break
                time.sleep(0.02)
            else:
                failure = (
                    f"Dovecot did not come up on {HOST}:{servers.imap_port} within "
                    f"{START_TIMEOUT:.0f}s (exit code {proc.poll()})\n"
                    f"--- {stderr_path}:\n{tail(stderr_path)}\n"
                    f"--- {servers.log_path}:\n{servers.log_tail()}"
                )
                stop_process(proc)
                proc = None
                # The imap/lmtp binaries come from separate packages; the master only
                # notices they are missing when it starts.
                if re.search(r"service\((imap|lmtp)\) access\(.*No such file", failure):
                    missing("Dovecot lacks IMAP or LMTP (Debian: dovecot-imapd dovecot-lmtpd)")
                if "Address already in use" not in failure or attempt == 2:
                    pytest.fail(failure, pytrace=False)
                continue
            break

        for attempt in range(3):
            servers.smtp_port = free_port()
            try:
                servers.start_smtp()
                break
            except OSError as exc:  # lost the race for the port
                if attempt == 2:
                    pytest.fail(f"SMTP server could not bind: {exc}", pytrace=False)
        _running_mail_servers = servers
        yield servers
    finally:
        _running_mail_servers = None
        servers.stop_smtp()
        if proc is not None:
            stop_process(proc)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def undo_smtp_faults() -> Iterator[None]:
    """After every test, undo stop_smtp()/drop_after() so no fault leaks into the next test."""
    yield
    if _running_mail_servers is not None:
        _running_mail_servers.reset()
