"""The trainer's calendar reply, read like an attendee's and stored on the session."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from store import mail_queue
from store.db import lock_for_update
from store.models import Person, Session
from store.replydata import ReadMessage, ReplyItem, normalize_address
from store.settings import Settings

if TYPE_CHECKING:
    from store.reply_decision import SessionFacts


class TrainerDecision(NamedTuple):
    """What became of a reply from the trainer (the fields of the inbound log entry)."""

    outcome: str
    reason: str | None
    session_id: int | None
    email: str | None
    calendar: str | None


TRAINER_NOTE = "the trainer's answer"


def decide_trainer_reply(
    message: ReadMessage,
    item: ReplyItem,
    found: SessionFacts,
    senders: set[str],
    settings: Settings,
    received_at: datetime,
    now: datetime,
) -> TrainerDecision | None:
    """Apply a REPLY whose attendee is the session's trainer; None when it is not theirs.

    The same rules as an attendee's reply: the trainer must have been invited,
    the sender must be the trainer (or SENT-BY, or an alias), and the newest
    answer by (SEQUENCE, DTSTAMP) wins. A decline queues an alert to the
    organizer's address; the app shows it in the status line.
    """
    from store.reply_decision import (
        EARLIER_TIME,
        NOT_ATTENDEE,
        OLDER,
        PARTSTAT_STATES,
        SAME,
    )
    from store.reply_decision import sender_ok as _sender_ok

    session = lock_for_update(Session.select().where(Session.id == found.id)).get()
    if not session.trainer_id:
        return None
    trainer = session.trainer.person
    address = normalize_address(trainer.email)
    chosen = next((a for a in item.attendees if address in a.addresses()), None)
    if chosen is None:
        return None

    def ignored(reason: str, outcome: str = "ignored") -> TrainerDecision:
        return TrainerDecision(outcome, reason, session.id, address, state)

    state = PARTSTAT_STATES.get(chosen.partstat or "")
    if session.trainer_calendar == "not_invited":
        return ignored("trainer was not invited")
    if not _sender_ok(chosen, senders, settings):
        return ignored(NOT_ATTENDEE)
    if session.cancelled_at is not None:
        return ignored("session is cancelled")
    if chosen.partstat == "DELEGATED":
        return ignored("trainer delegated, not applied", "recorded")
    if state is None:
        return ignored(f"unknown answer {chosen.partstat or '(none)'}")
    dtstamp = item.dtstamp or message.date or received_at
    if session.trainer_response_dtstamp is not None:
        stored = (session.trainer_response_sequence or 0, session.trainer_response_dtstamp)
        if (item.sequence, dtstamp) < stored:
            return ignored(OLDER)
        if (item.sequence, dtstamp) == stored and state == session.trainer_calendar:
            return ignored(SAME)
    if item.sequence < session.sequence and item.dtstart not in (None, session.start):
        return ignored(EARLIER_TIME, "recorded")
    was = session.trainer_calendar
    session.trainer_calendar = state
    # A clock far ahead is not trusted (as for attendees).
    session.trainer_responded_at = dtstamp if dtstamp <= now + timedelta(hours=1) else received_at
    session.trainer_response_comment = item.comment
    session.trainer_response_sequence = item.sequence
    session.trainer_response_dtstamp = dtstamp
    session.updated_at = now
    session.save()
    if state == "declined" and was != "declined":
        _alert_organizer(session, trainer, item.comment, settings)
    return TrainerDecision("applied", TRAINER_NOTE, session.id, address, state)


def _alert_organizer(
    session: Session, trainer: Person, comment: str | None, settings: Settings
) -> None:
    """Mail the admins (the organizer's address) that the trainer declined."""
    organizer = Person(email=settings.organizer_email, name=settings.organizer_name)
    said = f'\n\nTheir comment: "{comment}"' if comment else ""
    mail_queue.enqueue(
        "trainer_declined",
        session,
        organizer,
        extra={
            "message": (
                f"{trainer.name} <{trainer.email}> declined the invitation to train "
                f"{session.title} (session {session.id}).{said}\n\n"
                "Assign another trainer in rollcall: open the session and press t."
            ),
        },
    )
