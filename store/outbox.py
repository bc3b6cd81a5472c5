"""The outbox as a work queue: claim, mark sent, retry, fail; invitations and reminders.

Rows are claimed with a lease (``status='sending'``, ``claimed_by``,
``claimed_until``) by one conditional UPDATE, so two senders never send one
row twice. The claim names the sender's host and process id: a claim whose
process is gone on this host is free at once; a claim from another host is
free when its short lease ran out, which the living sender keeps renewing.
A row becomes ``sent`` only after the SMTP server accepted it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import peewee

from store import mail_queue
from store.access import audited, record, require
from store.clock import utcnow
from store.db import is_postgres, lock_for_update, write_transaction
from store.errors import ValidationError
from store.models import Enrolment, Outbox, Person, Session
from store.session_queries import refuse_status, session_status
from store.sessions import get_session
from store.statuses import ACTIVE, OUTBOX_STATUSES
from store.textkey import fold

CLAIM_LEASE = timedelta(seconds=90)
"""How long a claim holds before another sender may take the row over; the
sender renews it every `LEASE_RENEW_SECONDS` while it works, so only a sender
that died (or hangs) on another host makes others wait this long."""
LEASE_RENEW_SECONDS = 20.0
MAX_ATTEMPTS = 8
"""Temporary failures after which a row is given up as failed."""


def sender_id() -> str:
    """A name for this sender, unique across hosts and processes: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    except OSError:
        return True
    try:
        # A killed child not yet reaped by its parent is a zombie: it sends nothing.
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def sender_gone(owner: str) -> bool:
    """True when `owner` (a `sender_id`) ran on this host and its process has ended."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or parts[0] != socket.gethostname():
        return False
    return not _pid_alive(int(parts[1]))


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after `attempts` temporary failures: 1, 2, 4 ... 60 minutes."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def _claimable(now: datetime) -> peewee.Expression:
    return ((Outbox.status == "pending") & (Outbox.next_attempt_at <= now)) | (
        (Outbox.status == "sending") & (Outbox.claimed_until < now)
    )


def _dead_owners(now: datetime) -> list[str]:
    """Senders on this host whose process ended while their claims still hold."""
    owners = (
        Outbox.select(Outbox.claimed_by)
        .where((Outbox.status == "sending") & (Outbox.claimed_until >= now))
        .distinct()
        .tuples()
    )
    return [owner for (owner,) in owners if owner and sender_gone(owner)]


def claim(owner: str, limit: int = 200, now: datetime | None = None) -> list[Outbox]:
    """Claim up to `limit` due rows for `owner`, oldest first, and return them.

    Rows whose claim expired, or whose sender's process is gone on this host
    (killed mid-batch), are claimed again at once.
    """
    now = now or utcnow()
    with write_transaction():
        require("jobs")
        dead = _dead_owners(now)
        if dead:
            # The dead sender may have had its one message in flight accepted: that
            # one can go twice, nothing else (each accepted row was recorded at once).
            (
                Outbox.update(claimed_until=now - timedelta(seconds=1))
                .where((Outbox.status == "sending") & Outbox.claimed_by.in_(dead))
                .execute()
            )
        query = Outbox.select(Outbox.id).where(_claimable(now)).order_by(Outbox.id).limit(limit)
        if is_postgres():
            # Parallel senders skip each other's rows instead of queueing behind them.
            query = query.for_update("FOR UPDATE SKIP LOCKED")
        ids = [row.id for row in query]
        if not ids:
            return []
        (
            Outbox.update(status="sending", claimed_by=owner, claimed_until=now + CLAIM_LEASE)
            .where(Outbox.id.in_(ids) & _claimable(now))
            .execute()
        )
    return list(
        Outbox.select()
        .where(Outbox.id.in_(ids) & (Outbox.claimed_by == owner) & (Outbox.status == "sending"))
        .order_by(Outbox.id)
    )


def renew(owner: str, now: datetime | None = None) -> int:
    """Extend the lease of every row `owner` still holds; returns how many."""
    now = now or utcnow()
    with write_transaction():
        return int(
            Outbox.update(claimed_until=now + CLAIM_LEASE)
            .where((Outbox.claimed_by == owner) & (Outbox.status == "sending"))
            .execute()
        )


@dataclass(frozen=True)
class Sent:
    """A row the server accepted."""

    id: int
    subject: str = ""
    invited: bool = False
    """The message carried a calendar invitation: the enrolment becomes ``invited``."""


def mark_sent(owner: str, sent: Sequence[Sent], now: datetime | None = None) -> int:
    """Record rows as sent (call only after the server accepted them); returns how many."""
    if not sent:
        return 0
    now = now or utcnow()
    ids = [item.id for item in sent]
    # One statement per flush: the sender records thousands of rows per batch.
    subject = peewee.Case(Outbox.id, [(item.id, item.subject) for item in sent], Outbox.subject)
    with write_transaction():
        count = int(
            Outbox.update(
                status="sent",
                sent_at=now,
                subject=subject,
                attempts=Outbox.attempts + 1,
                claimed_by=None,
                claimed_until=None,
                last_error=None,
            )
            .where(Outbox.id.in_(ids) & (Outbox.claimed_by == owner))
            .execute()
        )
        invited = [item.id for item in sent if item.invited]
        if invited:
            enrolment_ids = [
                row.enrolment_id
                for row in Outbox.select(Outbox.enrolment).where(
                    Outbox.id.in_(invited) & Outbox.enrolment.is_null(False)
                )
            ]
            if enrolment_ids:
                # Lock in id order first: two senders marking overlapping enrolments
                # would otherwise deadlock on PostgreSQL.
                candidates = lock_for_update(
                    Enrolment.select(Enrolment.id)
                    .where(
                        Enrolment.id.in_(enrolment_ids)
                        & (Enrolment.calendar == "not_invited")
                        & Enrolment.status.in_(("enrolled", "attended", "no_show"))
                    )
                    .order_by(Enrolment.id)
                )
                ids_to_mark = [row.id for row in candidates]
                if ids_to_mark:
                    (
                        Enrolment.update(calendar="invited", invited_at=now, updated_at=now)
                        .where(
                            Enrolment.id.in_(ids_to_mark) & (Enrolment.calendar == "not_invited")
                        )
                        .execute()
                    )
    return count


def retry_later(owner: str, row_id: int, error: str, now: datetime | None = None) -> str:
    """A temporary failure: try again after a backoff; after `MAX_ATTEMPTS`, fail.

    Returns the row's new status (``pending`` or ``failed``).
    """
    now = now or utcnow()
    with write_transaction():
        row = Outbox.get_or_none((Outbox.id == row_id) & (Outbox.claimed_by == owner))
        if row is None:
            return "lost"
        attempts = row.attempts + 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        (
            Outbox.update(
                status=status,
                attempts=attempts,
                next_attempt_at=now + backoff(attempts),
                claimed_by=None,
                claimed_until=None,
                last_error=error[:2000],
            )
            .where(Outbox.id == row_id)
            .execute()
        )
    return status


def mark_failed(owner: str, row_id: int, error: str) -> None:
    """A permanent failure (the server refused the recipient, 5xx): never retried."""
    with write_transaction():
        (
            Outbox.update(
                status="failed",
                attempts=Outbox.attempts + 1,
                claimed_by=None,
                claimed_until=None,
                last_error=error[:2000],
            )
            .where((Outbox.id == row_id) & (Outbox.claimed_by == owner))
            .execute()
        )


def release(owner: str, row_ids: Iterable[int], error: str | None = None) -> int:
    """Give claimed rows back untouched (the server went away); they are sent next time."""
    ids = list(row_ids)
    if not ids:
        return 0
    with write_transaction():
        changes: dict[Any, Any] = {
            Outbox.status: "pending",
            Outbox.claimed_by: None,
            Outbox.claimed_until: None,
        }
        if error:
            changes[Outbox.last_error] = error[:2000]
        return int(
            Outbox.update(changes)
            .where(Outbox.id.in_(ids) & (Outbox.claimed_by == owner) & (Outbox.status == "sending"))
            .execute()
        )


def counts() -> dict[str, int]:
    """How many rows are in each status."""
    result = dict.fromkeys(OUTBOX_STATUSES, 0)
    query = Outbox.select(Outbox.status, peewee.fn.COUNT(Outbox.id).alias("n")).group_by(
        Outbox.status
    )
    for row in query:
        result[row.status] = row.n
    return result


@dataclass(frozen=True)
class Backlog:
    """Mail not sent yet: how much, since when, and the newest error the sender met."""

    waiting: int
    oldest: datetime | None
    failed: int
    last_error: str | None


def backlog() -> Backlog:
    """What waits in the outbox (pending or being sent), what failed, and the latest error."""
    unsent = Outbox.status.in_(("pending", "sending"))
    waiting = Outbox.select().where(unsent).count()
    first = Outbox.select(Outbox.created_at).where(unsent).order_by(Outbox.id).first()
    failed = Outbox.select().where(Outbox.status == "failed").count()
    errored = (
        Outbox.select(Outbox.last_error)
        .where((Outbox.status != "sent") & Outbox.last_error.is_null(False))
        .order_by(Outbox.id.desc())
        .first()
    )
    return Backlog(
        waiting,
        first.created_at if first else None,
        failed,
        errored.last_error if errored else None,
    )


def outbox_query(
    status: str | None = None, limit: int | None = None, since: datetime | None = None
) -> peewee.ModelSelect:
    """Outbox rows, newest first, optionally of one status and queued from `since`."""
    if status is not None and status not in OUTBOX_STATUSES:
        raise ValidationError(f"must be one of {', '.join(OUTBOX_STATUSES)}", field="status")
    query = Outbox.select().order_by(Outbox.id.desc())
    if status:
        query = query.where(Outbox.status == status)
    if since is not None:
        query = query.where(Outbox.created_at >= since)
    if limit:
        query = query.limit(limit)
    return query


@audited("mail.retry")
def retry_failed(row_ids: Iterable[int] | None = None) -> int:
    """Put failed rows back in the queue (the admin fixed the address); returns how many."""
    with write_transaction():
        query = Outbox.update(
            status="pending", attempts=0, next_attempt_at=utcnow(), last_error=None
        ).where(Outbox.status == "failed")
        if row_ids is not None:
            query = query.where(Outbox.id.in_(list(row_ids)))
        return int(query.execute())


@dataclass
class InviteResult:
    """What `invite` queued."""

    queued: int
    invited: list[str]
    """Addresses whose calendar state became (or stayed) invited."""
    messaged: list[str]
    """Addresses that got the message without a calendar invitation (waitlisted)."""


def invite(
    session_id: int | str,
    emails: Sequence[str] | None = None,
    message: str | None = None,
    with_calendar: bool = True,
    *,
    subject: str | None = None,
) -> InviteResult:
    """Queue invitations (and/or the admin's message) for a session's people.

    By default every enrolled person; `emails` picks recipients among the
    session's enrolled and waitlisted people. With `with_calendar`, enrolled
    recipients get the iCalendar invitation and their calendar state becomes
    ``invited`` in the same transaction; waitlisted recipients get the message
    only. With a `message`, one "message" mail per person carries the text (and
    the invitation when asked); without one, a plain "invitation" is queued.
    Raises `ValidationError` for an address not on the session, `RuleViolation`
    for a cancelled or finished session; nothing is queued then.
    """
    text = (message or "").strip()
    if not with_calendar and not text:
        raise ValidationError("write a message or send the calendar invitation", field="message")
    if len(text) > 20_000:
        raise ValidationError("message is longer than 20000 characters", field="message")
    if subject is not None:
        # A header value: CR/LF would start new headers or the body of the message.
        subject = " ".join(subject.split())
    if subject is not None and len(subject) > 300:
        raise ValidationError("subject is longer than 300 characters", field="subject")
    now = utcnow()
    with write_transaction():
        session = get_session(session_id)
        require("email", session=session)
        refusals = {"cancelled": "is cancelled"}
        if with_calendar:
            refusals["completed"] = (
                "has already taken place; send a message without the calendar invitation"
            )
        refuse_status(session, session_status(session, now), refusals)
        base = (
            Enrolment.select(Enrolment, Person)
            .join(Person)
            .where(Enrolment.session == session)
            .order_by(Enrolment.id)
        )
        if emails is None:
            targets = list(base.where(Enrolment.status == "enrolled"))
        else:
            wanted = {fold(e.strip()) for e in emails if e.strip()}
            if not wanted:
                raise ValidationError("no recipients given", field="to")
            found = {e.person.email_key: e for e in base.where(Enrolment.status.in_(ACTIVE))}
            missing = sorted(wanted - set(found))
            if missing:
                raise ValidationError(
                    f"{', '.join(missing)} is not enrolled or waitlisted on session {session.id}",
                    field="to",
                )
            targets = [found[e] for e in sorted(wanted, key=lambda k: found[k].id)]
        result = InviteResult(queued=0, invited=[], messaged=[])
        facts = mail_queue.session_snapshot(session)
        for enrolment in targets:
            calendar = with_calendar and enrolment.status == "enrolled"
            if text:
                mail_queue.enqueue(
                    "message",
                    session,
                    enrolment.person,
                    enrolment=enrolment,
                    extra={"message": text, "subject": subject or "", "with_calendar": calendar},
                    snapshot=facts,
                )
            elif calendar:
                mail_queue.enqueue(
                    "invitation", session, enrolment.person, enrolment=enrolment, snapshot=facts
                )
            else:
                continue
            result.queued += 1
            if calendar:
                result.invited.append(enrolment.person.email)
                enrolment.calendar = "invited"
                enrolment.invited_at = now
                enrolment.updated_at = now
                enrolment.save()
            else:
                result.messaged.append(enrolment.person.email)
        record(
            "invite", session, after={"to": result.invited + result.messaged, "subject": subject}
        )
        return result


def due_reminders(now: datetime | None = None, hours: int | None = None) -> list[Enrolment]:
    """Enrolments whose session starts within `hours` and who got no reminder yet.

    Only enrolled people of sessions that are not cancelled and have not started.
    """
    from store.settings import current_settings

    now = now or utcnow()
    hours = current_settings().reminder_hours if hours is None else hours
    return list(
        Enrolment.select(Enrolment, Session, Person)
        .join(Session)
        .switch(Enrolment)
        .join(Person)
        .where(
            (Enrolment.status == "enrolled")
            & Enrolment.reminder_sent_at.is_null()
            & Session.cancelled_at.is_null()
            & Session.finalised_at.is_null()
            & (Session.start > now)
            & (Session.start <= now + timedelta(hours=hours))
        )
        .order_by(Session.start, Enrolment.id)
    )


def queue_reminders(now: datetime | None = None, hours: int | None = None) -> int:
    """Queue one reminder per due enrolment and stamp it, in one transaction; returns how many.

    The stamp is checked again under the write lock, so two workers queue one reminder.
    """
    now = now or utcnow()
    queued = 0
    with write_transaction():
        require("jobs")
        for enrolment in due_reminders(now, hours):
            stamped = (
                Enrolment.update(reminder_sent_at=now)
                .where((Enrolment.id == enrolment.id) & Enrolment.reminder_sent_at.is_null())
                .execute()
            )
            if stamped:
                mail_queue.enqueue(
                    "reminder", enrolment.session, enrolment.person, enrolment=enrolment
                )
                queued += 1
    return queued
