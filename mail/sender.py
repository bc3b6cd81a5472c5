"""Drain the outbox over one reused SMTP connection (aiosmtplib), with claims and retries.

Rendering overlaps the network: a producer task renders the next messages
while the SMTP dialogue of the current one waits for the server. A row is
marked sent only after the server accepted it; a refused recipient (5xx) fails
that row alone; a dropped connection is re-opened and the batch goes on; a
server that cannot be reached leaves every row pending and is reported.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import aiosmtplib

from mail import ical
from mail.compose import render_bytes, subject_for
from store import outbox
from store.clock import utcnow
from store.errors import ServiceUnavailable, ValidationError
from store.models import Outbox
from store.settings import Settings

log = logging.getLogger("rollcall.mail.sender")

CONNECT_TIMEOUT = 30.0
RECONNECT_TRIES = 3
FLUSH_EVERY = 100
FLUSH_SECONDS = 1.0
"""Accepted rows are recorded as sent in groups of up to `FLUSH_EVERY`, at least every
`FLUSH_SECONDS` (and at the end of each batch): few statements, yet a crash re-sends
at most about a second's worth."""
RENDER_AHEAD = 32


@dataclass
class SendReport:
    """What one drain did; `unreachable` says why SMTP could not be used, if it could not."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    pending: int = 0
    unreachable: str | None = None
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, int]:
        """The `mail send --json` document."""
        return {"sent": self.sent, "failed": self.failed, "pending": self.pending}


@dataclass(frozen=True)
class Rendered:
    """A claimed row ready to go: envelope and the prebuilt bytes."""

    row_id: int
    sender: str
    recipient: str
    data: bytes
    subject: str
    invited: bool


def render_row(row: Outbox, now: datetime | None = None) -> Rendered:
    """Render one outbox row into the bytes sent over SMTP."""
    payload = json.loads(row.payload)
    data = render_bytes(payload, message_id=row.message_id, created_at=row.created_at, now=now)
    return Rendered(
        row_id=row.id,
        sender=payload["organizer"]["email"],
        recipient=row.recipient,
        data=data,
        subject=subject_for(payload),
        # `invite` already set the state for its own kinds; the others carry it on the side.
        invited=ical.method_for(payload) == ical.REQUEST
        and row.enrolment_id is not None
        and row.kind not in ("invitation", "message"),
    )


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    """An unconnected client configured from `settings` (security, login)."""
    if not settings.smtp_host:
        raise ValidationError("SMTP is not configured; set smtp_host", field="smtp_host")
    security = settings.smtp_security
    user = settings.smtp_user or None
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        use_tls=security == "tls",
        start_tls=True if security == "starttls" else False,
        username=user,
        password=settings.smtp_secret() if user else None,
        timeout=CONNECT_TIMEOUT,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.replace("\n", " ")


async def connect(settings: Settings) -> aiosmtplib.SMTP:
    """Connect (and STARTTLS/TLS/log in as configured); `ServiceUnavailable` when it cannot."""
    client = smtp_client(settings)
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        # A refused login leaves the socket open; do not leak it.
        client.close()
        raise ServiceUnavailable(
            "SMTP", f"{settings.smtp_host}:{settings.smtp_port}: {_describe(exc)}"
        ) from exc
    return client


_CONNECTION_ERRORS = (
    aiosmtplib.SMTPServerDisconnected,
    aiosmtplib.SMTPConnectError,
    aiosmtplib.SMTPTimeoutError,
    ConnectionError,
    OSError,
    TimeoutError,
)


class _Drain:
    def __init__(self, settings: Settings, owner: str, stop: asyncio.Event | None) -> None:
        self.settings = settings
        self.owner = owner
        self.stop = stop
        self.report = SendReport()
        self.accepted: list[outbox.Sent] = []
        self.client: aiosmtplib.SMTP | None = None
        self.flushed_at = time.monotonic()

    def flush(self) -> None:
        if self.accepted:
            outbox.mark_sent(self.owner, self.accepted)
            self.accepted = []
        self.flushed_at = time.monotonic()

    async def reconnect(self) -> bool:
        if self.client is not None:
            self.client.close()
        for attempt in range(RECONNECT_TRIES):
            try:
                self.client = await connect(self.settings)
                log.info("reconnected to SMTP")
                return True
            except ServiceUnavailable as exc:
                self.report.unreachable = exc.detail
                await asyncio.sleep(0.2 * (attempt + 1))
        return False

    async def send_one(self, item: Rendered) -> bool:
        """Send one message; False when the connection is gone for good."""
        while True:
            assert self.client is not None
            try:
                await self.client.sendmail(item.sender, [item.recipient], item.data)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients[0] if exc.recipients else None
                code = refused.code if refused else 550
                self.failure(item, code, _describe(refused or exc))
                return True
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code in (421,) or not self.client.is_connected:
                    # 421: the server is closing the channel; the message was not taken.
                    if await self.reconnect():
                        continue
                    return False
                self.failure(item, exc.code, _describe(exc))
                return True
            except _CONNECTION_ERRORS as exc:
                log.warning("SMTP connection lost (%s); reconnecting", _describe(exc))
                if await self.reconnect():
                    continue
                return False
            self.accepted.append(outbox.Sent(item.row_id, item.subject, item.invited))
            self.report.sent += 1
            if (
                len(self.accepted) >= FLUSH_EVERY
                or time.monotonic() - self.flushed_at >= FLUSH_SECONDS
            ):
                self.flush()
            return True

    def failure(self, item: Rendered, code: int, text: str) -> None:
        error = f"{code} {text}"
        self.flush()
        if 500 <= code < 600:
            outbox.mark_failed(self.owner, item.row_id, error)
            self.report.failed += 1
            log.warning("message %s to %s refused: %s", item.row_id, item.recipient, error)
        else:
            status = outbox.retry_later(self.owner, item.row_id, error)
            self.report.failed += status == "failed"
            self.report.retried += status == "pending"
            log.info("message %s to %s deferred: %s", item.row_id, item.recipient, error)
        self.report.errors.append(f"{item.recipient}: {error}")

    async def run_batch(self, rows: list[Outbox]) -> bool:
        """Send one claimed batch; False when SMTP went away (the rest is released)."""
        queue: asyncio.Queue[Rendered | None] = asyncio.Queue(maxsize=RENDER_AHEAD)
        now = utcnow()
        unsent = {row.id for row in rows}

        async def produce() -> None:
            for row in rows:
                try:
                    item = render_row(row, now)
                except Exception as exc:  # a broken payload must not stop the others
                    outbox.mark_failed(self.owner, row.id, f"cannot render: {_describe(exc)}")
                    self.report.failed += 1
                    unsent.discard(row.id)
                    continue
                await queue.put(item)
            await queue.put(None)

        producer = asyncio.create_task(produce())
        ok = True
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if self.stop is not None and self.stop.is_set():
                    break
                if not await self.send_one(item):
                    ok = False
                    break
                unsent.discard(item.row_id)
        finally:
            producer.cancel()
            try:
                await producer
            except asyncio.CancelledError:
                pass
            self.flush()
            outbox.release(
                self.owner,
                unsent,
                None if ok else f"SMTP unreachable: {self.report.unreachable}",
            )
        return ok


async def drain_outbox(
    settings: Settings,
    *,
    owner: str | None = None,
    batch_size: int = 500,
    stop: asyncio.Event | None = None,
    limit: int | None = None,
    on_progress: Callable[[SendReport], None] | None = None,
) -> SendReport:
    """Send every due outbox row once over one SMTP connection and return what happened.

    `report.unreachable` is set (and nothing is lost: unsent rows stay pending)
    when the server cannot be reached or goes away for good. `stop` ends the
    drain after the message in flight. `limit` caps how many rows are taken;
    `on_progress` is called after each batch (for a status line).
    """
    owner = owner or outbox.sender_id()
    drain = _Drain(settings, owner, stop)
    try:
        drain.client = await connect(settings)
    except ServiceUnavailable as exc:
        drain.report.unreachable = exc.detail
        drain.report.pending = outbox.counts()["pending"]
        return drain.report
    taken = 0
    try:
        while stop is None or not stop.is_set():
            size = batch_size if limit is None else min(batch_size, limit - taken)
            if size <= 0:
                break
            rows = outbox.claim(owner, size)
            if not rows:
                break
            taken += len(rows)
            ok = await drain.run_batch(rows)
            if on_progress is not None:
                on_progress(drain.report)
            if not ok:
                break
            drain.report.unreachable = None
    finally:
        if drain.client is not None and drain.client.is_connected:
            try:
                await drain.client.quit()
            except (aiosmtplib.SMTPException, OSError):
                drain.client.close()
    counts = outbox.counts()
    drain.report.pending = counts["pending"] + counts["sending"]
    return drain.report


def send_outbox(settings: Settings, **kwargs: object) -> SendReport:
    """Blocking wrapper of `drain_outbox` for a thread (the app's worker, the CLI)."""
    return asyncio.run(drain_outbox(settings, **kwargs))  # type: ignore[arg-type]
