"""Pytest plugin: real PostgreSQL, Dovecot (IMAP + LMTP) and SMTP servers on 127.0.0.1.

Loaded with ``-p tests.servers`` (see pyproject.toml). Every fixture here is
session-scoped and private to the pytest process (each xdist worker gets its
own servers on its own free ports and temp dirs). When a server's binaries
are missing the fixture skips, except under ``CI=true``, where a missing
server is a failure: CI must never go green by skipping the real-server tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import grp
import itertools
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import psycopg2
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imap_tools import MailBoxUnencrypted, MailMessage
from psycopg2 import sql

HOST = "127.0.0.1"
"""Every server listens here only: tests never open a port beyond loopback."""

START_TIMEOUT = 20.0
"""Seconds a server may take to come up; generous because CI shares 2 cores with xdist."""

IO_TIMEOUT = 10.0
"""Seconds for one network round trip or admin command before we call it hung."""


# --------------------------------------------------------------------------- helpers


def _missing(what: str) -> NoReturn:
    """Skip (developer machine) or fail (CI) because a server's software is not installed."""
    hint = f"{what}; run `bash scripts/test` as root to install it"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {hint}", pytrace=False)
    pytest.skip(hint)


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    """Return the last lines of a log file, or a note that it does not exist."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"({path}: {exc.strerror})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def _port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port right now."""
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _is_root() -> bool:
    return os.geteuid() == 0


# --------------------------------------------------------------------------- PostgreSQL


def _postgres_bin_dir() -> Path | None:
    """Find initdb/pg_ctl: Debian's versioned dir (highest version first), else PATH."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


@dataclass
class PostgresServer:
    """A throwaway PostgreSQL cluster with trust auth for ``user`` on 127.0.0.1."""

    host: str
    port: int
    user: str
    data_dir: Path
    log_path: Path
    _names: Iterator[int] = field(default_factory=itertools.count, repr=False)

    def url(self, name: str) -> str:
        """Return the peewee/psycopg2 URL of database ``name`` on this server."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{name}"

    def connect(self, dbname: str = "postgres") -> Any:
        """Open an autocommit psycopg2 connection (the caller closes it)."""
        conn = psycopg2.connect(
            host=self.host, port=self.port, user=self.user, dbname=dbname, connect_timeout=5
        )
        # CREATE/DROP DATABASE cannot run inside a transaction block.
        conn.autocommit = True
        return conn

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a unique name when ``name`` is None) and return its URL."""
        if name is None:
            name = f"rollcall_test_{next(self._names)}_{uuid.uuid4().hex[:8]}"
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            conn.close()
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` (a name or a URL from create_database), even if still in use."""
        name = name.rsplit("/", 1)[-1]
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                # FORCE ends sessions a test leaked, so teardown cannot hang on them.
                cur.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        finally:
            conn.close()


def _as_postgres(cmd: Sequence[str]) -> list[str]:
    """Wrap a command so it runs as the ``postgres`` user when we are root (initdb refuses root)."""
    if not _is_root():
        return list(cmd)
    if shutil.which("runuser"):
        return ["runuser", "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def _run(
    cmd: Sequence[str], what: str, log: Path | None, cwd: Path, *, check: bool = True
) -> str | None:
    """Run an admin command with a timeout; None if it worked, else what went wrong.

    With ``check`` a failure fails the session at once, with the command's
    output and the tail of the server log.
    """
    try:
        done = subprocess.run(
            cmd, cwd=cwd, capture_output=True, text=True, timeout=START_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        failure = f"{what} did not finish in {START_TIMEOUT:.0f}s"
    else:
        if done.returncode == 0:
            return None
        failure = (
            f"{what} failed (exit {done.returncode}): {shlex.join(cmd)}\n{done.stdout}{done.stderr}"
        )
    if log is not None:
        failure += f"\n--- {log}:\n{_tail(log)}"
    if check:
        pytest.fail(failure, pytrace=False)
    return failure


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL cluster on a free 127.0.0.1 port for the test session."""
    bin_dir = _postgres_bin_dir()
    if bin_dir is None:
        _missing("PostgreSQL server binaries (initdb, pg_ctl) not found (Debian: postgresql)")
    if _is_root():
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _missing("running as root but there is no `postgres` user to run initdb as")
    else:
        owner = pwd.getpwuid(os.geteuid())

    base = Path(tempfile.mkdtemp(prefix="rollcall-pg-"))
    # The server user must be able to enter the dir; mkdtemp makes it 0700 for us.
    os.chown(base, owner.pw_uid, owner.pw_gid)
    data_dir, log_path = base / "data", base / "postgres.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    started = False
    try:
        _run(
            _as_postgres(
                [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres"]
                + ["--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
            ),
            "initdb",
            None,
            base,
        )
        # A port picked free can be taken before the server binds it: retry with another.
        for attempt in range(3):
            port = _free_port()
            # Durability is worthless for a cluster deleted at session end; speed is not.
            options = (
                f"-c listen_addresses={HOST} -p {port} -k {base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = [pg_ctl, "-D", str(data_dir), "-l", str(log_path), "-o", options]
            failure = _run(
                _as_postgres([*start, "-w", "-t", str(int(START_TIMEOUT)), "start"]),
                "pg_ctl start",
                log_path,
                base,
                check=attempt == 2,
            )
            if failure is None:
                break
            if "already in use" not in failure:
                pytest.fail(failure, pytrace=False)
        started = True
        server = PostgresServer(
            host=HOST, port=port, user="postgres", data_dir=data_dir, log_path=log_path
        )
        try:
            server.connect().close()
        except psycopg2.OperationalError as exc:
            pytest.fail(
                f"PostgreSQL started but refuses connections: {exc}\n{_tail(log_path)}",
                pytrace=False,
            )
        yield server
    finally:
        if started:
            _stop_postgres(pg_ctl, data_dir, base)
        shutil.rmtree(base, ignore_errors=True)


def _stop_postgres(pg_ctl: str, data_dir: Path, cwd: Path) -> None:
    """Stop the cluster; if pg_ctl cannot, kill the postmaster so it does not outlive pytest."""
    failure = _run(
        _as_postgres([pg_ctl, "-D", str(data_dir), "-m", "fast", "-w", "stop"]),
        "pg_ctl stop",
        None,
        cwd,
        check=False,
    )
    if failure is None:
        return
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data_dir / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards. Yields its URL."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


# --------------------------------------------------------------------------- LMTP relay


class _LmtpError(Exception):
    """LMTP answered something other than what the relay needed (or nothing at all)."""


class _Lmtp:
    """Minimal asyncio LMTP client (RFC 2033): enough to relay one message at a time.

    smtplib.LMTP reads a single reply after DATA, but LMTP answers once per
    accepted recipient, so a multi-recipient message would desynchronise it.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.in_transaction = False

    @classmethod
    async def open(cls, path: Path) -> _Lmtp:
        """Connect to the LMTP unix socket and greet it with LHLO."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), IO_TIMEOUT)
        client = cls(reader, writer)
        try:
            code, text = await client.reply()
            if code != 220:
                raise _LmtpError(f"LMTP greeting {code} {text}")
            code, text = await client.command("LHLO rollcall-test-relay")
            if code != 250:
                raise _LmtpError(f"LMTP LHLO {code} {text}")
        except BaseException:
            client.close()
            raise
        return client

    async def reply(self) -> tuple[int, str]:
        """Read one (possibly multi-line) reply and return its code and text."""
        texts = []
        while True:
            raw = await asyncio.wait_for(self._reader.readline(), IO_TIMEOUT)
            if not raw:
                raise _LmtpError("LMTP server closed the connection")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 3 or not line[:3].isdigit():
                raise _LmtpError(f"malformed LMTP reply {line!r}")
            texts.append(line[4:])
            if line[3:4] != "-":
                return int(line[:3]), " ".join(texts)

    async def command(self, line: str) -> tuple[int, str]:
        """Send one command line and return its reply."""
        self._writer.write(line.encode("utf-8") + b"\r\n")
        await asyncio.wait_for(self._writer.drain(), IO_TIMEOUT)
        return await self.reply()

    async def data(self, content: bytes, recipients: int) -> list[tuple[int, str]]:
        """Send the message and return one reply per accepted recipient, in RCPT order."""
        self.in_transaction = False
        code, text = await self.command("DATA")
        if code != 354:
            return [(code, text)] * recipients
        # aiosmtpd hands us the un-stuffed body with CRLF line ends; re-stuff leading dots.
        body = re.sub(rb"(?m)^\.", b"..", content)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self._writer.write(body + b".\r\n")
        await asyncio.wait_for(self._writer.drain(), IO_TIMEOUT)
        return [await self.reply() for _ in range(recipients)]

    def close(self) -> None:
        """Drop the connection without QUIT (Dovecot does not mind)."""
        self._writer.close()


class _RelaySMTP(SMTP):
    """aiosmtpd's SMTP with per-connection relay state and a registry of live connections."""

    def __init__(self, handler: _RelayHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.relay_handler = handler
        self.lmtp: _Lmtp | None = None
        self.accepted = 0  # messages accepted on this connection, for drop_after()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.relay_handler.connections.add(self)

    def connection_lost(self, error: Exception | None) -> None:
        self.relay_handler.connections.discard(self)
        if self.lmtp is not None:
            self.lmtp.close()
            self.lmtp = None
        super().connection_lost(error)


class _RelayHandler:
    """aiosmtpd handler that mirrors each SMTP transaction onto Dovecot's LMTP socket.

    RCPT is forwarded as it arrives, so an address Dovecot refuses (550 for an
    unknown user) is refused to the SMTP client at RCPT time with Dovecot's own
    reply, exactly like a real MTA that knows its mailboxes. DATA answers 250
    only after LMTP accepted the message for every recipient.
    """

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers
        self.connections: set[_RelaySMTP] = set()

    async def _lmtp(self, server: _RelaySMTP, envelope: Envelope) -> _Lmtp:
        if server.lmtp is None:
            server.lmtp = await _Lmtp.open(self.servers.lmtp_socket)
        if not server.lmtp.in_transaction:
            code, text = await server.lmtp.command(f"MAIL FROM:<{envelope.mail_from}>")
            if code != 250:
                raise _LmtpError(f"{code} {text}")
            server.lmtp.in_transaction = True
        return server.lmtp

    async def _reset(self, server: _RelaySMTP) -> None:
        if server.lmtp is not None and server.lmtp.in_transaction:
            try:
                await server.lmtp.command("RSET")
                server.lmtp.in_transaction = False
            except (OSError, TimeoutError, _LmtpError):
                server.lmtp.close()
                server.lmtp = None

    def _broken(self, server: _RelaySMTP, exc: BaseException) -> str:
        if server.lmtp is not None:
            server.lmtp.close()
            server.lmtp = None
        # 4xx: the relay, not the recipient, is at fault, so a client may retry later.
        return f"451 4.4.0 relay to LMTP failed: {type(exc).__name__}: {exc}"

    async def handle_MAIL(
        self,
        server: _RelaySMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Start a transaction, or drop the connection when drop_after's limit was reached."""
        limit = self.servers.drop_limit
        if limit is not None and server.accepted >= limit:
            # Abort (RST, no reply): the client sees the connection die mid-batch.
            if isinstance(server.transport, asyncio.WriteTransport):
                server.transport.abort()
            # connection_lost() runs on the next loop turn and cancels this session's
            # task while we sleep, which ends it quietly; the raise is only a backstop.
            await asyncio.sleep(IO_TIMEOUT)
            raise ConnectionResetError("dropped by drop_after()")
        await self._reset(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: _RelaySMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Ask Dovecot about this recipient now and pass its verdict on verbatim."""
        try:
            lmtp = await self._lmtp(server, envelope)
            code, text = await lmtp.command(f"RCPT TO:<{address}>")
        except (OSError, TimeoutError, _LmtpError, ValueError) as exc:
            return self._broken(server, exc)
        if 200 <= code < 300:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return f"{code} {text}"

    async def handle_RSET(self, server: _RelaySMTP, session: Session, envelope: Envelope) -> str:
        """Abort the LMTP transaction along with the SMTP one."""
        await self._reset(server)
        return "250 OK"

    async def handle_DATA(self, server: _RelaySMTP, session: Session, envelope: Envelope) -> str:
        """Deliver over LMTP; 250 only when every recipient's delivery was accepted."""
        if server.lmtp is None or envelope.original_content is None:
            return "451 4.4.0 relay lost its LMTP transaction"
        try:
            replies = await server.lmtp.data(envelope.original_content, len(envelope.rcpt_tos))
        except (OSError, TimeoutError, _LmtpError, ValueError) as exc:
            return self._broken(server, exc)
        for code, text in replies:
            if not 200 <= code < 300:
                return f"{code} {text}"
        server.accepted += 1
        return "250 OK delivered"

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        """Accept AUTH PLAIN/LOGIN for a mailbox's own address and password (like IMAP)."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        # handled=False: let aiosmtpd send its own 535 on failure.
        ok = self.servers.passwords.get(login) == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


class _RelayController(Controller):
    """Controller whose connections are _RelaySMTP instances."""

    def factory(self) -> SMTP:
        """Build the SMTP protocol object for one connection."""
        return _RelaySMTP(self.handler, **self.SMTP_kwargs)


# --------------------------------------------------------------------------- Dovecot + SMTP


def _dovecot_conf(base: Path, imap_port: int, mail_user: str, mail_group: str) -> str:
    """Dovecot 2.3 config for a private instance that never reads /etc/dovecot."""
    rootless = ""
    if not _is_root():
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
  {"chroot =" if not _is_root() else ""}
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
        self._handler = _RelayHandler(self)
        self._controller: _RelayController | None = None

    # ---- mailboxes

    def add_mailbox(self, address: str, password: str = "secret") -> str:
        """Create the mailbox ``address`` with ``password`` and return the address.

        Adding an existing address again with the same password is a no-op; a
        different password is refused, because Dovecot 2.3 may keep serving the
        old one (see ``_dovecot_conf``).
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
            raise AssertionError(f"{shlex.join(cmd)} hung\n{_tail(self.log_path)}") from exc
        if done.returncode != 0:
            raise AssertionError(
                f"{shlex.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"{_tail(self.log_path)}"
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
        controller = _RelayController(
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
        return _tail(self.log_path, lines)


_running_mail_servers: MailServers | None = None
"""The session's MailServers once started, for the autouse fault reset below."""


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    """Start Dovecot (IMAP + LMTP) and an SMTP relay into it, on 127.0.0.1, for the session."""
    global _running_mail_servers
    dovecot = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    doveadm = shutil.which("doveadm") or shutil.which("doveadm", path="/usr/bin:/usr/sbin")
    if dovecot is None or doveadm is None:
        _missing("Dovecot not found (Debian: dovecot-imapd dovecot-lmtpd)")
    version = subprocess.run(
        [dovecot, "--version"], capture_output=True, text=True, timeout=IO_TIMEOUT, check=False
    ).stdout.strip()
    if not version.startswith("2.3."):
        # 2.4 renamed most settings this config uses; it would not even parse.
        pytest.fail(
            f"tests/servers.py writes a Dovecot 2.3 config, found {version!r}", pytrace=False
        )

    if _is_root():
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
    if _is_root():
        shutil.chown(base / "mail", mail_user, mail_group)

    servers = MailServers(base, imap_port=0, smtp_port=0, doveadm=doveadm)
    servers.add_mailbox("postmaster@example.test")
    proc: subprocess.Popen[bytes] | None = None
    stderr_path = base / "dovecot.stderr"
    try:
        # A port picked free can be taken before Dovecot binds it: retry with another.
        for attempt in range(3):
            servers.imap_port = _free_port()
            servers.config.write_text(_dovecot_conf(base, servers.imap_port, mail_user, mail_group))
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
                if servers.lmtp_socket.exists() and _port_open(servers.imap_port):
                    break
                time.sleep(0.02)
            else:
                failure = (
                    f"Dovecot did not come up on {HOST}:{servers.imap_port} within "
                    f"{START_TIMEOUT:.0f}s (exit code {proc.poll()})\n"
                    f"--- {stderr_path}:\n{_tail(stderr_path)}\n"
                    f"--- {servers.log_path}:\n{servers.log_tail()}"
                )
                _stop_process(proc)
                proc = None
                # The imap/lmtp binaries come from separate packages; the master only
                # notices they are missing when it starts.
                if re.search(r"service\((imap|lmtp)\) access\(.*No such file", failure):
                    _missing("Dovecot lacks IMAP or LMTP (Debian: dovecot-imapd dovecot-lmtpd)")
                if "Address already in use" not in failure or attempt == 2:
                    pytest.fail(failure, pytrace=False)
                continue
            break

        for attempt in range(3):
            servers.smtp_port = _free_port()
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
            _stop_process(proc)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(autouse=True)
def _undo_smtp_faults() -> Iterator[None]:
    """After every test, undo stop_smtp()/drop_after() so no fault leaks into the next test."""
    yield
    if _running_mail_servers is not None:
        _running_mail_servers.reset()


def _stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a child server and reap it; kill it if it ignores SIGTERM."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=IO_TIMEOUT)
