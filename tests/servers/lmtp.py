"""A minimal LMTP client (RFC 2033), enough for the SMTP relay to deliver into Dovecot."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from tests.servers.common import IO_TIMEOUT

# --------------------------------------------------------------------------- LMTP relay


class LmtpError(Exception):
    """LMTP answered something other than what the relay needed (or nothing at all)."""


class LmtpClient:
    """Minimal asyncio LMTP client (RFC 2033): enough to relay one message at a time.

    smtplib.LMTP reads a single reply after DATA, but LMTP answers once per
    accepted recipient, so a multi-recipient message would desynchronise it.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.in_transaction = False

    @classmethod
    async def open(cls, path: Path) -> LmtpClient:
        """Connect to the LMTP unix socket and greet it with LHLO."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), IO_TIMEOUT)
        client = cls(reader, writer)
        try:
            code, text = await client.reply()
            if code != 220:
                raise LmtpError(f"LMTP greeting {code} {text}")
            code, text = await client.command("LHLO rollcall-test-relay")
            if code != 250:
                raise LmtpError(f"LMTP LHLO {code} {text}")
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
                raise LmtpError("LMTP server closed the connection")
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if len(line) < 3 or not line[:3].isdigit():
                raise LmtpError(f"malformed LMTP reply {line!r}")
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
