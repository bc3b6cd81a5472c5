"""The tick: the status clock report and the reminders that are due."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from store.approvals import expire_requests
from store.clock import utcnow
from store.models import Session
from store.offers import expire_offers
from store.outbox import queue_reminders
from store.rows import json_fields
from store.session_queries import status_condition
from store.statuses import SESSION_STATUSES


@dataclass
class TickReport:
    """What one tick saw and did."""

    reminders: int = 0
    """Reminders queued in the outbox by this tick."""
    sessions: dict[str, int] = field(default_factory=dict)
    """Sessions per derived status at the tick's moment (status is derived, nothing stored)."""
    at: str = ""
    offers_passed: int = 0
    """Offers whose deadline went by, passed to the next in line."""
    requests_expired: int = 0
    """Manager-approval requests left unanswered until the expiry time."""

    def as_json(self) -> dict[str, object]:
        """The `tick --json` document."""
        return json_fields(self)


def tick(now: datetime | None = None, hours: int | None = None) -> TickReport:
    """Run the clock once: queue reminders that are due and count sessions by status.

    Session status follows the clock by itself (it is derived), so the clock
    has nothing to store; reminders go out `hours` (default: the configured
    ``reminder_hours``) before the start, once per enrolment.
    """
    now = now or utcnow()
    report = TickReport(at=now.isoformat())
    report.reminders = queue_reminders(now, hours)
    report.offers_passed = expire_offers(now)
    report.requests_expired = expire_requests(now)
    report.sessions = {
        status: Session.select().where(status_condition(status, now)).count()
        for status in SESSION_STATUSES
    }
    return report
