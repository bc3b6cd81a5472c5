"""Whether a calendar reply applies, decided from facts alone (rules P1-P8 of docs/itip-rules.md).

`decide` takes the message, the session and the enrolments it may concern as
plain values and returns the outcome with the change to make; reading those
facts and writing the change are the caller's (store/rsvp.py). No database here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.replydata import (
    NOT_CALENDAR,
    ReadMessage,
    ReplyAttendee,
    ReplyItem,
    normalize_address,
)
from store.settings import Settings

PARTSTAT_STATES = {"ACCEPTED": "accepted", "TENTATIVE": "tentative", "DECLINED": "declined"}
"""Answers that change the Calendar column."""

UNKNOWN_EVENT = "unknown event"
NOT_ATTENDEE = "sender is not the attendee"
OLDER = "older than the reply already applied"
SAME = "same as the reply already applied"
DUPLICATE = "duplicate message (this Message-ID was already handled)"
"""Also in the unique index of first handlings (migration 8): change both together."""
COUNTER = "counter proposal recorded, not applied"
DECLINECOUNTER = "decline of a counter proposal recorded, not applied"
EARLIER_TIME = "answers an earlier date/time of the session, recorded, not applied"
NOT_ON_SESSION = "attendee is not on this session"


@dataclass
class Decision:
    """What was done with a message: its outcome, why, and whom it concerned."""

    outcome: str
    reason: str | None = None
    session_id: int | None = None
    email: str | None = None
    calendar: str | None = None


@dataclass
class SessionFacts:
    """The facts of a session a reply is checked against."""

    id: int
    sequence: int
    start: datetime
    cancelled_at: datetime | None


@dataclass
class EnrolmentFacts:
    """The facts of an enrolment a reply may change."""

    id: int
    status: str
    calendar: str
    response_sequence: int | None
    response_dtstamp: datetime | None
    email: str


@dataclass(frozen=True)
class Change:
    """The calendar answer to store on an enrolment."""

    enrolment: EnrolmentFacts
    state: str
    responded: datetime
    sequence: int
    dtstamp: datetime
    note: str | None


def decide(
    message: ReadMessage,
    item: ReplyItem | None,
    settings: Settings,
    session: SessionFacts | None,
    enrolments: Mapping[str, EnrolmentFacts],
    received_at: datetime,
    now: datetime,
) -> tuple[Decision, Change | None]:
    """The outcome for one reply, and the change to store when it applies.

    `session` is the session whose UID the reply names (None when unknown);
    `enrolments` maps each normalised address of the reply's attendees to that
    person's enrolment on the session.
    """
    if message.problem and (item is None or message.problem != NOT_CALENDAR):
        return Decision("ignored", message.problem), None
    if item is None:
        return Decision("ignored", NOT_CALENDAR), None
    method = item.method
    sid = session.id if session is not None else None
    first = item.attendee
    if method in ("COUNTER", "DECLINECOUNTER"):
        reason = COUNTER if method == "COUNTER" else DECLINECOUNTER
        email = first_address(first)
        return Decision("recorded", reason, sid, email, state_name(first)), None
    if method == "REFRESH":
        return Decision("ignored", "refresh request, not a reply", sid), None
    if method != "REPLY":
        return Decision("ignored", NOT_CALENDAR, sid), None
    if session is None:
        return Decision(
            "ignored", UNKNOWN_EVENT, None, first_address(first), state_name(first)
        ), None
    if (
        item.recurrence_id
        and item.recurrence_start is not None
        and item.recurrence_start != session.start
    ):
        # Sessions do not recur: a reply naming another occurrence is not about this one.
        return Decision("ignored", f"answers another occurrence ({item.recurrence_id})", sid), None
    organizer = normalize_address(item.organizer)
    if organizer and organizer != normalize_address(settings.organizer_email):
        return Decision("ignored", f"organizer {organizer} is not this mailbox", sid), None
    if not item.attendees:
        return Decision("ignored", "no attendee in the reply", sid), None
    senders = {a for a in (message.from_address, message.sender_address) if a}
    chosen, enrolment = choose_attendee(item.attendees, enrolments, senders)
    if chosen is None or enrolment is None:
        return Decision(
            "ignored", NOT_ON_SESSION, sid, first_address(first), state_name(first)
        ), None
    email = normalize_address(enrolment.email)
    answer = state_name(chosen)
    decision = Decision("ignored", None, sid, email, answer)
    if enrolment.calendar == "not_invited":
        decision.reason = "attendee was not invited"
        return decision, None
    if not sender_ok(chosen, senders, settings):
        decision.reason = NOT_ATTENDEE
        return decision, None
    if session.cancelled_at is not None:
        decision.reason = "session is cancelled"
        return decision, None
    if enrolment.status == "cancelled":
        decision.reason = "enrolment is cancelled"
        return decision, None
    partstat = chosen.partstat or ""
    if partstat == "DELEGATED":
        to = f" to {chosen.delegated_to}" if chosen.delegated_to else ""
        decision.outcome, decision.reason = "recorded", f"delegated{to}, not applied"
        return decision, None
    state = PARTSTAT_STATES.get(partstat)
    if state is None:
        decision.reason = (
            "the reply carries no answer (NEEDS-ACTION)"
            if partstat == "NEEDS-ACTION"
            else f"unknown answer {partstat or '(none)'}"
        )
        return decision, None
    dtstamp = item.dtstamp or message.date or received_at
    sequence = item.sequence
    if enrolment.response_dtstamp is not None:
        stored = (enrolment.response_sequence or 0, enrolment.response_dtstamp)
        if (sequence, dtstamp) < stored:
            decision.reason = OLDER
            return decision, None
        if (sequence, dtstamp) == stored and state == enrolment.calendar:
            decision.reason = SAME
            return decision, None
    note = None
    if sequence < session.sequence:
        if item.dtstart is not None and item.dtstart != session.start:
            decision.outcome, decision.reason = "recorded", EARLIER_TIME
            return decision, None
        if item.dtstart is None:
            note = f"answers version {sequence} of the session (now {session.sequence})"
    # A reply's DTSTAMP is when the learner answered; a clock far ahead is not trusted.
    responded = dtstamp if dtstamp <= now + timedelta(hours=1) else received_at
    decision.outcome, decision.reason = "applied", note
    return decision, Change(enrolment, state, responded, sequence, dtstamp, note)


def choose_attendee(
    attendees: tuple[ReplyAttendee, ...],
    enrolments: Mapping[str, EnrolmentFacts],
    senders: set[str],
) -> tuple[ReplyAttendee | None, EnrolmentFacts | None]:
    """The attendee that is a person on the session, the sender's own one first."""
    ordered = sorted(attendees, key=lambda a: not (set(a.addresses()) & senders))
    for attendee in ordered:
        for addr in attendee.addresses():
            if addr in enrolments:
                return attendee, enrolments[addr]
    return None, None


def first_address(attendee: ReplyAttendee | None) -> str | None:
    """The first address of `attendee`, cut to a storable length."""
    if attendee is None:
        return None
    found = attendee.addresses()
    return found[0][:320] if found else None


def state_name(attendee: ReplyAttendee | None) -> str | None:
    """The answer of `attendee` as the Calendar column names it."""
    if attendee is None or not attendee.partstat:
        return None
    return PARTSTAT_STATES.get(attendee.partstat, attendee.partstat.lower()[:16])


def sender_ok(attendee: ReplyAttendee, senders: set[str], settings: Settings) -> bool:
    """P3: From/Sender is the attendee, its SENT-BY, or the same name in an alias domain."""
    addresses = set(attendee.addresses())
    if addresses & senders:
        return True
    if attendee.sent_by and attendee.sent_by in senders:
        return True
    aliases = {d.strip().lower().lstrip("@") for d in settings.alias_domains if d.strip()}
    if aliases:
        locals_ = {a.rpartition("@")[0] for a in addresses if "@" in a}
        for sender in senders:
            local, _, domain = sender.rpartition("@")
            if domain in aliases and local in locals_:
                return True
    return False
