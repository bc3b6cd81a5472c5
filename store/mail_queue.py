"""Queue outgoing mail in the outbox inside the transaction of the change that caused it.

Each row holds a JSON snapshot of the facts the message will state (the
session as it was at that moment), so the sender renders exactly what was
true when the change was made, however late it sends.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import uuid
from collections.abc import Iterator
from typing import Any

from store.models import Enrolment, Material, Outbox, Person, Session
from store.settings import current_settings
from store.visibility import rules_of

KINDS = (
    "confirmation",
    "waitlisted",
    "promoted",
    "invitation",
    "update",
    "cancellation",
    "removal",
    "reminder",
    "trainer_assignment",
    "trainer_removal",
    "trainer_declined",
    "message",
    # The booking workflow (store/approvals.py, store/offers.py, store/interest.py).
    "approval_request",
    "request_approved",
    "request_declined",
    "request_expired",
    "offer",
    "offer_passed",
    "interest_full",
)

_suppressed: contextvars.ContextVar[bool] = contextvars.ContextVar("suppressed", default=False)


@contextlib.contextmanager
def suppressed() -> Iterator[None]:
    """Queue no mail inside this block (demo data, bulk loads)."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def session_snapshot(session: Session) -> dict[str, Any]:
    """The facts of a session a message states, as JSON-ready values."""
    trainer = session.trainer.person if session.trainer_id else None
    materials = Material.select().where(Material.session == session).order_by(Material.position)
    return {
        "id": session.id,
        "uid": session.uid,
        "sequence": session.sequence,
        "title": session.title,
        "description": session.description,
        "start": session.start.isoformat(),
        "end": session.end.isoformat(),
        "duration_minutes": session.duration_minutes,
        "type": session.type,
        "location": session.location,
        "online_url": session.online_url,
        "trainer": {"email": trainer.email, "name": trainer.name} if trainer else None,
        "materials": [{"name": m.name, "url": m.url} for m in materials],
        "cancel_reason": session.cancel_reason,
        "cancelled": session.cancelled_at is not None,
        "visibility": rules_of(session),
    }


def enqueue(
    kind: str,
    session: Session | None,
    recipient: Person,
    *,
    enrolment: Enrolment | None = None,
    extra: dict[str, Any] | None = None,
    snapshot: dict[str, Any] | None = None,
) -> Outbox | None:
    """Write one message for `recipient` to the outbox (call inside the change's transaction).

    Callers mailing many people about one session pass its `session_snapshot`
    once as `snapshot` instead of having it rebuilt per recipient.
    """
    if _suppressed.get():
        return None
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    settings = current_settings()
    domain = settings.organizer_email.rsplit("@", 1)[-1]
    payload: dict[str, Any] = {
        "kind": kind,
        "session": (
            snapshot
            if snapshot is not None
            else session_snapshot(session)
            if session is not None
            else None
        ),
        "recipient": {"email": recipient.email, "name": recipient.name},
        "organizer": {"email": settings.organizer_email, "name": settings.organizer_name},
        "timezone": settings.timezone,
    }
    if enrolment is not None:
        payload["enrolment"] = {
            "id": enrolment.id,
            "status": enrolment.status,
            "waitlist_position": enrolment.waitlist_position,
        }
    payload.update(extra or {})
    return Outbox.create(
        kind=kind,
        recipient=recipient.email,
        recipient_name=recipient.name,
        session=session,
        enrolment=enrolment,
        payload=json.dumps(payload, sort_keys=True),
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
    )
