"""Drain the outbox over one reused SMTP connection (aiosmtplib), with claims and retries.

Rendering overlaps the network: a producer task renders the next messages
while the SMTP dialogue of the current one waits for the server. A row is
recorded as sent right after the server accepted it, before the next message
goes, so a crash can repeat at most the one message in flight. A refused
recipient (5xx) fails that row alone. A message is tried at most
`TRIES_PER_RUN` times per run, then waits for its backoff with the reason on
the row; one whose connection died after its data went out (the server may
have delivered it) is not resent in this run at all. A server that keeps
failing, or cannot be reached, ends the run with every row kept.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

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
"""Seconds to open the connection and read the greeting; a server that cannot do
that is reported unreachable (replies to commands wait `Settings.smtp_timeout`)."""
RECONNECT_TRIES = 3
TRIES_PER_RUN = 3
"""Times one message is tried in one run before it waits for its backoff."""
GIVE_UP_AFTER = 6
"""Failed tries in a row (no message accepted in between) after which the run
ends as if SMTP were unreachable: the rest stays queued for the next run."""
STOP_GRACE = 5.0
"""Seconds a stop request waits for the server's reply to the message in flight."""
RENDER_AHEAD = 32

T = TypeVar("T")


class _Stopped(Exception):
    """The stop event fired and the awaited step did not finish within `STOP_GRACE`."""


async def _unless_stopped(step: Awaitable[T], stop: asyncio.Event | None) -> T:
    """Await `step`; when `stop` is set meanwhile, give it `STOP_GRACE` more, then cancel it."""
    task = asyncio.ensure_future(step)
    if stop is None:
        return await task
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            await asyncio.wait({task}, timeout=STOP_GRACE)
        if not task.done():
            task.cancel()
            try:
                await task
            except BaseException:  # noqa: BLE001 - cancelled on purpose; its error is moot
                pass
            raise _Stopped
        return task.result()
    finally:
        stopper.cancel()
        if not task.done():
            task.cancel()


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
        timeout=settings.smtp_timeout,
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.replace("\n", " ")


async def connect(settings: Settings) -> aiosmtplib.SMTP:
    """Connect (and STARTTLS/TLS/log in as configured); `ServiceUnavailable` when it cannot."""
    client = smtp_client(settings)
    try:
        await client.connect(timeout=CONNECT_TIMEOUT)
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


class _Outcome:
    """How one try of one message ended."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    """5xx: the row fails for good."""
    DEFERRED = "deferred"
    """4xx on a working connection: the server asks to try later (backoff)."""
    NOT_TAKEN = "not taken"
    """421, or the connection died before the data went out: safe to try again now."""
    UNSURE = "unsure"
    """The connection died after the data went out: the server may have delivered it."""


class _Drain:
    def __init__(self, settings: Settings, owner: str, stop: asyncio.Event | None) -> None:
        self.settings = settings
        self.owner = owner
        self.stop = stop
        self.report = SendReport()
        self.client: aiosmtplib.SMTP | None = None
        self.failures_in_a_row = 0
        self.last_error = ""

    def stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    async def reconnect(self) -> bool:
        """A fresh connection; False when the server cannot be reached (or we are stopping)."""
        self.close()
        for attempt in range(RECONNECT_TRIES):
            if self.stopping():
                return False
            try:
                self.client = await _unless_stopped(connect(self.settings), self.stop)
                log.info("reconnected to SMTP")
                return True
            except ServiceUnavailable as exc:
                self.report.unreachable = exc.detail
            except _Stopped:
                return False
            await asyncio.sleep(0.2 * (attempt + 1))
        return False

    async def dialogue(self, item: Rendered) -> tuple[str, str]:
        """One SMTP transaction: its outcome and the error, if any."""
        client = self.client
        assert client is not None
        stage = "envelope"
        try:
            await client.mail(item.sender)
            await client.rcpt(item.recipient)
            stage = "data"
            # RFC 5321 §4.5.3.2: the final reply may take 10 minutes; giving up sooner
            # while the server delivers would send the message twice.
            await client.data(item.data, timeout=self.settings.smtp_data_timeout)
        except aiosmtplib.SMTPResponseException as exc:
            error = f"{exc.code} {_describe(exc)}"
            if exc.code == 421 or not client.is_connected:
                self.close()  # 421: the server is closing the channel; nothing was taken
                return _Outcome.NOT_TAKEN, error
            if stage == "envelope":
                try:
                    await client.rset()
                except (aiosmtplib.SMTPException, OSError):
                    self.close()
            return (_Outcome.REFUSED if exc.code >= 500 else _Outcome.DEFERRED), error
        except _CONNECTION_ERRORS as exc:
            self.close()
            error = f"connection lost: {_describe(exc)}"
            if stage == "data":
                return _Outcome.UNSURE, f"{error}; the server may have delivered it"
            return _Outcome.NOT_TAKEN, error
        return _Outcome.ACCEPTED, ""

    async def send_one(self, item: Rendered) -> bool:
        """Send one message, tried at most `TRIES_PER_RUN` times; False when the run must end."""
        for attempt in range(1, TRIES_PER_RUN + 1):
            if self.client is None and not await self.reconnect():
                reason = None if self.stopping() else self.unreachable_reason()
                outbox.release(self.owner, [item.row_id], reason)
                return False
            try:
                outcome, error = await _unless_stopped(self.dialogue(item), self.stop)
            except _Stopped:
                self.close()
                # No reply in time: the server may still deliver it and the next run
                # send it again (the one message a stop can repeat).
                outbox.release(self.owner, [item.row_id], "stopped before the server replied")
                return False
            if outcome == _Outcome.ACCEPTED:
                # Recorded before the next message goes: a crash repeats at most this one.
                outbox.mark_sent(self.owner, [outbox.Sent(item.row_id, item.subject, item.invited)])
                self.report.sent += 1
                self.failures_in_a_row = 0
                return True
            if outcome in (_Outcome.REFUSED, _Outcome.DEFERRED):
                self.failure(item, error, permanent=outcome == _Outcome.REFUSED)
                return True
            self.failures_in_a_row += 1
            self.last_error = error
            log.warning(
                "message %s to %s: %s (try %d)", item.row_id, item.recipient, error, attempt
            )
            # A message the server may have delivered is never resent in the same run.
            if outcome == _Outcome.UNSURE or self.giving_up() or attempt == TRIES_PER_RUN:
                self.failure(item, error, permanent=False)
                return not self.giving_up()
        return True

    def giving_up(self) -> bool:
        if self.failures_in_a_row < GIVE_UP_AFTER:
            return False
        self.report.unreachable = self.unreachable_reason()
        return True

    def unreachable_reason(self) -> str:
        if self.failures_in_a_row >= GIVE_UP_AFTER:
            return f"the server failed {self.failures_in_a_row} tries in a row: {self.last_error}"
        return self.report.unreachable or self.last_error or "connection lost"

    def failure(self, item: Rendered, error: str, *, permanent: bool) -> None:
        if permanent:
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
        """Send one claimed batch; False when the run must end (the rest is released)."""
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
            while not self.stopping():
                item = await queue.get()
                if item is None:
                    break
                unsent.discard(item.row_id)
                if not await self.send_one(item):
                    ok = False
                    break
        finally:
            producer.cancel()
            try:
                await producer
            except asyncio.CancelledError:
                pass
            reason = None if ok or self.stopping() else self.unreachable_reason()
            outbox.release(self.owner, unsent, reason and f"SMTP unreachable: {reason}")
        return ok


async def _renew_leases(owner: str) -> None:
    """Keep this sender's claims alive while it works (a batch may outlast one lease)."""
    while True:
        await asyncio.sleep(outbox.LEASE_RENEW_SECONDS)
        try:
            outbox.renew(owner)
        except Exception:  # noqa: BLE001 - a busy database must not end the drain
            log.exception("could not renew the outbox claims")


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
    when the server cannot be reached, goes away for good or keeps failing.
    `stop` ends the drain once the message in flight is recorded (or after
    `STOP_GRACE` seconds without the server's reply). `limit` caps how many
    rows are taken; `on_progress` is called after each batch (for a status line).
    """
    owner = owner or outbox.sender_id()
    drain = _Drain(settings, owner, stop)
    try:
        drain.client = await _unless_stopped(connect(settings), stop)
    except (ServiceUnavailable, _Stopped) as exc:
        if isinstance(exc, ServiceUnavailable):
            drain.report.unreachable = exc.detail
        drain.report.pending = outbox.counts()["pending"]
        return drain.report
    renewer = asyncio.create_task(_renew_leases(owner))
    taken = 0
    try:
        while not drain.stopping():
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
        renewer.cancel()
        if drain.client is not None and drain.client.is_connected:
            try:
                await asyncio.wait_for(drain.client.quit(), STOP_GRACE)
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                drain.client.close()
    counts = outbox.counts()
    drain.report.pending = counts["pending"] + counts["sending"]
    return drain.report


def send_outbox(settings: Settings, **kwargs: object) -> SendReport:
    """Blocking wrapper of `drain_outbox` for a thread (the app's worker, the CLI)."""
    return asyncio.run(drain_outbox(settings, **kwargs))  # type: ignore[arg-type]
