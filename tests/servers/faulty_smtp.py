"""SMTP servers on 127.0.0.1 that misbehave on purpose, for the sender's fault-injection tests.

Each `FaultySMTP` speaks just enough SMTP (greeting, EHLO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT) for aiosmtplib, in an asyncio loop of its own thread, and
records every message it received in full (`deliveries`), whatever it then
answers: a message whose reply never came counts as delivered, as it would be
by a real server that delivered and then crashed.

Behaviours:

- ``drop``: take the message, then drop the connection before replying (for
  every message, or with `only_to` for one recipient's messages only);
- ``421``: answer ``421`` to every MAIL FROM and close the connection;
- ``slow``: answer the end of the data after `delay` seconds;
- ``hang``: never answer the end of the data.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from types import TracebackType

from tests.servers.common import HOST, IO_TIMEOUT

BEHAVIOURS = ("drop", "421", "slow", "hang")
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class FaultySMTP:
    """A misbehaving SMTP server; use it in a ``with`` block, then read `deliveries`."""

    def __init__(self, behaviour: str, *, only_to: str | None = None, delay: float = 0.0) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}")
        self.behaviour = behaviour
        self.only_to = only_to
        self.delay = delay
        self.host = HOST
        self.port = 0
        self.connections = 0
        self.deliveries: list[tuple[str, str]] = []
        """(recipient, Message-ID) of every message whose data was received."""
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._writers: set[asyncio.StreamWriter] = set()

    def copies(self) -> Counter[str]:
        """How many times each Message-ID was received."""
        with self._lock:
            return Counter(message_id for _, message_id in self.deliveries)

    # ---- lifecycle

    def __enter__(self) -> FaultySMTP:
        self._thread = threading.Thread(target=self._run, name="faulty-smtp", daemon=True)
        self._thread.start()
        if not self._ready.wait(IO_TIMEOUT):
            raise RuntimeError("the faulty SMTP server did not start")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        loop = self._loop
        if loop is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(IO_TIMEOUT)
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(IO_TIMEOUT)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(asyncio.start_server(self._session, HOST, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()

    # ---- the dialogue

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        with self._lock:
            self.connections += 1

        def reply(text: str) -> None:
            writer.write(text.encode() + b"\r\n")

        try:
            reply("220 faulty.test ESMTP")
            recipients: list[str] = []
            while True:
                line = await reader.readline()
                if not line:
                    return
                verb = line[:4].decode("ascii", "replace").upper()
                if verb in ("EHLO", "HELO"):
                    reply("250 faulty.test")
                elif verb == "MAIL":
                    if self.behaviour == "421":
                        reply("421 4.3.2 service not available, closing the channel")
                        await writer.drain()
                        return
                    recipients = []
                    reply("250 OK")
                elif verb == "RCPT":
                    address = line.decode("ascii", "replace").split(":", 1)[1].strip()
                    recipients.append(address.strip("<> \r\n").split(">")[0])
                    reply("250 OK")
                elif verb == "DATA":
                    reply("354 end with <CRLF>.<CRLF>")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    if not await self._after_data(data, recipients, reply):
                        return
                elif verb in ("RSET", "NOOP"):
                    reply("250 OK")
                elif verb == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    return
                else:
                    reply("502 not implemented")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.transport.abort()

    async def _after_data(self, data: bytes, recipients: list[str], reply: object) -> bool:
        """Record the message and answer as the behaviour says; False drops the connection."""
        found = _MESSAGE_ID.search(data)
        message_id = found.group(1).decode() if found else ""
        with self._lock:
            self.deliveries += [(r, message_id) for r in recipients]
        if self.behaviour == "drop" and (self.only_to is None or self.only_to in recipients):
            return False
        if self.behaviour == "slow":
            await asyncio.sleep(self.delay)
        elif self.behaviour == "hang":
            await asyncio.sleep(3600)
        assert callable(reply)
        reply("250 OK queued")
        return True
