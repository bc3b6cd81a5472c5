"""The tests' SMTP server: aiosmtpd relaying into Dovecot over LMTP, with faults on demand."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.servers.common import IO_TIMEOUT
from tests.servers.lmtp import LmtpClient, LmtpError

if TYPE_CHECKING:
    from tests.servers.dovecot import MailServers


class RelaySMTP(SMTP):
    """aiosmtpd's SMTP with per-connection relay state and a registry of live connections."""

    def __init__(self, handler: RelayHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.relay_handler = handler
        self.lmtp: LmtpClient | None = None
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


class RelayHandler:
    """aiosmtpd handler that mirrors each SMTP transaction onto Dovecot's LMTP socket.

    RCPT is forwarded as it arrives, so an address Dovecot refuses (550 for an
    unknown user) is refused to the SMTP client at RCPT time with Dovecot's own
    reply, exactly like a real MTA that knows its mailboxes. DATA answers 250
    only after LMTP accepted the message for every recipient.
    """

    def __init__(self, servers: MailServers) -> None:
        self.servers = servers
        self.connections: set[RelaySMTP] = set()

    async def _lmtp(self, server: RelaySMTP, envelope: Envelope) -> LmtpClient:
        if server.lmtp is None:
            server.lmtp = await LmtpClient.open(self.servers.lmtp_socket)
        if not server.lmtp.in_transaction:
            code, text = await server.lmtp.command(f"MAIL FROM:<{envelope.mail_from}>")
            if code != 250:
                raise LmtpError(f"{code} {text}")
            server.lmtp.in_transaction = True
        return server.lmtp

    async def _reset(self, server: RelaySMTP) -> None:
        if server.lmtp is not None and server.lmtp.in_transaction:
            try:
                await server.lmtp.command("RSET")
                server.lmtp.in_transaction = False
            except (OSError, TimeoutError, LmtpError):
                server.lmtp.close()
                server.lmtp = None

    def _broken(self, server: RelaySMTP, exc: BaseException) -> str:
        if server.lmtp is not None:
            server.lmtp.close()
            server.lmtp = None
        # 4xx: the relay, not the recipient, is at fault, so a client may retry later.
        return f"451 4.4.0 relay to LMTP failed: {type(exc).__name__}: {exc}"

    async def handle_MAIL(
        self,
        server: RelaySMTP,
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
        server: RelaySMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Ask Dovecot about this recipient now and pass its verdict on verbatim."""
        try:
            lmtp = await self._lmtp(server, envelope)
            code, text = await lmtp.command(f"RCPT TO:<{address}>")
        except (OSError, TimeoutError, LmtpError, ValueError) as exc:
            return self._broken(server, exc)
        if 200 <= code < 300:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return f"{code} {text}"

    async def handle_RSET(self, server: RelaySMTP, session: Session, envelope: Envelope) -> str:
        """Abort the LMTP transaction along with the SMTP one."""
        await self._reset(server)
        return "250 OK"

    async def handle_DATA(self, server: RelaySMTP, session: Session, envelope: Envelope) -> str:
        """Deliver over LMTP; 250 only when every recipient's delivery was accepted."""
        if server.lmtp is None or envelope.original_content is None:
            return "451 4.4.0 relay lost its LMTP transaction"
        try:
            replies = await server.lmtp.data(envelope.original_content, len(envelope.rcpt_tos))
        except (OSError, TimeoutError, LmtpError, ValueError) as exc:
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


class RelayController(Controller):
    """Controller whose connections are RelaySMTP instances."""

    def factory(self) -> SMTP:
        """Build the SMTP protocol object for one connection."""
        return RelaySMTP(self.handler, **self.SMTP_kwargs)
