"""Inbound mail bookkeeping: the log of every message read and the IMAP position per folder."""

from __future__ import annotations

from peewee import (
    BigIntegerField,
    BooleanField,
    CharField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from store.clock import utcnow
from store.models import BaseModel, Session, UTCDateTimeField

OUTCOMES = ("applied", "ignored", "recorded")
"""applied: the enrolment changed; recorded: kept for the admin (counter proposal,
delegation, answer to an earlier time); ignored: nothing to apply (reason says why)."""


class InboundMessage(BaseModel):
    """One message read from the organizer's mailbox, with what was done about it."""

    message_id = CharField(max_length=255, index=True)
    from_address = CharField(max_length=320, default="")
    subject = CharField(max_length=300, default="")
    received_at = UTCDateTimeField(default=utcnow)
    outcome = CharField(max_length=16)
    reason = TextField(null=True)
    session = ForeignKeyField(Session, null=True, backref="inbound", on_delete="SET NULL")
    email = CharField(max_length=320, null=True)
    calendar = CharField(max_length=16, null=True)
    """The answer the reply carried (accepted, tentative, declined, delegated, ...)."""
    comment = TextField(null=True)
    method = CharField(max_length=32, null=True)
    sequence = IntegerField(null=True)
    dtstamp = UTCDateTimeField(null=True)
    raw_size = IntegerField(default=0)
    folder = CharField(max_length=300, null=True)
    imap_uidvalidity = BigIntegerField(null=True)
    imap_uid = BigIntegerField(null=True)
    move_pending = BooleanField(default=False)
    """Handled, committed, but not yet moved to the processed folder."""

    class Meta:
        # One entry per IMAP position: two pollers never log a message twice. Migration
        # 4 adds the other guard, one first handling per Message-ID and folder.
        indexes = ((("folder", "imap_uidvalidity", "imap_uid"), True),)


class MailboxState(BaseModel):
    """How far the poller has read one folder of one account."""

    mailbox = CharField(max_length=600, unique=True)
    """``user@host/folder``: the key of the position."""
    uidvalidity = BigIntegerField()
    last_uid = BigIntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)


INBOUND_MODELS = [InboundMessage, MailboxState]
