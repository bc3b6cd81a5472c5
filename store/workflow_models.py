"""Tables of the booking workflow: manager-approval requests, offered places, interest lists."""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, TextField

from store.clock import utcnow
from store.models import BaseModel, Course, Enrolment, Person, Session, UTCDateTimeField


class ApprovalRequest(BaseModel):
    """A learner's booking waiting for (or decided by) their manager."""

    enrolment = ForeignKeyField(Enrolment, backref="approval_requests", on_delete="CASCADE")
    session = ForeignKeyField(Session, backref="approval_requests", on_delete="CASCADE")
    learner = ForeignKeyField(Person, backref="approval_requests", on_delete="CASCADE")
    manager = ForeignKeyField(Person, null=True, backref="requests_to_decide", on_delete="SET NULL")
    status = CharField(max_length=16, default="pending")  # REQUEST_STATUSES
    message_id = CharField(max_length=255, null=True, index=True)
    """Message-ID of the email to the manager: a reply must refer to it."""
    requested_at = UTCDateTimeField(default=utcnow)
    decided_at = UTCDateTimeField(null=True)
    decided_by = CharField(max_length=320, null=True)
    note = TextField(default="")

    class Meta:
        indexes = ((("status", "manager"), False),)


class Offer(BaseModel):
    """A freed place held for the first in line until they accept or the deadline passes."""

    enrolment = ForeignKeyField(Enrolment, backref="offers", on_delete="CASCADE")
    session = ForeignKeyField(Session, backref="offers", on_delete="CASCADE")
    offered_at = UTCDateTimeField(default=utcnow)
    freed_at = UTCDateTimeField(default=utcnow)
    """When the place this offer fills became free (kept across passes, for time-to-fill)."""
    expires_at = UTCDateTimeField()
    outcome = CharField(max_length=16, default="open")  # OFFER_OUTCOMES
    closed_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("outcome", "expires_at"), False),)


class Interest(BaseModel):
    """A person waiting for a date of a course."""

    person = ForeignKeyField(Person, backref="interests", on_delete="CASCADE")
    course = ForeignKeyField(Course, backref="interested", on_delete="CASCADE")
    source = CharField(max_length=16, default="admin")  # learner | admin | renewal
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("course", "person"), True),)


WORKFLOW_MODELS: list[type[BaseModel]] = [ApprovalRequest, Offer, Interest]
