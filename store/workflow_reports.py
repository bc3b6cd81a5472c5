"""Reports of the booking workflow: requests by manager, offers taken or passed, time to fill."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any

import peewee

from store.models import Person, Session
from store.statuses import REQUEST_STATUSES
from store.workflow_models import ApprovalRequest, Offer

Row = dict[str, Any]


def _in_window(query: peewee.ModelSelect, since: date | None, until: date | None) -> Any:
    if since is not None:
        query = query.where(Session.start >= datetime.combine(since, time.min, UTC))
    if until is not None:
        query = query.where(Session.start <= datetime.combine(until, time.max, UTC))
    return query


def requests_by_manager(*, since: date | None = None, until: date | None = None) -> list[Row]:
    """Per manager: requests pending, approved, declined, expired (withdrawn ones too)."""
    query = _in_window(
        ApprovalRequest.select(
            ApprovalRequest.manager, ApprovalRequest.status, peewee.fn.COUNT(ApprovalRequest.id)
        )
        .join(Session, on=(ApprovalRequest.session == Session.id))
        .group_by(ApprovalRequest.manager, ApprovalRequest.status),
        since,
        until,
    )
    counts: dict[int | None, dict[str, int]] = {}
    for manager_id, status, count in query.tuples():
        counts.setdefault(manager_id, dict.fromkeys(REQUEST_STATUSES, 0))[status] = int(count)
    names = {
        p.id: p for p in Person.select().where(Person.id.in_([k for k in counts if k is not None]))
    }
    rows = []
    for manager_id, by_status in counts.items():
        manager = names.get(manager_id) if manager_id is not None else None
        rows.append(
            {
                "manager": manager.email if manager else None,
                "name": manager.name if manager else None,
                **by_status,
                "total": sum(by_status.values()),
            }
        )
    return sorted(rows, key=lambda r: (r["manager"] is None, r["manager"] or ""))


def _closed_offers(since: date | None, until: date | None) -> Any:
    return _in_window(
        Offer.select(Offer, Session)
        .join(Session, on=(Offer.session == Session.id))
        .where(Offer.outcome != "open"),
        since,
        until,
    )


def offers_summary(*, since: date | None = None, until: date | None = None) -> list[Row]:
    """Per session: offers made, taken, passed on, and the share taken."""
    rows: dict[int, Row] = {}
    for offer in _closed_offers(since, until):
        row = rows.setdefault(
            offer.session.id,
            {"session_id": offer.session.id, "title": offer.session.title, "taken": 0, "passed": 0},
        )
        row[offer.outcome] += 1
    for row in rows.values():
        total = row["taken"] + row["passed"]
        row["offers"] = total
        row["taken_rate"] = round(row["taken"] / total, 3) if total else None
    return sorted(rows.values(), key=lambda r: r["session_id"])


def time_to_fill(*, since: date | None = None, until: date | None = None) -> list[Row]:
    """Per freed place that was filled by an offer: hours from freeing to taking, and passes."""
    rows = []
    passes: dict[tuple[int, str], int] = {}
    offers = list(_closed_offers(since, until).order_by(Offer.id))
    for offer in offers:
        if offer.outcome == "passed":
            key = (offer.session.id, offer.freed_at.isoformat())
            passes[key] = passes.get(key, 0) + 1
    for offer in offers:
        if offer.outcome != "taken":
            continue
        hours = (offer.closed_at - offer.freed_at).total_seconds() / 3600
        rows.append(
            {
                "session_id": offer.session.id,
                "title": offer.session.title,
                "freed_at": offer.freed_at.isoformat(),
                "filled_at": offer.closed_at.isoformat(),
                "hours": round(hours, 2),
                "passed_before": passes.get((offer.session.id, offer.freed_at.isoformat()), 0),
            }
        )
    return rows


WORKFLOW_REPORTS: dict[str, tuple[str, Callable[..., list[Row]]]] = {
    "requests": ("Approval requests by manager", requests_by_manager),
    "offers": ("Offered places taken or passed on", offers_summary),
    "time-to-fill": ("Time to fill a freed place", time_to_fill),
}
