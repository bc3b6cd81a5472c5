"""Reading sessions: status by the clock, filtered lists, enrolment counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict, Unpack
from zoneinfo import ZoneInfo

import peewee

from store import textkey, validate
from store.clock import utcnow
from store.date_search import split_date
from store.errors import RuleViolation, ValidationError
from store.models import Enrolment, Session
from store.paging import in_ids
from store.people import get_trainer
from store.settings import current_settings
from store.statuses import SESSION_STATUSES
from store.visibility import DIMENSIONS


def session_status(session: Session, now: datetime | None = None) -> str:
    """scheduled / in_progress / completed / cancelled, derived from the clock."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        return "cancelled"
    if session.finalised_at is not None or session.end <= now:
        return "completed"
    if session.start <= now:
        return "in_progress"
    return "scheduled"


def refuse_status(session: Session, status: str, refusals: dict[str, str]) -> None:
    """Refuse a change to `session` in a status `refusals` names, with the reason given for it.

    Raises `RuleViolation` on the ``session`` field: "session <id> <reason>".
    """
    reason = refusals.get(status)
    if reason is not None:
        raise RuleViolation(f"session {session.id} {reason}", field="session")


def status_condition(status: str, now: datetime) -> peewee.Expression:
    """A WHERE condition on `Session` matching one derived status."""
    live = Session.cancelled_at.is_null()
    if status == "cancelled":
        return Session.cancelled_at.is_null(False)
    if status == "completed":
        return live & (Session.finalised_at.is_null(False) | (Session.end <= now))
    open_ = live & Session.finalised_at.is_null()
    if status == "in_progress":
        return open_ & (Session.start <= now) & (Session.end > now)
    if status == "scheduled":
        return open_ & (Session.start > now)
    raise ValidationError(
        f"status must be one of {', '.join(SESSION_STATUSES)}, got {status!r}", field="status"
    )


NO_TRAINER = -1
"""The trainer filter's value for sessions nobody delivers yet."""


class SessionFilters(TypedDict, total=False):
    """The filters of a sessions list, each given as a keyword argument and None when unused."""

    status: str | None
    """A derived status (`SESSION_STATUSES`)."""
    trainer_id: int | None
    """The trainer's id, or `NO_TRAINER` for sessions nobody delivers yet."""
    search: str | None
    """Text and dates to look for (`search_condition`)."""
    start_from: datetime | None
    """The earliest start."""
    start_before: datetime | None
    """The start every session must come before."""


def filter_sessions(
    query: peewee.ModelSelect, now: datetime, filters: SessionFilters
) -> peewee.ModelSelect:
    """`query` on `Session` narrowed to the sessions matching `filters` at `now`."""
    start_from = filters.get("start_from")
    if start_from is not None:
        query = query.where(Session.start >= start_from)
    start_before = filters.get("start_before")
    if start_before is not None:
        query = query.where(Session.start < start_before)
    status = filters.get("status")
    if status:
        query = query.where(status_condition(status, now))
    trainer_id = filters.get("trainer_id")
    if trainer_id == NO_TRAINER:
        query = query.where(Session.trainer.is_null())
    elif trainer_id:
        query = query.where(Session.trainer == trainer_id)
    condition = search_condition(filters.get("search"), now)
    if condition is not None:
        query = query.where(condition)
    return query


def sessions_query(
    *, trainer: str | None = None, now: datetime | None = None, **filters: Unpack[SessionFilters]
) -> peewee.ModelSelect:
    """Sessions in start order, filtered by status, trainer email, a text search and start."""
    query = filter_sessions(
        Session.select().order_by(Session.start, Session.id), now or utcnow(), filters
    )
    if trainer:
        query = query.where(Session.trainer == get_trainer(trainer, field="trainer"))
    return query


def search_condition(
    search: str | None, now: datetime, zone: ZoneInfo | None = None
) -> peewee.Expression | None:
    """The WHERE condition of a sessions search: its text, and any date it names.

    A date ("3 Dec", "2026-12-03", "Dec") becomes a range on the indexed start
    column, in the site's zone, rather than a text match on formatted dates; the
    words around it are matched as text. A month named by its name alone may
    also be a word of a title ("Mar" in "Market"), so it matches either way.
    """
    text = validate.clean_text(search)
    if not text:
        return None
    zone = zone or current_settings().zone
    found = split_date(text, now.astimezone(zone).date())
    if found.span is None:
        return textkey.contains(Session.search_key, text)
    lower, upper = found.span.bounds(zone)
    condition = (Session.start >= lower) & (Session.start < upper)
    if found.text:
        condition &= textkey.contains(Session.search_key, found.text)
    if found.span.words_only:
        condition |= textkey.contains(Session.search_key, text)
    return condition


def counts_for(session_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Enrolment counts by status for each of `session_ids` in one query."""
    result: dict[int, dict[str, int]] = {sid: {} for sid in session_ids}
    if not session_ids:
        return result
    rows = (
        Enrolment.select(Enrolment.session, Enrolment.status, peewee.fn.COUNT(Enrolment.id))
        .where(in_ids(Enrolment.session, session_ids))
        .group_by(Enrolment.session, Enrolment.status)
        .tuples()
    )
    for sid, status, count in rows:
        result[sid][status] = count
    return result


def visibility_dimensions() -> tuple[str, ...]:
    """The visibility dimensions, re-exported for forms."""
    return DIMENSIONS
