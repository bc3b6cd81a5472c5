"""Apply calendar replies to enrolments (rules P1-P8, docs/itip-rules.md), logging each message."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from store.access import RSVP, as_actor, record
from store.approvals import apply_answer
from store.booking import cancel_enrolment_for_decline
from store.clock import utcnow
from store.db import database, is_postgres, write_transaction
from store.inbound import InboundMessage, MailboxState
from store.models import Enrolment, Session
from store.offers import answer_from_calendar
from store.reply_decision import (
    DUPLICATE,
    NOT_ON_SESSION,
    Decision,
    EnrolmentFacts,
    SessionFacts,
    decide,
)
from store.replydata import (
    CALENDAR_PROBLEMS,
    ReadMessage,
    ReplyAttendee,
    ReplyItem,
    normalize_address,
)
from store.serialize import iso
from store.settings import Settings, current_settings
from store.statuses import ACTIVE
from store.trainer_rsvp import decide_trainer_reply

__all__ = ["DUPLICATE", "Handled", "ImapPosition", "apply_reply"]


@dataclass(frozen=True)
class ImapPosition:
    """Where a message sits on the server, so it is handled once across restarts."""

    mailbox: str
    """The `MailboxState` key (``user@host/folder``)."""
    folder: str
    uidvalidity: int
    uid: int


@dataclass(frozen=True)
class Handled:
    """The log entry for a message and whether this call created it."""

    entry: InboundMessage
    new: bool


def message_key(message: ReadMessage, raw: bytes | None = None) -> str:
    """The Message-ID, or a stable stand-in derived from the content when it has none."""
    if message.message_id:
        return message.message_id[:255]
    digest = hashlib.sha256(raw or b"").hexdigest()[:40]
    return f"<no-message-id-{digest}@rollcall.invalid>"


@as_actor(RSVP)
def apply_reply(
    message: ReadMessage,
    *,
    raw: bytes | None = None,
    position: ImapPosition | None = None,
    received_at: datetime | None = None,
    settings: Settings | None = None,
) -> Handled:
    """Apply one read message to the store in one transaction and log it.

    A message already logged at the same IMAP position is not handled again
    (`Handled.new` is False); one whose Message-ID was already handled is
    logged as a duplicate and changes nothing. Two pollers handling the same
    message at once cannot both log or apply it: the log is unique on the IMAP
    position and on the Message-ID per folder, so the second insert fails, its
    savepoint is rolled back, and the message is looked at again.
    """
    try:
        return _apply(message, raw, position, received_at, settings)
    except peewee.IntegrityError:
        return _apply(message, raw, position, received_at, settings)


def _apply(
    message: ReadMessage,
    raw: bytes | None,
    position: ImapPosition | None,
    received_at: datetime | None,
    settings: Settings | None,
) -> Handled:
    settings = settings or current_settings()
    now = utcnow()
    received_at = received_at or now
    key = message_key(message, raw)
    with write_transaction():
        # One query answers both "handled at this position?" and "seen this Message-ID?".
        # The hot path writes its SQL by hand: building it with Peewee cost more than running it.
        if position is not None:
            seen = _q(
                f"SELECT id, folder, imap_uidvalidity, imap_uid FROM {_T_INBOUND} "
                "WHERE message_id = ? OR (folder = ? AND imap_uidvalidity = ? AND imap_uid = ?)",
                (key, position.folder, position.uidvalidity, position.uid),
            ).fetchall()
        else:
            seen = _q(
                f"SELECT id, folder, imap_uidvalidity, imap_uid FROM {_T_INBOUND} "
                "WHERE message_id = ?",
                (key,),
            ).fetchall()
        if position is not None:
            for entry_id, folder, uidvalidity, uid in seen:
                if (folder, uidvalidity, uid) == (
                    position.folder,
                    position.uidvalidity,
                    position.uid,
                ):
                    _advance(position, now)
                    return Handled(InboundMessage.get_by_id(entry_id), new=False)
        item = message.items[0] if message.items else None
        if seen:
            decision = Decision("ignored", DUPLICATE)
        else:
            decision = _decide(message, item, settings, received_at, now)
        carried_calendar = bool(message.items) or message.problem in CALENDAR_PROBLEMS
        entry = InboundMessage(
            message_id=key,
            from_address=(message.from_address or "")[:320],
            subject=message.subject[:300],
            received_at=received_at,
            outcome=decision.outcome,
            reason=decision.reason,
            session=decision.session_id,
            email=decision.email,
            calendar=decision.calendar,
            comment=item.comment if item else None,
            method=(message.method or None) and message.method[:32],
            sequence=item.sequence if item else None,
            dtstamp=item.dtstamp if item else None,
            raw_size=message.size,
            folder=position.folder if position else None,
            imap_uidvalidity=position.uidvalidity if position else None,
            imap_uid=position.uid if position else None,
            move_pending=position is not None and carried_calendar,
        )
        entry.id = _insert_entry(entry)
        if position is not None:
            _advance(position, now)
    return Handled(entry, new=True)


def _q(sql: str, params: tuple[Any, ...] | list[Any]) -> Any:
    """Run hand-written SQL with ``?`` placeholders on either backend."""
    db = database.obj
    return db.execute_sql(sql.replace("?", db.param), tuple(params))


_T_INBOUND = '"inbound_message"'
_INBOUND_FIELDS = [f for f in InboundMessage._meta.sorted_fields if not f.primary_key]
"""The log's columns but its id, in the model's order: what one entry inserts."""


def _insert_entry(entry: InboundMessage) -> int:
    values = [f.db_value(entry.__data__.get(f.name)) for f in _INBOUND_FIELDS]
    columns = ", ".join(f.column_name for f in _INBOUND_FIELDS)
    sql = f"INSERT INTO {_T_INBOUND} ({columns}) VALUES ({', '.join('?' for _ in values)})"
    if is_postgres():
        return int(_q(sql + " RETURNING id", values).fetchone()[0])
    return int(_q(sql, values).lastrowid)


def _advance(position: ImapPosition, now: datetime) -> None:
    """Move the folder's read position past `position.uid` (same transaction as the log)."""
    stamp = MailboxState.updated_at.db_value(now)
    cursor = _q(
        'UPDATE "mailbox_state" SET last_uid = CASE WHEN last_uid < ? THEN ? ELSE last_uid END, '
        "updated_at = ? WHERE mailbox = ? AND uidvalidity = ?",
        (position.uid, position.uid, stamp, position.mailbox, position.uidvalidity),
    )
    if cursor.rowcount:
        return
    _create_state(position.mailbox, position.uidvalidity, position.uid, now)
    # A row of another UIDVALIDITY: the folder was rebuilt, this message's numbering wins.
    _q(
        'UPDATE "mailbox_state" SET uidvalidity = ?, last_uid = ?, updated_at = ? '
        "WHERE mailbox = ? AND uidvalidity <> ?",
        (position.uidvalidity, position.uid, stamp, position.mailbox, position.uidvalidity),
    )


def _create_state(mailbox: str, uidvalidity: int, last_uid: int, now: datetime) -> None:
    """Create the mailbox's position row unless it exists; two pollers may race for it."""
    _q(
        'INSERT INTO "mailbox_state" (mailbox, uidvalidity, last_uid, updated_at) '
        "VALUES (?, ?, ?, ?) ON CONFLICT (mailbox) DO NOTHING",
        (mailbox, uidvalidity, last_uid, MailboxState.updated_at.db_value(now)),
    )


def _decide(
    message: ReadMessage,
    item: ReplyItem | None,
    settings: Settings,
    received_at: datetime,
    now: datetime,
) -> Decision:
    """Read the facts `decide` needs, let it decide, and store the change it returns."""
    if item is None and (message.references or message.first_word):
        emailed = apply_answer(message.references, message.from_address, message.first_word)
        if emailed is not None:
            return Decision(emailed.outcome, emailed.reason, emailed.session_id, emailed.email)
    session = _session_row(item.uid) if item is not None else None
    enrolments: dict[str, EnrolmentFacts] = {}
    if session is not None and item is not None and item.method == "REPLY":
        enrolments = _enrolments_by_address(session, item.attendees)
    decision, change = decide(message, item, settings, session, enrolments, received_at, now)
    if decision.reason == NOT_ON_SESSION and session is not None and item is not None:
        # Not a learner of the session: perhaps its trainer answering their invitation.
        senders = {a for a in (message.from_address, message.sender_address) if a}
        trainer = decide_trainer_reply(message, item, session, senders, settings, received_at, now)
        return Decision(*trainer) if trainer is not None else decision
    if change is None or item is None or session is None:
        return decision
    enrolment, state, note = change.enrolment, change.state, change.note
    _q(
        'UPDATE "enrolment" SET calendar = ?, responded_at = ?, response_comment = ?, '
        "response_sequence = ?, response_dtstamp = ?, updated_at = ? WHERE id = ?",
        (
            state,
            Enrolment.responded_at.db_value(change.responded),
            item.comment,
            change.sequence,
            Enrolment.response_dtstamp.db_value(change.dtstamp),
            Enrolment.updated_at.db_value(now),
            enrolment.id,
        ),
    )
    record(
        "rsvp",
        session.id,
        decision.email,
        {"calendar": enrolment.calendar},
        {"calendar": state, "comment": item.comment},
    )
    if enrolment.status == "offered":
        decision.reason = "; ".join(filter(None, [note, answer_from_calendar(enrolment.id, state)]))
    if state == "declined" and settings.decline_cancels and enrolment.status in ACTIVE:
        cancel_enrolment_for_decline(enrolment.id)
        decision.reason = "; ".join(filter(None, [note, "enrolment cancelled (decline cancels)"]))
    return decision


def _enrolments_by_address(
    session: SessionFacts, attendees: tuple[ReplyAttendee, ...]
) -> dict[str, EnrolmentFacts]:
    """The enrolments on `session` of the reply's attendees by address, locked for the update."""
    wanted = sorted({addr for a in attendees for addr in a.addresses()})
    if not wanted:
        return {}
    sql = (
        "SELECT e.id, e.status, e.calendar, e.response_sequence, e.response_dtstamp, p.email "
        'FROM "enrolment" AS e JOIN "person" AS p ON p.id = e.person_id '
        f"WHERE e.session_id = ? AND LOWER(p.email) IN ({', '.join('?' for _ in wanted)}) "
        "ORDER BY e.id"
    )
    if is_postgres():
        sql += " FOR UPDATE OF e"
    by_address: dict[str, EnrolmentFacts] = {}
    for values in _q(sql, [session.id, *wanted]).fetchall():
        row = EnrolmentFacts(
            values[0],
            values[1],
            values[2],
            values[3],
            Enrolment.response_dtstamp.python_value(values[4]),
            values[5],
        )
        address = normalize_address(row.email)
        # Several enrolments of one person: the live one counts.
        if address not in by_address or row.status != "cancelled":
            by_address[address] = row
    return by_address


def _session_row(uid: str) -> SessionFacts | None:
    row = _q(
        'SELECT id, sequence, start, cancelled_at FROM "session" WHERE uid = ?', (uid,)
    ).fetchone()
    if row is None:
        return None
    return SessionFacts(
        row[0],
        row[1],
        Session.start.python_value(row[2]),
        Session.cancelled_at.python_value(row[3]),
    )


# --------------------------------------------------------------------------- reading the log


def inbound_log(limit: int = 100, offset: int = 0) -> list[InboundMessage]:
    """Logged messages, newest first."""
    return list(inbound_entries(limit, offset))


def inbound_entries(limit: int | None = None, offset: int = 0) -> Iterator[InboundMessage]:
    """Logged messages, newest first, read as they are used; `limit` None: all of them."""
    query = InboundMessage.select().order_by(
        InboundMessage.received_at.desc(), InboundMessage.id.desc()
    )
    if limit is not None:
        query = query.limit(max(0, limit))
    if offset:
        query = query.offset(max(0, offset))
    return iter(query.iterator())


def inbound_query(since: datetime | None = None) -> peewee.ModelSelect:
    """Logged messages received from `since` (all when None), newest first."""
    query = InboundMessage.select().order_by(
        InboundMessage.received_at.desc(), InboundMessage.id.desc()
    )
    if since is not None:
        query = query.where(InboundMessage.received_at >= since)
    return query


def inbound_count() -> int:
    """How many messages the log holds."""
    return int(InboundMessage.select().count())


def inbound_dict(entry: InboundMessage) -> dict[str, Any]:
    """A log entry in the contract's shape (docs/cli.md `mail inbound`), plus a few extra fields.

    The contract knows "applied" and "ignored"; "recorded" entries (counter
    proposals, delegations) show as "ignored" with ``"recorded": true``.
    """
    return {
        "message_id": entry.message_id,
        "from": entry.from_address,
        "received_at": iso(entry.received_at),
        "outcome": "applied" if entry.outcome == "applied" else "ignored",
        "reason": entry.reason,
        "session_id": entry.session_id,
        "email": entry.email,
        "calendar": entry.calendar,
        "recorded": entry.outcome == "recorded",
        "method": entry.method,
        "comment": entry.comment,
    }


# --------------------------------------------------------------------------- poller bookkeeping


def read_position(mailbox: str) -> tuple[int, int] | None:
    """The stored (UIDVALIDITY, last handled UID) of a mailbox key, if any."""
    state = MailboxState.get_or_none(MailboxState.mailbox == mailbox)
    return (state.uidvalidity, state.last_uid) if state else None


def reset_position(mailbox: str, uidvalidity: int) -> None:
    """Start a folder over after its UIDVALIDITY changed (Message-IDs still guard repeats)."""
    now = utcnow()
    with write_transaction():
        _create_state(mailbox, uidvalidity, 0, now)
        (
            MailboxState.update(uidvalidity=uidvalidity, last_uid=0, updated_at=now)
            .where((MailboxState.mailbox == mailbox) & (MailboxState.uidvalidity != uidvalidity))
            .execute()
        )


def pending_moves(folder: str, uidvalidity: int) -> list[int]:
    """UIDs handled in `folder` that still have to go to the processed folder."""
    query = InboundMessage.select(InboundMessage.imap_uid).where(
        (InboundMessage.folder == folder)
        & (InboundMessage.imap_uidvalidity == uidvalidity)
        & (InboundMessage.move_pending == True)  # noqa: E712 - SQL comparison
    )
    return [uid for (uid,) in query.order_by(InboundMessage.imap_uid).tuples()]


def mark_moved(folder: str, uidvalidity: int, uids: list[int]) -> None:
    """Record that these UIDs left `folder`."""
    if not uids:
        return
    with write_transaction():
        for start in range(0, len(uids), 500):
            (
                InboundMessage.update(move_pending=False)
                .where(
                    (InboundMessage.folder == folder)
                    & (InboundMessage.imap_uidvalidity == uidvalidity)
                    & (InboundMessage.imap_uid.in_(uids[start : start + 500]))
                )
                .execute()
            )
